// GET /v1/export/{named query}?from=&to=&format=csv|json|parquet (+ the query's own parameters): a named query's
// answer as a file, streamed from the engine. Same access rule, concurrency admission, time-out, row, byte and
// memory limits as POST /sql (auth/read-scope.ts, sql-route.ts: acquireReader, streamAnswer; the stream readers carry
// the same reader settings). A tenant's read key exports its own tenant only (query/tenant-scope.ts).
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { DEFAULT_QUERIES_DIR, listNamedQueries, loadNamedQuery, resolveParams, type NamedQuery } from './named-queries.js';
import { tagQuery } from './sql-cancel.js';
import { acquireReader, streamAnswer, type SqlRouteOptions } from './sql-route.js';
import type { ReaderLease } from './reader-pool.js';
import { resolveReadScope, type ReadScope } from '../auth/read-scope.js';
import { fixedTenant, ScopeRefusal, type TenantFilter } from './tenant-scope.js';
import type { StoreClients } from '../store/clickhouse.js';

export interface ExportFormat {
  /** ClickHouse output format. */
  clickhouse: string;
  contentType: string;
  extension: string;
}

/** `format=`: CSV with a header row, JSON lines (one object per row), Parquet. */
export const EXPORT_FORMATS: Readonly<Record<string, ExportFormat>> = {
  csv: { clickhouse: 'CSVWithNames', contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  json: { clickhouse: 'JSONEachRow', contentType: 'application/x-ndjson; charset=utf-8', extension: 'jsonl' },
  parquet: { clickhouse: 'Parquet', contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
};

export const DEFAULT_EXPORT_FORMAT = 'csv';

export interface ExportRouteOptions extends SqlRouteOptions {
  /** The tenant filter a tenant scope reads under. */
  filter: TenantFilter;
  /** Where the named queries live (default clickhouse/queries). */
  queriesDir?: string;
}

/** URL query keys that are not query parameters. */
const RESERVED = new Set(['format']);

export class ExportRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A validated export request: the named query, its parameter values (as query-parameter text) and the format. */
export interface ExportRequest {
  query: NamedQuery;
  params: Record<string, unknown>;
  format: ExportFormat;
  filename: string;
}

/**
 * Reads the query name, format and parameters of an export request. Unknown query → 404 listing the names;
 * unknown format, unknown, repeated, missing or unparsable parameter → 400 naming it.
 */
export function parseExportRequest(
  name: string,
  url: Record<string, unknown>,
  dir: string = DEFAULT_QUERIES_DIR,
  scope: ReadScope = { kind: 'admin' },
): ExportRequest {
  const names = listNamedQueries(dir).map((q) => q.name);
  if (!names.includes(name)) throw new ExportRequestError(404, `no named query "${name}"`, { queries: names });
  const query = loadNamedQuery(name, dir);
  if (scope.kind === 'tenant') {
    if (!query.parameters.some((p) => p.name === 'tenant')) {
      throw new ScopeRefusal(`named query "${name}" is not tenant-scoped (it has no {tenant:String} parameter): only the admin may export it`);
    }
    url = { ...url, tenant: fixedTenant(scope, url.tenant) };
  }
  const formatName = url.format === undefined ? DEFAULT_EXPORT_FORMAT : url.format;
  if (typeof formatName !== 'string' || !(formatName in EXPORT_FORMATS)) {
    throw new ExportRequestError(400, `parameter "format" must be one of ${Object.keys(EXPORT_FORMATS).join(', ')}`, { parameter: 'format' });
  }
  const declared = new Map(query.parameters.map((p) => [p.name, p]));
  const given: Record<string, string> = {};
  for (const [key, value] of Object.entries(url)) {
    if (RESERVED.has(key)) continue;
    const p = declared.get(key);
    if (!p) {
      throw new ExportRequestError(400, `unknown parameter "${key}": ${name} takes ${[...declared.keys()].join(', ')}, and format`, { parameter: key });
    }
    if (typeof value !== 'string') throw new ExportRequestError(400, `parameter "${key}" is given more than once`, { parameter: key });
    given[key] = p.type === 'DateTime' ? dateTimeParam(key, value) : value;
  }
  const missing = query.parameters.find((p) => given[p.name] === undefined && p.default === undefined);
  if (missing) {
    throw new ExportRequestError(400, `missing parameter "${missing.name}" (${missing.type}) of ${name}`, { parameter: missing.name });
  }
  const format = EXPORT_FORMATS[formatName]!;
  const stamp = (key: string) => (given[key] ?? '').replace(/[^0-9]/g, '').slice(0, 12);
  const range = ['from', 'to'].filter((k) => given[k] !== undefined).map(stamp).join('-');
  return { query, params: resolveParams(query, given), format, filename: `${name}${range ? `_${range}` : ''}.${format.extension}` };
}

/** `from`/`to`: ISO 8601 (`2025-06-01T00:00:00Z`), `YYYY-MM-DD[ hh:mm:ss]` (UTC) or epoch seconds → engine text. */
function dateTimeParam(key: string, value: string): string {
  const v = value.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(v)) ms = Number(v) * 1000;
  else if (/^\d{4}-\d{2}-\d{2}$/.test(v)) ms = Date.parse(`${v}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v)) ms = Date.parse(`${v.replace(' ', 'T')}Z`);
  else ms = /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms >= 4_294_967_296_000) {
    throw new ExportRequestError(400, `parameter "${key}" must be a UTC time: ISO 8601 with a zone (2025-06-01T00:00:00Z), YYYY-MM-DD[ hh:mm:ss] or epoch seconds; got ${JSON.stringify(value)}`, {
      parameter: key,
    });
  }
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * THE one place a named query runs for an export: the query's SQL with its parameters bound by the engine, on the
 * lease's streaming reader, as bytes in `format`. Everything the caller may not choose (e.g. a tenant fixed by
 * its credentials) belongs here, applied to `params` before they are bound.
 *
 * Cancellation: a server finds the query by its tag (KILL QUERY, as for /sql) and stops it when the request is
 * aborted. The embedded engine lists a streamed query by its formatted text, without the tag comment, so there
 * the abort signal stops the stream between chunks and the failed lease closes the session.
 */
export async function streamNamedQuery(
  lease: ReaderLease,
  request: ExportRequest,
  id: string,
  signal: AbortSignal,
  tenantScope?: { store: StoreClients; settings: Record<string, string> },
): Promise<Readable> {
  const sql = tagQuery(request.query.sql, id);
  if (!tenantScope) {
    const reader = await lease.streamReader();
    return Readable.from(await reader.stream(sql, request.params, request.format.clickhouse, signal), { objectMode: false });
  }
  // A tenant reads under its row filter, preset on a reader of its own (embedded readonly=1 refuses it per query);
  // the /sql lease still counts it against RAGSCOPE_SQL_MAX_CONCURRENT.
  const reader = await tenantScope.store.openStreamReader(tenantScope.settings);
  const stream = Readable.from(await reader.stream(sql, request.params, request.format.clickhouse, signal), { objectMode: false });
  stream.once('close', () => reader.close());
  return stream;
}

export function exportRoute(options: ExportRouteOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const scope = resolveReadScope(options.access, req, res);
    if (!scope) return;
    let request: ExportRequest;
    try {
      request = parseExportRequest(String(req.params.name), req.query as Record<string, unknown>, options.queriesDir, scope);
    } catch (err) {
      if (err instanceof ScopeRefusal) {
        res.status(403).json({ error: err.message });
        return;
      }
      if (!(err instanceof ExportRequestError)) throw err;
      res.status(err.status).json({ error: err.message, ...err.details });
      return;
    }
    const tenantScope = scope.kind === 'tenant' ? { store: options.store, settings: options.filter.settingsFor(scope.tenant) } : undefined;
    const lease = acquireReader(res, options);
    if (!lease) return;
    let failed = true;
    try {
      failed = !(await streamAnswer(req, res, options, lease, {
        contentType: request.format.contentType,
        headers: { 'Content-Disposition': `attachment; filename="${request.filename}"` },
        start: (id, signal) => streamNamedQuery(lease, request, id, signal, tenantScope),
      }));
    } finally {
      await lease.release(failed);
    }
  };
}
