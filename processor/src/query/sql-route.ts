import type { Request, Response } from 'express';
import { ClickHouseError, type DataFormat } from '@clickhouse/client';
import type { StoreClients } from '../store/clickhouse.js';
import { isLoopback } from './loopback.js';

export interface SqlRouteOptions {
  store: StoreClients;
  token: string | undefined;
  maxQueryBytes: number;
}

/** Format used when the query has no FORMAT clause. */
export const DEFAULT_SQL_FORMAT = 'TabSeparatedWithNames';

const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * POST /sql: read-only SQL for users and tools, in embedded and server mode alike.
 * Body: the query as text, or JSON { "query": "...", "default_format": "JSONEachRow" }.
 * Only loopback clients unless RAGSCOPE_SQL_TOKEN is set (then `Authorization: Bearer <token>`).
 */
export function sqlRoute(options: SqlRouteOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    if (!authorized(req, options.token)) {
      res.status(options.token ? 401 : 403).json({
        error: options.token
          ? 'missing or wrong bearer token (Authorization: Bearer <RAGSCOPE_SQL_TOKEN>)'
          : 'the SQL endpoint only answers loopback clients unless RAGSCOPE_SQL_TOKEN is set',
      });
      return;
    }
    const parsed = await readQuery(req, options.maxQueryBytes);
    if ('error' in parsed) {
      res.status(parsed.status).json({ error: parsed.error });
      return;
    }
    try {
      const result = await options.store.reader.exec({
        query: parsed.query,
        clickhouse_settings: { ...options.store.readerQuerySettings, default_format: parsed.defaultFormat as DataFormat },
      });
      res.status(200).type('text/plain; charset=utf-8');
      for await (const chunk of result.stream) res.write(chunk);
      res.end();
    } catch (err) {
      const message = (err as Error).message;
      const status = err instanceof ClickHouseError && /readonly/i.test(message) ? 403 : 400;
      if (!res.headersSent) res.status(status).json({ error: message, code: (err as ClickHouseError).code });
      else res.end();
    }
  };
}

function authorized(req: Request, token: string | undefined): boolean {
  if (token) return req.get('authorization') === `Bearer ${token}`;
  return isLoopback(req.socket.remoteAddress);
}

type ParsedQuery = { query: string; defaultFormat: string } | { error: string; status: number };

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
  if (req.is('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { error: 'body is not valid JSON', status: 400 };
    }
    const b = body as { query?: unknown; default_format?: unknown };
    if (typeof b.query !== 'string') return { error: 'field "query" must be a string', status: 400 };
    query = b.query;
    if (b.default_format !== undefined) {
      if (typeof b.default_format !== 'string') return { error: 'field "default_format" must be a string', status: 400 };
      defaultFormat = b.default_format;
    }
  }
  if (query.trim() === '') return { error: 'empty query', status: 400 };
  if (!FORMAT_NAME.test(defaultFormat)) return { error: `invalid default_format "${defaultFormat}"`, status: 400 };
  return { query, defaultFormat };
}
