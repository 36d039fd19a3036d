// Tenant-scoped reading through every door a tenant credential has, on a real processor (ephemeral port,
// embedded ClickHouse): two tenants send spans, logs and feedback over OTLP/HTTP with their ingest keys; every
// table stores them under the key's tenant (otel_traces and otel_logs included). Tenant A's read key then tries
// to read B's rows through POST /sql (every kind of SQL), the named-query endpoint, the dashboards' variable,
// panel and trace endpoints and a dashboard session cookie: each is refused with a 403 naming why, or answers
// A's rows only (and the A answers are asserted non-empty, so the test can fail). A revoked read key is
// refused without a restart. Why free SQL stays with the admin in embedded mode is shown too: the engine's
// table filter, which backs the server-defined SQL, is read around by merge(), and chdb has no users or policies.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, type KeyScope } from '../../processor/src/auth/api-keys.js';
import { queryReadOnly } from '../../processor/src/query/read-only.js';
import { discoverTenantTables, TenantFilter } from '../../processor/src/query/tenant-scope.js';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, spanIdOf, traceIdOf, tracesRequest } from '../helpers/otlp-json.js';

const INGEST_A = 'ingest-key-team-a-0123456789';
const INGEST_B = 'ingest-key-team-b-0123456789';
const READ_A = 'read-key-team-a-0123456789';
const READ_B = 'read-key-team-b-0123456789';
const KEYS: { tenant: string; key: string; scopes?: KeyScope[] }[] = [
  { tenant: 'team-a', key: INGEST_A },
  { tenant: 'team-b', key: INGEST_B },
  { tenant: 'team-a', key: READ_A, scopes: ['read'] },
  { tenant: 'team-b', key: READ_B, scopes: ['read'] },
];
const A = { tenant: 'team-a', service: 'svc-alpha', model: 'gpt-4o-mini', traces: [traceIdOf(0xa1), traceIdOf(0xa2)] };
const B = { tenant: 'team-b', service: 'svc-bravo', model: 'gpt-4.1-nano', traces: [traceIdOf(0xb1), traceIdOf(0xb2)] };
const DAY = 86_400_000;

let proc: TestProcessor;
let keysFile: string;
let range: { from: number; to: number };

function writeKeys(entries: typeof KEYS): void {
  const tmp = `${keysFile}.tmp`;
  const keys = entries.map((e) => ({ tenant: e.tenant, key_sha256: hashKey(e.key), ...(e.scopes ? { scopes: e.scopes } : {}) }));
  writeFileSync(tmp, JSON.stringify({ keys }));
  renameSync(tmp, keysFile);
}

const asKey = (key: string) => ({ authorization: `Bearer ${key}` });
const get = (path: string, headers: Record<string, string> = {}) => fetch(proc.url + path, { headers });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(proc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function logsRequest(service: string, traceId: string, startMs: number): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [
          {
            scope: { name: 'ragscope-tests' },
            logRecords: [{ timeUnixNano: String(BigInt(startMs) * 1_000_000n), severityText: 'INFO', body: { stringValue: `log of ${service}` }, traceId, spanId: spanIdOf(1) }],
          },
        ],
      },
    ],
  });
}

async function sendTenantData(t: typeof A, ingestKey: string, base: number): Promise<void> {
  const start = testNow() - 3_600_000;
  const spans = t.traces.flatMap((traceId, i) => [
    { traceId, spanId: spanIdOf(base + i * 2), name: 'rag.request', startMs: start + i * 1000, durationMs: 900 },
    { traceId, spanId: spanIdOf(base + i * 2 + 1), parentSpanId: spanIdOf(base + i * 2), name: `chat ${t.model}`, startMs: start + i * 1000 + 100, durationMs: 500, attributes: chatAttributes(1000, 100, t.model) },
  ]);
  expect((await post('/v1/traces', tracesRequest(spans, t.service), asKey(ingestKey))).status).toBe(200);
  expect((await post('/v1/logs', logsRequest(t.service, t.traces[0]!, start), asKey(ingestKey))).status).toBe(200);
  const fb = await post('/v1/feedback', { trace_id: t.traces[0], thumbs: 'down', comment: `feedback of ${t.tenant}` }, asKey(ingestKey));
  expect(fb.status).toBe(201);
}

