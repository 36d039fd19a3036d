import { randomUUID } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { ClickHouseError, type DataFormat } from '@clickhouse/client';
import type { StoreClients } from '../store/clickhouse.js';
import type { Logger } from '../logger.js';
import { resolveReadScope, type ReadAccess } from '../auth/read-scope.js';
import { checkParams, ParamError, paramsFromJson, paramsFromUrl, type QueryParams } from './sql-params.js';
import { killTaggedQuery, tagQuery } from './sql-cancel.js';
import type { ReaderLease, ReaderPool, SqlMetrics } from './reader-pool.js';
import { refuseForConcurrency } from './leased-queries.js';

export interface SqlRouteOptions {
  store: StoreClients;
  /** Who is asking (auth/read-scope.ts): free SQL is the admin's only. */
  access: ReadAccess;
  maxQueryBytes: number;
  /** Queries running at once, each on its own reader; a request past the limit gets 429 with Retry-After. */
  readers: ReaderPool;
  /** Bytes streamed back at most (server mode streams; the engine's max_result_bytes guards both modes). */
  maxResultBytes: number;
  retryAfterSeconds: number;
  metrics?: SqlMetrics;
  logger?: Logger;
  /** Cancel functions of the queries running now (the processor cancels them all when it stops). */
  active?: Set<(why: string) => void>;
}

/** Format used when the query has no FORMAT clause. */
export const DEFAULT_SQL_FORMAT = 'TabSeparatedWithNames';

const KILL_RETRY_MS = 500;

const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** Which setting to raise when the engine stops a query at one of the /sql limits. */
const LIMIT_HINTS: Record<string, string> = {
  '241': 'RAGSCOPE_SQL_MAX_MEMORY_BYTES',
  '396': 'RAGSCOPE_SQL_MAX_ROWS / RAGSCOPE_SQL_MAX_RESULT_BYTES',
  '159': 'RAGSCOPE_SQL_TIMEOUT_SECONDS',
};

/**
 * POST /sql: read-only SQL for users and tools, in embedded and server mode alike.
 * Body: the query as text, or JSON { "query": "...", "default_format": "JSONEachRow", "params": { "x": 1 } }.
 * Query parameters: `{x:UInt32}` in the SQL, `param_x=1` in the URL or `params` in the JSON body.
 * Only loopback clients unless RAGSCOPE_SQL_TOKEN is set (then `Authorization: Bearer <token>`).
 */
export function sqlRoute(options: SqlRouteOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const scope = resolveReadScope(options.access, req, res);
    if (!scope) return;
    if (scope.kind === 'tenant') {
      // Never a check of the SQL text: the embedded engine has no users or row policies, and an engine-side
      // filter does not fence free SQL (merge(), mergeTreeIndex(), system tables; query/tenant-scope.ts).
      res.status(403).json({
        error:
          `free SQL is the admin's (RAGSCOPE_SQL_TOKEN or loopback): a tenant key ("${scope.tenant}") reads through the named queries ` +
          '(GET /query/<name>) and the dashboards; in server mode, connect to ClickHouse as your tenant user (docs/tenancy.md)',
      });
      return;
    }
    const lease = acquireReader(res, options);
    if (!lease) return;
    let failed = true;
    try {
      failed = !(await runQuery(req, res, options, lease));
    } finally {
      await lease.release(failed);
    }
  };
}

/** The /sql concurrency admission: a reader lease, or undefined after answering 429 with Retry-After. */
export function acquireReader(res: Response, options: Pick<SqlRouteOptions, 'readers' | 'retryAfterSeconds'>): ReaderLease | undefined {
  const lease = options.readers.tryAcquire();
  if (!lease) refuseForConcurrency(res, options.readers.limit, options.retryAfterSeconds);
  return lease;
}

/** Answers one query on its leased reader; false when the engine failed or stopped it. */
async function runQuery(req: Request, res: Response, options: SqlRouteOptions, lease: ReaderLease): Promise<boolean> {
  const parsed = await readQuery(req, options.maxQueryBytes);
  if ('error' in parsed) {
    res.status(parsed.status).json({ error: parsed.error });
    return true;
  }
  const { store } = options;
  return streamAnswer(req, res, options, lease, {
    contentType: 'text/plain; charset=utf-8',
    start: async (id, abort) => {
      const reader = await lease.client();
      const result = await reader.exec({
        query: tagQuery(parsed.query, id),
        query_id: id,
        query_params: parsed.params,
        clickhouse_settings: { ...store.readerQuerySettings, default_format: parsed.defaultFormat as DataFormat },
        // Server mode: aborting the HTTP request makes the server cancel the query. The embedded engine would
        // only reject our promise and keep computing, so there the slot is held until KILL QUERY has stopped it.
        abort_signal: store.mode === 'server' ? abort : undefined,
      });
      return result.stream;
    },
  });
}

/** A query whose result is streamed to the client by streamAnswer. */
export interface StreamedQuery {
  /**
   * Starts the query with `id` in its leading tag comment (sql-cancel.ts) and resolves to its result bytes once
   * the engine has accepted it; rejects with the engine's error before any byte is sent.
   */
  start(id: string, abort: AbortSignal): Promise<Readable>;
  contentType: string;
  headers?: Record<string, string>;
}

