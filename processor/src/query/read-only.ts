import type { StoreClients } from '../store/clickhouse.js';

export interface ColumnMeta {
  name: string;
  type: string;
}

export interface ReadOnlyResult {
  meta: ColumnMeta[];
  rows: unknown[][];
}

export interface ReadOnlyQuery {
  query: string;
  /** ClickHouse query parameters ({name:Type} placeholders), sent apart from the SQL. */
  params?: Record<string, unknown>;
}

/** Settings a query may fix in its own SETTINGS clause on the read-only path: semantics only, never limits. */
const PRESETTABLE = new Set(['join_use_nulls']);
const SETTING = /\bSETTINGS\s+([a-z_]+)\s*=\s*(\d+)/gi;

/** The allowed settings the query's SETTINGS clauses set (a conflict is left to ClickHouse to reject). */
export function semanticSettings(sql: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of sql.matchAll(SETTING)) {
    const name = m[1]!.toLowerCase();
    if (PRESETTABLE.has(name) && !(name in out)) out[name] = Number(m[2]);
  }
  return out;
}

/**
 * One query on the store's read-only client with the same settings and limits as POST /sql, as
 * JSONCompact (column metadata + rows). The built-in dashboards read through this, so they never see
 * more than /sql would give.
 */
export async function queryReadOnly(store: StoreClients, q: ReadOnlyQuery, scopeSettings: Record<string, string> = {}): Promise<ReadOnlyResult> {
  // scopeSettings: a tenant's filter (query/tenant-scope.ts). Embedded mode: preset on a read-only session of
  // its own (readonly=1 refuses it per query); server mode: sent with the query (readonly=2 accepts it).
  const client = await store.readerWith({ ...semanticSettings(q.query), ...scopeSettings });
  const rs = await client.query({
    query: q.query,
    format: 'JSONCompact',
    query_params: q.params,
    clickhouse_settings: store.mode === 'server' ? { ...store.readerQuerySettings, ...scopeSettings } : store.readerQuerySettings,
  });
  const body = (await rs.json()) as unknown as { meta: ColumnMeta[]; data: unknown[][] };
  return { meta: body.meta, rows: body.data };
}
