// Server mode: a tenant's read keys become ClickHouse users whose every read is cut to the tenant's rows by
// row policies, created from the same keys file (`npm run keys -- sql`, or by the processor at start with
// RAGSCOPE_CLICKHOUSE_TENANT_USERS=apply). Any ClickHouse client, and Grafana (one data source per tenant,
// grafana/src/tenants.ts), can then be given to a tenant.
//
// The user's password IS the read key: ClickHouse's `sha256_hash` authentication stores hex(sha256(password)),
// exactly the keys file's key_sha256, so the file stays free of secrets and the processor never sees a key it
// did not receive. Per tenant: a role with SELECT on every table that has a TenantId column and on every view,
// and on each such table a permissive row policy `TenantId = '<tenant>'` for that role. Tables without a
// TenantId column (otel_traces_trace_id_ts, schema_migrations) are not granted. The profile is readonly = 2
// with the /sql limits as MAX constraints, so a tenant user can neither write nor raise a limit.
import type { ClickHouseClient } from '@clickhouse/client';
import { discoverTenantTables } from '../query/tenant-scope.js';
import { scopesOf, type ApiKeyEntry } from './api-keys.js';

export const TENANT_PROFILE = 'ragscope_tenant_reader';
export const ROLE_PREFIX = 'ragscope_tenant_';
export const USER_PREFIX = 'ragscope_key_';

export interface TenantLimits {
  timeoutSeconds: number;
  maxRows: number;
  maxResultBytes: number;
  maxMemoryBytes: number;
}

export interface TenancySchema {
  database: string;
  /** Tables with a TenantId column (query/tenant-scope.ts discoverTenantTables). */
  tenantTables: readonly string[];
  /** Views (plain and parameterized): they read the tables above with the reader's rights and policies. */
  views: readonly string[];
}

export interface TenancyOptions {
  limits: TenantLimits;
  /**
   * Users that keep reading every tenant once row policies exist (the processor's own user, an admin Grafana
   * user): ClickHouse shows a table with row policies only through a policy that names the user, unless the
   * server's users_without_row_policies_can_read_rows is on. Listed in one permissive `USING 1` policy.
   */
  unrestrictedUsers: readonly string[];
}

/** Backquoted identifier (tenants may hold . and -). */
export const ident = (name: string): string => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
const literal = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export const tenantRole = (tenant: string): string => `${ROLE_PREFIX}${tenant}`;

/** The ClickHouse user of one read key: tenant and the first 12 hex digits of the key's hash. */
export const keyUser = (entry: Pick<ApiKeyEntry, 'tenant' | 'key_sha256'>): string => `${USER_PREFIX}${entry.tenant}_${entry.key_sha256.slice(0, 12)}`;

/** The entries that read (scope `read`); ingest-only keys get no ClickHouse user. */
export const readEntries = (entries: readonly ApiKeyEntry[]): ApiKeyEntry[] => entries.filter((e) => scopesOf(e).includes('read'));

/**
 * Statements that make ClickHouse match the keys (idempotent; one statement per string, no trailing `;`).
 * `existingUsers`: the ragscope_key_* users on the server now (from system.users): those of revoked keys are
 * dropped. Without it (the SQL printed for a human) nothing is dropped and the header says so.
 */
export function tenancyStatements(entries: readonly ApiKeyEntry[], schema: TenancySchema, options: TenancyOptions, existingUsers?: readonly string[]): string[] {
  const readers = readEntries(entries);
  const tenants = [...new Set(readers.map((e) => e.tenant))].sort();
  const db = ident(schema.database);
  const { limits } = options;
  const out: string[] = [
    `CREATE SETTINGS PROFILE OR REPLACE ${ident(TENANT_PROFILE)} SETTINGS ` +
      [
        'readonly = 2',
        `max_execution_time = ${limits.timeoutSeconds} MAX ${limits.timeoutSeconds}`,
        `max_result_rows = ${limits.maxRows} MAX ${limits.maxRows}`,
        `max_result_bytes = ${limits.maxResultBytes} MAX ${limits.maxResultBytes}`,
        `max_memory_usage = ${limits.maxMemoryBytes} MAX ${limits.maxMemoryBytes}`,
        "result_overflow_mode = 'throw' CONST",
      ].join(', '),
  ];
  for (const tenant of tenants) {
    const role = ident(tenantRole(tenant));
    out.push(`CREATE ROLE IF NOT EXISTS ${role}`);
    for (const table of [...schema.tenantTables, ...schema.views]) out.push(`GRANT SELECT ON ${db}.${ident(table)} TO ${role}`);
    for (const table of schema.tenantTables) {
      out.push(`CREATE ROW POLICY OR REPLACE ${role} ON ${db}.${ident(table)} AS PERMISSIVE FOR SELECT USING TenantId = ${literal(tenant)} TO ${role}`);
    }
  }
  if (tenants.length > 0 && options.unrestrictedUsers.length > 0) {
    const to = options.unrestrictedUsers.map(ident).join(', ');
    for (const table of schema.tenantTables) out.push(`CREATE ROW POLICY OR REPLACE ragscope_unrestricted ON ${db}.${ident(table)} AS PERMISSIVE FOR SELECT USING 1 TO ${to}`);
  }
  const wanted = new Set<string>();
  for (const entry of readers) {
    const user = keyUser(entry);
    wanted.add(user);
    out.push(`CREATE USER OR REPLACE ${ident(user)} IDENTIFIED WITH sha256_hash BY ${literal(entry.key_sha256)} SETTINGS PROFILE ${ident(TENANT_PROFILE)}`);
    out.push(`GRANT ${ident(tenantRole(entry.tenant))} TO ${ident(user)}`);
    out.push(`ALTER USER ${ident(user)} DEFAULT ROLE ${ident(tenantRole(entry.tenant))}`);
  }
  for (const user of existingUsers ?? []) {
    if (user.startsWith(USER_PREFIX) && !wanted.has(user)) out.push(`DROP USER IF EXISTS ${ident(user)}`);
  }
  return out;
}

/** Views of the database (their names), for TenancySchema. */
export async function discoverViews(client: ClickHouseClient, database: string): Promise<string[]> {
  const rs = await client.query({
    query: "SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'View' ORDER BY name",
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ name: string }>()).map((r) => r.name);
}

/** Applies tenancyStatements on a server (the processor's user needs ACCESS MANAGEMENT); revoked keys' users dropped. */
export async function applyTenancy(
  client: ClickHouseClient,
  entries: readonly ApiKeyEntry[],
  schema: TenancySchema,
  options: TenancyOptions,
): Promise<number> {
  const rs = await client.query({ query: `SELECT name FROM system.users WHERE startsWith(name, {p:String})`, query_params: { p: USER_PREFIX }, format: 'JSONEachRow' });
  const existing = (await rs.json<{ name: string }>()).map((r) => r.name);
  const statements = tenancyStatements(entries, schema, options, existing);
  for (const query of statements) await client.command({ query });
  return statements.length;
}

/** The tables and views of `database` a tenant role is given. */
export async function tenancySchemaOf(client: ClickHouseClient, database: string): Promise<TenancySchema> {
  return { database, tenantTables: await discoverTenantTables(client, database), views: await discoverViews(client, database) };
}
