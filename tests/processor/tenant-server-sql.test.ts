// Server mode tenancy, as far as it can be checked without a ClickHouse server or Grafana (no Docker here): the
// SQL generated from a keys file (users, roles, row policies, limits profile) is parsed statement by statement
// by the embedded engine's own parser (formatQuery), against the real schema the migrations create, and its
// structure is checked: every table with a TenantId column has each tenant's row policy, nothing without one
// is granted, users exist for read keys only and authenticate with the key (sha256_hash = key_sha256). The
// per-tenant Grafana provisioning is checked for structure. NOT run here: applying the SQL on a server and
// reading through the users, and Grafana signing in (docs/tenancy.md says so too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashKey, type ApiKeyEntry } from '../../processor/src/auth/api-keys.js';
import { keyUser, tenancySchemaOf, tenancyStatements, tenantRole, type TenancySchema } from '../../processor/src/auth/server-tenancy.js';
import { loadConfig } from '../../processor/src/config.js';
import { openStore, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { migrate } from '../../processor/src/store/migrations.js';
import { DATASOURCE } from '../../grafana/src/clickhouse.js';
import { tenantDashboardProviders, tenantDatasourceProvisioning, tenantPasswordEnv, TenantProvisioningError } from '../../grafana/src/tenants.js';
import { stringify } from 'yaml';

const dir = mkdtempSync(join(tmpdir(), 'ragscope-tenant-sql-'));
let store: StoreClients;
let schema: TenancySchema;

const KEYS = { aRead: 'a-read-key', aGrafana: 'a-grafana-key', aIngest: 'a-ingest-key', bRead: 'b-read-key', dotted: 'dotted-read-key' };
const entries: ApiKeyEntry[] = [
  { tenant: 'team-a', key_sha256: hashKey(KEYS.aRead), scopes: ['read'] },
  { tenant: 'team-a', key_sha256: hashKey(KEYS.aGrafana), name: 'grafana', scopes: ['ingest', 'read'] },
  { tenant: 'team-a', key_sha256: hashKey(KEYS.aIngest) },
  { tenant: 'team-b', key_sha256: hashKey(KEYS.bRead), scopes: ['read'] },
  { tenant: 'org.x-1', key_sha256: hashKey(KEYS.dotted), scopes: ['read'] },
];
const limits = { timeoutSeconds: 30, maxRows: 100_000, maxResultBytes: 1 << 26, maxMemoryBytes: 1 << 29 };

beforeAll(async () => {
  store = await openStore(loadConfig({ RAGSCOPE_DATA_DIR: join(dir, 'data') }), { ...limits });
  await migrate(store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });
  schema = await tenancySchemaOf(store.writer, store.database);
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function formatted(sql: string): Promise<string> {
  const rs = await store.writer.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: sql }, format: 'JSONEachRow' });
  return (await rs.json<{ f: string }>())[0]!.f;
}