/** Fails when `text` shows anything of tenant B. */
function expectNothingOfB(text: string): void {
  for (const marker of [B.tenant, B.service, B.model, ...B.traces]) expect(text).not.toContain(marker);
}

beforeAll(async () => {
  keysFile = join(mkdtempSync(join(tmpdir(), 'ragscope-read-keys-')), 'keys.json');
  writeKeys(KEYS);
  proc = await startProcessor({ RAGSCOPE_API_KEYS_FILE: keysFile });
  await sendTenantData(A, INGEST_A, 0x100);
  await sendTenantData(B, INGEST_B, 0x200);
  expect((await post('/v1/flush', '')).status).toBe(200);
  range = { from: testNow() - 2 * DAY, to: testNow() + DAY };
});

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
});

describe('writing: every table holds the key tenant', () => {
  it('otel_traces, otel_logs, genai_spans and the rollups store each tenant under its key', async () => {
    for (const table of ['otel_traces', 'otel_logs', 'genai_spans', 'request_rollup', 'request_facts', 'usage_cost_daily', 'feedback']) {
      const rows = await proc.query<{ TenantId: string; n: string }>(`SELECT TenantId, count() AS n FROM ${table} GROUP BY TenantId ORDER BY TenantId`);
      expect(rows.map((r) => r.TenantId), table).toEqual(['team-a', 'team-b']);
      for (const r of rows) expect(Number(r.n), table).toBeGreaterThan(0);
    }
    for (const [t, traces] of [[A.tenant, A.traces], [B.tenant, B.traces]] as const) {
      const spans = await proc.query<{ TenantId: string }>(`SELECT DISTINCT TenantId FROM otel_traces WHERE TraceId IN ('${traces.join("','")}')`);
      expect(spans).toEqual([{ TenantId: t }]);
      const logs = await proc.query<{ TenantId: string }>(`SELECT DISTINCT TenantId FROM otel_logs WHERE TraceId = '${traces[0]}'`);
      expect(logs).toEqual([{ TenantId: t }]);
    }
    // Every table the tenant filter covers holds only the two tenants' rows (no default tenant anywhere).
    const tables = await discoverTenantTables(proc.processor.store.writer, proc.processor.store.database);
    expect(tables).toEqual(expect.arrayContaining(['otel_traces', 'otel_logs', 'genai_spans', 'feedback', 'evaluations', 'usage_cost_hourly', 'request_rollup']));
    expect(tables).not.toContain('usage_cost_daily'); // a view since 0031: filtered through usage_cost_hourly
    for (const table of tables) {
      const tenants = await proc.query<{ TenantId: string }>(`SELECT DISTINCT TenantId FROM ${table}`);
      for (const r of tenants) expect(['team-a', 'team-b'], table).toContain(r.TenantId);
    }
  });

  it('a read key cannot send telemetry', async () => {
    const res = await post('/v1/traces', tracesRequest([]), asKey(READ_A));
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json())).toMatch(/may only read/);
  });
});

