// Tenant-scoped reading in the processor (both store modes). A tenant credential never runs its own SQL here:
// it gets server-defined SQL only (named queries, the dashboards' panels and variables, the trace page), with
// the tenant parameter fixed by the server, and every such query runs with the engine's
// `additional_table_filters` = `TenantId = '<tenant>'` on every table that has a TenantId column, so a query
// that forgot its tenant condition still reads only that tenant's rows (views are expanded to their tables,
// so they are filtered too). The filter is no fence for free SQL: `merge()` and `mergeTreeIndex()` read
// around it and system tables are not filtered (tests/processor/tenant-reading.test.ts shows it), which is why
// free SQL stays with the admin in embedded mode (docs/tenancy.md).
import type { ClickHouseClient } from '@clickhouse/client';
import type { ReadScope } from '../auth/read-scope.js';
import { loadNamedQuery, resolveParams, type NamedQuery, type ParamValue } from './named-queries.js';

/** A refusal to show to the client as 403, naming why. */
export class ScopeRefusal extends Error {}

/** Tables (not views) of `database` that have a TenantId column: what a tenant filter must cover. */
export async function discoverTenantTables(client: ClickHouseClient, database: string): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT c.table AS table FROM system.columns AS c
            INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
            WHERE c.database = {db:String} AND c.name = 'TenantId' AND t.engine NOT IN ('View', 'MaterializedView')
            ORDER BY table`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ table: string }>()).map((r) => r.table);
}

const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class TenantFilter {
  constructor(
    readonly database: string,
    readonly tables: readonly string[],
  ) {}

  /** The engine settings that restrict every read of a tenant table to `tenant`'s rows. */
  settingsFor(tenant: string): { additional_table_filters: string } {
    const filter = `TenantId = ${quote(tenant)}`;
    const entries = this.tables.map((t) => `${quote(`${this.database}.${t}`)}: ${quote(filter)}`);
    return { additional_table_filters: `{${entries.join(', ')}}` };
  }

  /** settingsFor the scope's tenant; nothing for the admin. */
  settings(scope: ReadScope): Record<string, string> {
    return scope.kind === 'tenant' ? this.settingsFor(scope.tenant) : {};
  }
}

/**
 * The tenant parameter a scope may use: the admin's choice, or the tenant's own. A tenant naming another
 * tenant is refused rather than silently answered for its own, so a mistake is visible.
 */
export function fixedTenant(scope: ReadScope, asked: unknown): string | undefined {
  if (scope.kind === 'admin') return typeof asked === 'string' ? asked : undefined;
  if (asked !== undefined && asked !== scope.tenant) {
    throw new ScopeRefusal(`tenant is fixed by your credential to "${scope.tenant}"; "${String(asked)}" cannot be read with it`);
  }
  return scope.tenant;
}

export interface ScopedNamedQuery {
  query: NamedQuery;
  params: Record<string, unknown>;
  settings: Record<string, string>;
}

/**
 * A named query ready to run for `scope`: its parameters resolved, the tenant fixed for a tenant scope, and
 * the tenant filter settings. Every route that runs named queries (GET /query/<name>, an export route) calls
 * this; a named query without a {tenant:String} parameter is admin-only.
 */
export function scopedNamedQuery(
  scope: ReadScope,
  name: string,
  given: Record<string, ParamValue | undefined>,
  filter: TenantFilter,
  dir?: string,
): ScopedNamedQuery {
  const query = loadNamedQuery(name, dir);
  const params = { ...given };
  if (scope.kind === 'tenant') {
    if (!query.parameters.some((p) => p.name === 'tenant')) {
      throw new ScopeRefusal(`named query "${name}" is not tenant-scoped (it has no {tenant:String} parameter): only the admin may run it`);
    }
    params.tenant = fixedTenant(scope, given.tenant);
  }
  return { query, params: resolveParams(query, params), settings: filter.settings(scope) };
}