/**
 * Runs a query on a leased reader and streams its result under the /sql limits: the result-byte cap, cancellation
 * in the engine when the client leaves or the processor stops, errors naming the limit to raise. False when the
 * engine failed or stopped it.
 */
export async function streamAnswer(req: Request, res: Response, options: SqlRouteOptions, lease: ReaderLease, query: StreamedQuery): Promise<boolean> {
  const { store } = options;
  const id = randomUUID();
  const abort = new AbortController();
  let cancelled = false;
  let cancelReason = '';
  let running = true;
  let rekill: NodeJS.Timeout | undefined;
  const kill = (): void => {
    killTaggedQuery(store.writer, id).catch((err: unknown) => options.logger?.warn({ err, queryId: id }, 'could not cancel /sql query'));
  };
  const cancel = (why: string): void => {
    if (cancelled) return;
    cancelled = true;
    cancelReason = why;
    abort.abort();
    options.metrics?.cancelled.inc();
    options.logger?.info({ queryId: id, why }, '/sql query cancelled');
    kill();
    // A KILL that lands before the engine has registered the query finds nothing: repeat until it ends.
    rekill = setInterval(() => (running ? kill() : clearInterval(rekill)), KILL_RETRY_MS);
    rekill.unref();
  };
  // A client that leaves before the answer is complete: stop the query in the engine.
  const onClose = (): void => {
    if (!res.writableFinished) cancel('client disconnected');
  };
  res.on('close', onClose);
  options.active?.add(cancel);
  try {
    if (req.socket.destroyed) return true;
    const stream = await query.start(id, abort.signal);
    if (cancelled) {
      stream.destroy();
      await lease.release(true);
      if (!res.destroyed) res.status(503).json({ error: `query cancelled: ${cancelReason}` });
      return false;
    }
    res.status(200).type(query.contentType);
    for (const [name, value] of Object.entries(query.headers ?? {})) res.set(name, value);
    try {
      await pipeline(stream, byteCap(options.maxResultBytes, () => cancel('result byte cap')), res, { end: false });
      // The reader is free before the client sees the end, so its next query finds a free slot.
      await lease.release(false);
      res.end();
    } catch (err) {
      // The client left or the cap was hit: the response cannot be completed; never end it as if whole.
      if (!res.destroyed) res.destroy(err as Error);
      return false;
    }
    return true;
  } catch (err) {
    if (cancelled) {
      // The client may still be there (the processor is stopping): tell it, or cut the unfinished answer.
      await lease.release(true);
      if (!res.headersSent && !res.destroyed) res.status(503).json({ error: `query cancelled: ${cancelReason}` });
      else res.destroy();
      return false;
    }
    const message = (err as Error).message;
    // The embedded engine's streaming errors carry the ClickHouse code only in their text ("Code: 241. ...").
    const code = (err as ClickHouseError).code !== undefined && /^\d+$/.test(String((err as ClickHouseError).code)) ? (err as ClickHouseError).code : /\bCode: (\d+)\./.exec(message)?.[1];
    const status = /readonly/i.test(message) && (err instanceof ClickHouseError || code === '164') ? 403 : 400;
    const hint = code !== undefined ? LIMIT_HINTS[code] : undefined;
    await lease.release(true);
    if (!res.headersSent) res.status(status).json({ error: message, code, ...(hint ? { limit: hint } : {}) });
    else res.destroy();
    return false;
  } finally {
    running = false;
    options.active?.delete(cancel);
    if (rekill) clearInterval(rekill);
    res.off('close', onClose);
  }
}

/** Passes bytes through until `maxBytes`, then fails the stream (the query is cancelled by `onExceeded`). */
function byteCap(maxBytes: number, onExceeded: () => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        onExceeded();
        callback(new Error(`result exceeds ${maxBytes} bytes (RAGSCOPE_SQL_MAX_RESULT_BYTES)`));
        return;
      }
      callback(null, chunk);
    },
  });
}

type ParsedQuery = { query: string; defaultFormat: string; params: QueryParams } | { error: string; status: number };

async function readQuery(req: Request, maxBytes: number): Promise<ParsedQuery> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return { error: `query larger than ${maxBytes} bytes`, status: 413 };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let query = text;
  let defaultFormat = typeof req.query.default_format === 'string' ? req.query.default_format : DEFAULT_SQL_FORMAT;
  let params: QueryParams;
  try {
    params = paramsFromUrl(req.query as Record<string, unknown>);
    if (req.is('application/json')) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { error: 'body is not valid JSON', status: 400 };
      }
      const b = body as { query?: unknown; default_format?: unknown; params?: unknown };
      if (typeof b.query !== 'string') return { error: 'field "query" must be a string', status: 400 };
      query = b.query;
      if (b.default_format !== undefined) {
        if (typeof b.default_format !== 'string') return { error: 'field "default_format" must be a string', status: 400 };
        defaultFormat = b.default_format;
      }
      params = { ...params, ...paramsFromJson(b.params) };
    }
    if (query.trim() === '') return { error: 'empty query', status: 400 };
    checkParams(query, params);
  } catch (err) {
    if (err instanceof ParamError) return { error: err.message, status: 400 };
    throw err;
  }
  if (!FORMAT_NAME.test(defaultFormat)) return { error: `invalid default_format "${defaultFormat}"`, status: 400 };
  return { query, defaultFormat, params };
}