describe('POST /sql: free SQL is the admin\'s', () => {
  const attempts: Array<{ what: string; body: string; path?: string; json?: boolean }> = [
    { what: 'direct table', body: `SELECT * FROM otel_traces WHERE TenantId = '${B.tenant}'` },
    { what: 'rollup', body: 'SELECT TenantId, sum(Calls) FROM usage_cost_daily GROUP BY TenantId' },
    { what: 'view', body: 'SELECT * FROM feedback_latest' },
    { what: 'parameterized view', body: `SELECT * FROM requests(tenant = '${B.tenant}', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00')` },
    { what: 'system table', body: 'SELECT * FROM system.tables' },
    { what: 'join', body: 'SELECT * FROM genai_spans AS g INNER JOIN otel_traces AS t ON g.TraceId = t.TraceId' },
    { what: 'subquery', body: `SELECT * FROM (SELECT * FROM genai_spans) WHERE TraceId IN (SELECT TraceId FROM otel_logs)` },
    { what: 'table function merge()', body: "SELECT * FROM merge(currentDatabase(), '^genai_spans$')" },
    { what: 'table function mergeTreeIndex()', body: "SELECT * FROM mergeTreeIndex(currentDatabase(), 'genai_spans', with_marks = true)" },
    { what: 'settings', body: "SELECT * FROM genai_spans SETTINGS additional_table_filters = {}, readonly = 0" },
    { what: 'URL parameter', body: 'SELECT * FROM genai_spans WHERE TenantId = {tenant:String}', path: `/sql?param_tenant=${B.tenant}` },
    { what: 'JSON body with params', body: JSON.stringify({ query: 'SELECT * FROM genai_spans WHERE TenantId = {tenant:String}', params: { tenant: B.tenant } }), json: true },
  ];

  it('refuses every query from a tenant read key with 403 naming why, whatever the SQL', async () => {
    expect(attempts.length).toBeGreaterThan(0);
    for (const a of attempts) {
      for (const headers of [asKey(READ_A), { 'x-api-key': READ_A }]) {
        const res = await fetch(proc.url + (a.path ?? '/sql'), { method: 'POST', headers: { 'content-type': a.json ? 'application/json' : 'text/plain', ...headers }, body: a.body });
        const text = await res.text();
        expect(res.status, a.what).toBe(403);
        expect(text, a.what).toMatch(/free SQL is the admin's/);
        expectNothingOfB(text);
      }
    }
  });

  it('refuses an ingest key and an unknown key with 401, and still answers the admin (loopback)', async () => {
    for (const key of [INGEST_A, 'no-such-key']) {
      const res = await post('/sql', 'SELECT 1', asKey(key));
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatch(/unknown read credential/);
    }
    const admin = await fetch(`${proc.url}/sql?default_format=JSONEachRow`, { method: 'POST', body: 'SELECT DISTINCT TenantId FROM otel_traces ORDER BY TenantId' });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toBe('{"TenantId":"team-a"}\n{"TenantId":"team-b"}\n');
  });

  it('why: the engine filter that backs server-defined SQL is no fence for free SQL, and chdb has no users or row policies', async () => {
    const { store } = proc.processor;
    const filter = new TenantFilter(store.database, await discoverTenantTables(store.writer, store.database));
    const scoped = filter.settingsFor(A.tenant);
    const direct = await queryReadOnly(store, { query: 'SELECT DISTINCT TenantId FROM genai_spans' }, scoped);
    expect(direct.rows).toEqual([[A.tenant]]);
    const around = await queryReadOnly(store, { query: "SELECT DISTINCT TenantId FROM merge(currentDatabase(), '^genai_spans$') ORDER BY TenantId" }, scoped);
    expect(around.rows).toEqual([[A.tenant], [B.tenant]]);
    await expect(store.writer.command({ query: "CREATE USER ragscope_probe IDENTIFIED WITH sha256_hash BY '00'" })).rejects.toThrow(/CREATE USER/);
    await expect(store.writer.command({ query: `CREATE ROW POLICY ragscope_probe ON ${store.database}.genai_spans USING TenantId = 'x' TO ALL` })).rejects.toThrow(/ROW POLICY/);
  });
});

describe('named queries: the tenant is fixed by the server', () => {
  const params = () =>
    new URLSearchParams({ from: new Date(range.from).toISOString().slice(0, 19).replace('T', ' '), to: new Date(range.to).toISOString().slice(0, 19).replace('T', ' ') });

  it('answers A\'s rows only for A\'s read key, and B\'s tenant is refused with 403', async () => {
    const res = await get(`/query/cost_per_model_per_day?${params()}`, asKey(READ_A));
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as { tenant: string; rows: Array<{ model: string; calls: number | string }> };
    expect(body.tenant).toBe(A.tenant);
    expect(body.rows.length).toBeGreaterThan(0);
    expect(body.rows.map((r) => r.model)).toEqual([A.model]);
    expectNothingOfB(text);

    const asB = await get(`/query/cost_per_model_per_day?${params()}&tenant=${B.tenant}`, asKey(READ_A));
    expect(asB.status).toBe(403);
    expect((await asB.json()).error).toMatch(/tenant is fixed by your credential to "team-a"/);

    // The same query names B's rows for the admin: the refusal above is what kept them from A.
    const admin = await get(`/query/cost_per_model_per_day?${params()}&tenant=${B.tenant}`);
    const adminBody = (await admin.json()) as { rows: Array<{ model: string }> };
    expect(adminBody.rows.map((r) => r.model)).toEqual([B.model]);
  });

  it('every named query answers A\'s read key with nothing of B', async () => {
    const list = (await (await get('/query', asKey(READ_A))).json()) as Array<{ name: string; parameters: Array<{ name: string; default?: string }> }>;
    expect(list.length).toBeGreaterThan(10);
    let nonEmpty = 0;
    for (const q of list) {
      const given = new URLSearchParams();
      for (const p of q.parameters) {
        if (p.name === 'from') given.set('from', params().get('from')!);
        else if (p.name === 'to') given.set('to', params().get('to')!);
      }
      const res = await get(`/query/${q.name}?${given}`, asKey(READ_A));
      const text = await res.text();
      if (res.status !== 200) {
        // A parameter this test does not know (named in the error): never a read of B.
        expect(res.status, `${q.name}: ${text}`).toBe(400);
        expect(text).toMatch(/needs parameter/);
        continue;
      }
      expectNothingOfB(text);
      if ((JSON.parse(text) as { rows: unknown[] }).rows.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(3);
  });

  it('the server-defined SQL runs under the tenant filter: a view or join asked for B answers nothing', async () => {
    const { store } = proc.processor;
    const filter = new TenantFilter(store.database, await discoverTenantTables(store.writer, store.database));
    const scoped = filter.settingsFor(A.tenant);
    const tries = [
      `SELECT TraceId FROM requests(tenant = '${B.tenant}', from = toDateTime('2000-01-01 00:00:00'), to = toDateTime('2100-01-01 00:00:00'))`,
      `SELECT TraceId FROM feedback_latest WHERE TenantId = '${B.tenant}'`,
      `SELECT g.TraceId FROM genai_spans AS g INNER JOIN otel_traces AS t ON g.TraceId = t.TraceId WHERE t.TenantId = '${B.tenant}'`,
      `SELECT TraceId FROM otel_logs WHERE TraceId IN (SELECT TraceId FROM otel_traces WHERE ServiceName = '${B.service}')`,
      // A view over a rollup (0031): filtered on usage_cost_hourly underneath.
      `SELECT TenantId, sum(Calls) AS calls FROM usage_cost_daily WHERE TenantId = '${B.tenant}' GROUP BY TenantId`,
    ];
    for (const query of tries) expect((await queryReadOnly(store, { query }, scoped)).rows, query).toEqual([]);
    // ... while the same SQL for A's own tenant answers (so the empty answers above can fail).
    const own = await queryReadOnly(store, { query: tries[0]!.replace(B.tenant, A.tenant) }, scoped);
    expect(own.rows.length).toBe(A.traces.length);
    const ownDaily = await queryReadOnly(store, { query: tries[4]!.replace(B.tenant, A.tenant) }, scoped);
    expect(ownDaily.rows).toHaveLength(1);
    const [tenant, calls] = ownDaily.rows[0] as [string, number];
    expect(tenant).toBe(A.tenant);
    expect(calls).toBeGreaterThan(0);
  });
});

describe('GET /v1/export: the same scope as the named queries', () => {
  const window = () => ({ from: new Date(range.from).toISOString().slice(0, 19) + 'Z', to: new Date(range.to).toISOString().slice(0, 19) + 'Z' });

  it('exports A\'s rows only for A\'s read key (CSV and JSON lines); B\'s tenant and tenant-less queries are refused', async () => {
    const { from, to } = window();
    for (const format of ['csv', 'json']) {
      const res = await get(`/v1/export/cost_per_model_per_day?from=${from}&to=${to}&format=${format}`, asKey(READ_A));
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).toContain(A.model);
      expectNothingOfB(text);
    }
    const asB = await get(`/v1/export/cost_per_model_per_day?from=${from}&to=${to}&tenant=${B.tenant}`, asKey(READ_A));
    expect(asB.status).toBe(403);
    expect((await asB.json()).error).toMatch(/tenant is fixed by your credential to "team-a"/);
    // The admin (loopback) exports B's rows with the same URL: the refusal above is what kept them from A.
    const admin = await (await get(`/v1/export/cost_per_model_per_day?from=${from}&to=${to}&tenant=${B.tenant}&format=json`)).text();
    expect(admin).toContain(B.model);
    const ingestKey = await get(`/v1/export/cost_per_model_per_day?from=${from}&to=${to}`, asKey(INGEST_A));
    expect(ingestKey.status).toBe(401);
  });
});

describe('built-in dashboards: variables, panels and the trace page', () => {
  type Variable = { name: string; current: string | string[]; options: Array<{ value: string }> };
  const variablesOf = async (headers: Record<string, string>, selection: Record<string, string | string[]> = {}) => {
    const res = await post('/ui/api/variables', { dashboard: 'ragscope-overview', ...range, selection }, headers);
    return { res, body: (await res.json()) as { variables: Variable[]; error?: string } };
  };

  it('variables: the tenant is A\'s and the options are A\'s; selecting B is refused with 403', async () => {
    const { res, body } = await variablesOf(asKey(READ_A));
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(body.variables.map((v) => [v.name, v]));
    expect(byName.tenant!.current).toBe(A.tenant);
    expect(byName.tenant!.options.map((o) => o.value)).toEqual([A.tenant]);
    expect(byName.service!.options.map((o) => o.value)).toEqual([A.service]);
    expectNothingOfB(JSON.stringify(body));

    const asB = await variablesOf(asKey(READ_A), { tenant: B.tenant });
    expect(asB.res.status).toBe(403);
    expect(asB.body.error).toMatch(/tenant is fixed by your credential/);
    const foreignService = await variablesOf(asKey(READ_A), { service: [B.service] });
    expect(foreignService.res.status).toBe(400);
    expect(foreignService.body.error).toMatch(/variable "service": "svc-bravo" is not among the values you may select/);
  });

  it('panels: every panel of every dashboard answers A\'s rows only; forged tenant, values and options are refused', async () => {
    const dashboards = (await (await get('/ui/api/dashboards', asKey(READ_A))).json()) as Array<{ uid: string }>;
    expect(dashboards.length).toBeGreaterThan(5);
    let rowsSeen = 0;
    let sawA = false;
    for (const { uid } of dashboards) {
      const d = (await (await get(`/ui/api/dashboards/${uid}`, asKey(READ_A))).json()) as { panels: Array<{ id: number; targets?: unknown[]; panels?: Array<{ id: number; targets?: unknown[] }> }> };
      const vres = await post('/ui/api/variables', { dashboard: uid, ...range, selection: {} }, asKey(READ_A));
      expect(vres.status, uid).toBe(200);
      const { variables } = (await vres.json()) as { variables: Variable[] };
      const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => (p.targets ?? []).length > 0);
      for (const panel of panels) {
        const res = await post('/ui/api/panel', { dashboard: uid, panelId: panel.id, ...range, variables, maxDataPoints: 100 }, asKey(READ_A));
        const text = await res.text();
        expect(res.status, `${uid} panel ${panel.id}: ${text.slice(0, 300)}`).toBe(200);
        const body = JSON.parse(text) as { targets: Array<{ sql: string; rows: unknown[][] }> };
        for (const t of body.targets) {
          rowsSeen += t.rows.length;
          expectNothingOfB(JSON.stringify(t.rows));
          expect(t.sql).not.toContain(`'${B.tenant}'`);
          if (JSON.stringify(t.rows).includes(A.service) || JSON.stringify(t.rows).includes(A.model)) sawA = true;
        }
      }
    }
    expect(rowsSeen).toBeGreaterThan(0);
    expect(sawA).toBe(true);

    const { body: v } = await variablesOf(asKey(READ_A));
    const forge = (name: string, patch: Partial<Variable>) => v.variables.map((x) => (x.name === name ? { ...x, ...patch } : x));
    const panel = (variables: unknown) => post('/ui/api/panel', { dashboard: 'ragscope-overview', panelId: 8, ...range, variables, maxDataPoints: 100 }, asKey(READ_A));
    const asB = await panel(forge('tenant', { current: B.tenant, options: [{ value: B.tenant }] }));
    expect(asB.status).toBe(403);
    expect((await asB.json()).error).toMatch(/tenant is fixed by your credential to "team-a"/);
    const injected = "x') OR 1 = 1 OR ServiceName IN ('";
    const inject = await panel(forge('service', { current: [injected], options: [{ value: injected }] }));
    expect(inject.status).toBe(400);
    expect((await inject.json()).error).toMatch(/variable "service"/);
    const foreign = await panel(forge('service', { current: [B.service], options: [{ value: B.service }] }));
    expect(foreign.status).toBe(400);
    // The error echoes the value the client sent, and nothing was run.
    expect(await foreign.json()).toEqual({ error: `variable "service": "${B.service}" is not among the values you may select` });
  });

  it('trace page: A\'s trace answers; B\'s trace id answers nothing of B', async () => {
    const own = await get(`/ui/api/trace/${A.traces[0]}`, asKey(READ_A));
    expect(own.status).toBe(200);
    const ownBody = (await own.json()) as Record<string, { rows: unknown[][] }>;
    expect(ownBody.spans!.rows.length).toBe(2);
    expect(ownBody.genai!.rows.length).toBe(1);
    expect(ownBody.feedback!.rows.length).toBe(1);
    const foreign = await get(`/ui/api/trace/${B.traces[0]}`, asKey(READ_A));
    expect(foreign.status).toBe(200);
    const body = (await foreign.json()) as Record<string, { rows: unknown[][] }>;
    for (const part of ['spans', 'genai', 'evaluations', 'feedback']) expect(body[part]!.rows, part).toEqual([]);
    // The admin sees B's trace: the empty answer above is the scope, not missing data.
    const admin = (await (await get(`/ui/api/trace/${B.traces[0]}`)).json()) as Record<string, { rows: unknown[][] }>;
    expect(admin.spans!.rows.length).toBe(2);
  });

  it('a dashboard session from /login?key= is A\'s; an ingest key cannot log in', async () => {
    const login = await fetch(`${proc.url}/login?key=${encodeURIComponent(READ_A)}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    expect(cookie).toMatch(/ragscope_tenant=[0-9a-f]{64}\./);
    const { res, body } = await variablesOf({ cookie });
    expect(res.status).toBe(200);
    expect(body.variables.find((x) => x.name === 'tenant')!.options.map((o) => o.value)).toEqual([A.tenant]);
    const forged = await variablesOf({ cookie: `ragscope_tenant=${hashKey(READ_B)}.${'0'.repeat(64)}` });
    expect(forged.res.status).toBe(401);
    const ingest = await fetch(`${proc.url}/login?key=${encodeURIComponent(INGEST_A)}`, { redirect: 'manual' });
    expect(ingest.status).toBe(401);
  });
});

describe('revocation', () => {
  it('a revoked read key (and its dashboard session) is refused without a restart', async () => {
    const login = await fetch(`${proc.url}/login?key=${encodeURIComponent(READ_A)}`, { redirect: 'manual' });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    expect((await get('/query', asKey(READ_A))).status).toBe(200);
    writeKeys(KEYS.filter((k) => k.key !== READ_A));
    const deadline = Date.now() + 20_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await get('/query', asKey(READ_A))).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    expect((await post('/ui/api/variables', { dashboard: 'ragscope-overview', ...range, selection: {} }, { cookie })).status).toBe(401);
    // B's read key still works.
    expect((await get('/query', asKey(READ_B))).status).toBe(200);
  });
});