describe('server-mode SQL from the keys file', () => {
  it('covers every table with a TenantId column and every view, and nothing else', async () => {
    expect(schema.tenantTables).toEqual(expect.arrayContaining(['otel_traces', 'otel_logs', 'genai_spans', 'usage_cost_hourly', 'request_rollup', 'feedback', 'evaluations']));
    expect(schema.views).toEqual(expect.arrayContaining(['requests', 'feedback_latest', 'feedback_in_range', 'usage_cost_daily']));
    expect(schema.tenantTables).not.toContain('otel_traces_trace_id_ts');
    const all = await store.writer.query({ query: "SELECT name, engine FROM system.tables WHERE database = currentDatabase()", format: 'JSONEachRow' });
    const tables = await all.json<{ name: string; engine: string }>();
    const withTenant = await (await store.writer.query({ query: "SELECT DISTINCT table FROM system.columns WHERE database = currentDatabase() AND name = 'TenantId'", format: 'JSONEachRow' })).json<{ table: string }>();
    const expectedTables = tables.filter((t) => !/View$/.test(t.engine) && withTenant.some((w) => w.table === t.name)).map((t) => t.name).sort();
    expect([...schema.tenantTables].sort()).toEqual(expectedTables);
    expect([...schema.views].sort()).toEqual(tables.filter((t) => t.engine === 'View').map((t) => t.name).sort());
  });

  it('every statement parses in ClickHouse, and the policies, grants, users and profile say what they must', async () => {
    const statements = tenancyStatements(entries, schema, { limits, unrestrictedUsers: ['default'] }, ['ragscope_key_team-a_000000000000', 'someone_else']);
    expect(statements.length).toBeGreaterThan(20);
    const parsed: string[] = [];
    for (const s of statements) parsed.push(await formatted(s));
    const db = store.database;
    for (const tenant of ['team-a', 'team-b', 'org.x-1']) {
      const role = tenantRole(tenant);
      for (const table of schema.tenantTables) {
        expect(parsed).toContain(`CREATE ROW POLICY OR REPLACE \`${role}\` ON ${db}.${table} AS PERMISSIVE FOR SELECT USING TenantId = '${tenant}' TO \`${role}\``);
      }
      const granted = parsed.filter((p) => p.startsWith('GRANT SELECT ON') && p.endsWith(`TO \`${role}\``)).map((p) => /ON \w+\.(\w+)/.exec(p)![1]);
      expect(granted.sort()).toEqual([...schema.tenantTables, ...schema.views].sort());
    }
    // Users: read keys only, the key's hash as the password hash (the key itself is the password), the tenant's role.
    const users = parsed.filter((p) => p.startsWith('CREATE USER'));
    expect(users).toHaveLength(4);
    for (const e of entries.filter((x) => x.scopes?.includes('read'))) {
      const user = keyUser(e);
      expect(users.some((u) => u.includes(`\`${user}\``) && u.includes(`IDENTIFIED WITH sha256_hash BY '${e.key_sha256}'`) && u.includes('SETTINGS PROFILE `ragscope_tenant_reader`'))).toBe(true);
      expect(parsed).toContain(`ALTER USER \`${user}\` DEFAULT ROLE \`${tenantRole(e.tenant)}\``);
    }
    expect(users.some((u) => u.includes(hashKey(KEYS.aIngest)))).toBe(false);
    // A revoked key's user is dropped; users ragscope did not make are left alone.
    expect(parsed).toContain('DROP USER IF EXISTS `ragscope_key_team-a_000000000000`');
    expect(parsed.some((p) => p.includes('someone_else'))).toBe(false);
    // The profile: read-only and the /sql limits as ceilings a tenant cannot raise.
    const profile = parsed.find((p) => p.startsWith('CREATE SETTINGS PROFILE'))!;
    expect(profile).toContain('readonly = 2');
    expect(profile).toContain(`max_execution_time = ${limits.timeoutSeconds} MAX ${limits.timeoutSeconds}`);
    expect(profile).toContain(`max_result_rows = ${limits.maxRows} MAX ${limits.maxRows}`);
    expect(profile).toContain(`max_memory_usage = ${limits.maxMemoryBytes} MAX ${limits.maxMemoryBytes}`);
    // The admin users keep seeing every tenant if the server does not let users without a policy read.
    expect(parsed.find((p) => p.startsWith(`CREATE ROW POLICY OR REPLACE ragscope_unrestricted ON ${db}.genai_spans `))).toMatch(/AS PERMISSIVE FOR SELECT USING 1 TO `?default`?$/);
  });

  it('the embedded engine refuses the same SQL (it has no access management): printing is all it can do', async () => {
    const [profile] = tenancyStatements(entries, schema, { limits, unrestrictedUsers: [] });
    await expect(store.writer.command({ query: profile! })).rejects.toThrow(/privileges|SETTINGS PROFILE/i);
  });
});

describe('Grafana: one organization per tenant', () => {
  it('gives each tenant org the ragscope data source uid, signed in as its ClickHouse user with the key from the environment', () => {
    const orgs = [
      { tenant: 'team-a', orgId: 2 },
      { tenant: 'team-b', orgId: 3 },
    ];
    const file = parse(stringify(tenantDatasourceProvisioning(entries, orgs, limits.timeoutSeconds))) as {
      apiVersion: number;
      datasources: Array<{ uid: string; orgId: number; type: string; jsonData: { username: string; queryTimeout: string }; secureJsonData: { password: string } }>;
    };
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(2);
    const [a, b] = file.datasources;
    expect(a).toMatchObject({ uid: DATASOURCE.uid, type: DATASOURCE.type, orgId: 2, jsonData: { username: keyUser(entries[1]!) }, secureJsonData: { password: '$RAGSCOPE_GRAFANA_KEY_TEAM_A' } });
    expect(b).toMatchObject({ uid: DATASOURCE.uid, orgId: 3, jsonData: { username: keyUser(entries[3]!) }, secureJsonData: { password: `$${tenantPasswordEnv('team-b')}` } });
    // The plugin sends queryTimeout as max_execution_time: it must stay within the profile's ceiling.
    for (const d of file.datasources) expect(Number(d.jsonData.queryTimeout)).toBeLessThanOrEqual(limits.timeoutSeconds);
    const providers = tenantDashboardProviders(orgs).providers;
    expect(providers.map((p) => [p.name, p.orgId])).toEqual([
      ['ragscope-team-a', 2],
      ['ragscope-team-b', 3],
    ]);
  });

  it('refuses a shared organization, organization 1, and a tenant without a read key, naming them', () => {
    expect(() => tenantDatasourceProvisioning(entries, [{ tenant: 'team-a', orgId: 2 }, { tenant: 'team-b', orgId: 2 }], 30)).toThrow(/"team-a" and "team-b" share organization 2/);
    expect(() => tenantDatasourceProvisioning(entries, [{ tenant: 'team-a', orgId: 1 }], 30)).toThrow(TenantProvisioningError);
    expect(() => tenantDatasourceProvisioning(entries, [{ tenant: 'team-z', orgId: 4 }], 30)).toThrow(/tenant "team-z" has no key with scope "read"/);
  });
});
