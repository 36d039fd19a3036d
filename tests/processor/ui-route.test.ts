/**
 * The built-in dashboards' HTTP side (no browser): the panel endpoint sends ClickHouse exactly what the
 * macro expander makes of the dashboard's SQL and runs it on the read-only client; the SETTINGS some
 * panels carry work there without letting a query lift the limits; access follows /sql's rule (token →
 * a /login cookie); bad input names the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { uiRouter } from '../../processor/src/ui/route.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, loadDirect } from '../../tools/synthetic/index.js';
import { expandPanelQuery } from '../../processor/src/ui/macros.js';
import { queryReadOnly, semanticSettings } from '../../processor/src/query/read-only.js';
import { ReaderPool } from '../../processor/src/query/reader-pool.js';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import { waitFor } from '../helpers/spawn-processor.js';
import { warmUpTables } from '../../processor/src/ui/warm-up.js';

const END = Date.UTC(2026, 10, 20, 13);
const DAY = 86_400_000;
const TTL = { RAGSCOPE_RAW_TTL_DAYS: '3650', RAGSCOPE_ROLLUP_TTL_DAYS: '3650' };
const overview = JSON.parse(readFileSync('grafana/dashboards/ragscope-overview.json', 'utf8')) as {
  panels: Array<{ id: number; interval?: string; targets: Array<{ rawSql: string }> }>;
};

let p: TestProcessor;
/** The same router with RAGSCOPE_SQL_TOKEN set, on its own port (one embedded store per process). */
let locked: { url: string; server: Server };

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  p = await startProcessor(TTL);
  const stats = await loadDirect(p.processor.store.writer, generateDataset({ seed: 'ui-route', requests: 600, days: 2, endMs: END }), { rawTtlDays: 3650 });
  expect(stats.rejectedSpans).toBe(0);
  const store = p.processor.store;
  const app = express().use(uiRouter({ store, token: 'let-me-in', readers: new ReaderPool(2, store.openReader, true), retryAfterSeconds: 2 }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  locked = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
});

afterAll(async () => {
  await p?.stop();
  locked?.server.close();
  if (p) removeDir(p.dataDir);
});

describe('panel queries', () => {
  it('sends the SQL the macro expander makes of the dashboard JSON and answers with its rows', async () => {
    const range = { from: END - DAY, to: END };
    const vres = await post(p.url, '/ui/api/variables', { dashboard: 'ragscope-overview', ...range, selection: {} });
    expect(vres.status).toBe(200);
    const { variables } = (await vres.json()) as { variables: Array<{ name: string; current: string | string[]; options: Array<{ value: string }> }> };
    expect(variables.map((v) => v.name)).toEqual(['tenant', 'service', 'environment', 'provider', 'model', 'experiment']);
    expect(variables[0]!.current).toBe('default');
    const panel = overview.panels.find((x) => x.id === 8)!;
    const res = await post(p.url, '/ui/api/panel', { dashboard: 'ragscope-overview', panelId: 8, ...range, variables, maxDataPoints: 500 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { targets: Array<{ sql: string; rows: unknown[][] }> };
    const states = variables.map((v) => ({ name: v.name, current: v.current, options: v.options.map((o) => o.value), multi: Array.isArray(v.current) }));
    const expected = expandPanelQuery(panel.targets[0]!.rawSql, { from: new Date(range.from), to: new Date(range.to), variables: states, maxDataPoints: 500, minInterval: panel.interval });
    expect(body.targets[0]!.sql).toBe(expected);
    expect(body.targets[0]!.rows.length).toBeGreaterThan(0);
    const direct = await p.query(expected);
    expect(body.targets[0]!.rows.length).toBe(direct.length);
  });

  it('names the field when the request is wrong', async () => {
    const bad = await post(p.url, '/ui/api/panel', { dashboard: 'nope', panelId: 1, from: 0, to: 1, variables: [] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/field "dashboard"/);
    const noRange = await post(p.url, '/ui/api/variables', { dashboard: 'ragscope-overview', from: 'yesterday', to: END });
    expect(noRange.status).toBe(400);
    expect(((await noRange.json()) as { error: string }).error).toMatch(/field "from"/);
    const badTrace = await fetch(`${p.url}/ui/api/trace/not-a-trace`);
    expect(badTrace.status).toBe(400);
  });
});

describe('the read-only path', () => {
  it('runs SETTINGS join_use_nulls = 1 (embedded readonly=1 sessions accept an unchanged value) and still refuses writes', async () => {
    expect(semanticSettings('SELECT 1 FROM (SELECT 1 SETTINGS join_use_nulls = 1)')).toEqual({ join_use_nulls: 1 });
    const r = await queryReadOnly(p.processor.store, { query: 'SELECT count() FROM genai_spans AS g LEFT JOIN (SELECT 1 AS x) AS y ON 1 = y.x SETTINGS join_use_nulls = 1' });
    expect(Number(r.rows[0]![0])).toBeGreaterThan(0);
    await expect(queryReadOnly(p.processor.store, { query: 'INSERT INTO feedback (TenantId) VALUES (1) SETTINGS join_use_nulls = 1' })).rejects.toThrow(/readonly/i);
  });

  it('does not let a query lift the result limit', async () => {
    expect(semanticSettings('SELECT 1 SETTINGS max_result_rows = 0')).toEqual({});
    await expect(queryReadOnly(p.processor.store, { query: 'SELECT 1 SETTINGS max_result_rows = 0' })).rejects.toThrow(/readonly/i);
  });
});

describe('access', () => {
  it('with RAGSCOPE_SQL_TOKEN: nothing without the token; /login sets an HttpOnly cookie that opens pages and data', async () => {
    expect((await fetch(`${locked.url}/`)).status).toBe(401);
    expect((await fetch(`${locked.url}/ui/api/dashboards`)).status).toBe(401);
    expect((await fetch(`${locked.url}/login?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    const login = await fetch(`${locked.url}/login?token=let-me-in&next=/d/ragscope-latency`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/d/ragscope-latency');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain('let-me-in');
    const session = cookie.split(';')[0]!;
    const page = await fetch(`${locked.url}/d/ragscope-latency`, { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/ui/static/app.js');
    const list = await fetch(`${locked.url}/ui/api/dashboards`, { headers: { cookie: session } });
    expect(((await list.json()) as unknown[]).length).toBe(readdirSync(new URL('../../grafana/dashboards/', import.meta.url)).filter((f) => f.endsWith('.json')).length);
    const bearer = await fetch(`${locked.url}/ui/api/dashboards`, { headers: { authorization: 'Bearer let-me-in' } });
    expect(bearer.status).toBe(200);
  });

  it('without a token: loopback clients get the viewer and its assets', async () => {
    const page = await fetch(`${p.url}/`);
    expect(page.status).toBe(200);
    const js = await fetch(`${p.url}/ui/static/app.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    // uPlot's stylesheet is inlined into app.css (no CDN, no import left to resolve)
    const css = await fetch(`${p.url}/ui/static/app.css`);
    expect(css.status).toBe(200);
    const text = await css.text();
    expect(text).toContain('.uplot');
    expect(text).toContain('.chart-tooltip');
    expect(text).not.toContain('@import');
  });
});

/** The NDJSON lines of one /ui/api/load answer. */
async function loadLines(base: string, body: unknown): Promise<{ status: number; lines: Array<Record<string, unknown>>; res: Response }> {
  const res = await post(base, '/ui/api/load', body);
  const text = await res.text();
  const lines = res.status === 200 ? text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [JSON.parse(text) as Record<string, unknown>];
  return { status: res.status, lines, res };
}

describe('one request per dashboard (/ui/api/load)', () => {
  it('streams the variables, then every panel with the SQL the macro expander makes, then done', async () => {
    const range = { from: END - DAY, to: END };
    const { status, lines } = await loadLines(p.url, { dashboard: 'ragscope-overview', ...range, selection: {}, widths: { 8: 500 } });
    expect(status).toBe(200);
    expect(lines.at(-1)).toEqual({ done: true });
    const variables = lines.find((l) => 'variables' in l)!.variables as Array<{ name: string; current: string | string[]; options: Array<{ value: string }> }>;
    expect(variables[0]!.current).toBe('default');
    const panelLines = lines.filter((l) => 'panel' in l);
    const withSql = overview.panels.filter((x) => x.targets?.length);
    expect(panelLines.map((l) => l.panel).sort((a, b) => Number(a) - Number(b))).toEqual(withSql.map((x) => x.id).sort((a, b) => a - b));
    expect(panelLines.filter((l) => 'error' in l)).toEqual([]);
    const states = variables.map((v) => ({ name: v.name, current: v.current, options: v.options.map((o) => o.value), multi: Array.isArray(v.current) }));
    const panel = overview.panels.find((x) => x.id === 8)!;
    const got = panelLines.find((l) => l.panel === 8)!.targets as Array<{ sql: string; rows: unknown[][] }>;
    expect(got[0]!.sql).toBe(expandPanelQuery(panel.targets[0]!.rawSql, { from: new Date(range.from), to: new Date(range.to), variables: states, maxDataPoints: 500, minInterval: panel.interval }));
    expect(got[0]!.rows.length).toBeGreaterThan(0);
    expect(got[0]!.rows.length).toBe((await p.query(got[0]!.sql)).length);
  });

  it('names the field when the request is wrong', async () => {
    const { status, lines } = await loadLines(p.url, { dashboard: 'ragscope-overview', from: END - DAY, to: END, widths: [] });
    expect(status).toBe(400);
    expect(lines[0]!.error).toMatch(/field "widths"/);
  });
});

const LONG_QUERY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 7';

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

describe('the /sql limits apply to the dashboards', () => {
  it('with RAGSCOPE_SQL_MAX_CONCURRENT taken by /sql queries, dashboard data requests are refused exactly as /sql is', async () => {
    const aborts: AbortController[] = [];
    const held: Array<Promise<unknown>> = [];
    try {
      // hold every slot with a /sql query that would run for minutes
      for (let i = 0; ; i++) {
        await waitFor('the /sql query to hold its slot', async () => (await metric('ragscope_sql_queries_running')) === i, 30_000);
        const probe = await fetch(`${p.url}/sql`, { method: 'POST', body: 'SELECT 1' }).then(async (r) => ({ status: r.status, body: await r.text() }));
        if (probe.status === 429) break;
        expect(probe.status).toBe(200);
        const abort = new AbortController();
        aborts.push(abort);
        held.push(fetch(`${p.url}/sql`, { method: 'POST', body: LONG_QUERY, signal: abort.signal }).catch((err: Error) => err));
        expect(i).toBeLessThan(16);
      }
      expect(aborts.length).toBeGreaterThan(0);
      const refusedBefore = await metric('ragscope_sql_refused_total{reason="concurrency"}');
      const sqlRefusal = await fetch(`${p.url}/sql`, { method: 'POST', body: 'SELECT 1' });
      const range = { from: END - DAY, to: END };
      const refusals = [
        await post(p.url, '/ui/api/load', { dashboard: 'ragscope-overview', ...range, selection: {} }),
        await post(p.url, '/ui/api/variables', { dashboard: 'ragscope-overview', ...range, selection: {} }),
        await post(p.url, '/ui/api/panel', { dashboard: 'ragscope-overview', panelId: 1, ...range, variables: [] }),
        await fetch(`${p.url}/ui/api/trace/${'a'.repeat(32)}`),
      ];
      const sqlBody = await sqlRefusal.json();
      expect(sqlRefusal.status).toBe(429);
      for (const r of refusals) {
        expect(r.status).toBe(429);
        expect(r.headers.get('retry-after')).toBe(sqlRefusal.headers.get('retry-after'));
        expect(await r.json()).toEqual(sqlBody);
      }
      // counted where /sql's refusals are counted
      expect(await metric('ragscope_sql_refused_total{reason="concurrency"}')).toBe(refusedBefore + 1 + refusals.length);
    } finally {
      for (const a of aborts) a.abort();
      await Promise.all(held);
    }
    // the held queries are stopped in the engine and their slots come back; then the dashboard loads again
    await waitFor('the slots to be released', async () => (await metric('ragscope_sql_queries_running')) === 0, 30_000);
    const { status, lines } = await loadLines(p.url, { dashboard: 'ragscope-overview', from: END - DAY, to: END, selection: {} });
    expect(status).toBe(200);
    expect(lines.filter((l) => 'panel' in l && !('error' in l)).length).toBeGreaterThan(0);
    expect(await metric('ragscope_sql_queries_running')).toBe(0);
  });
});

describe('warm-up at start', () => {
  it('touches every MergeTree table of the store from a read-only session', async () => {
    const tables = await p.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree%'");
    expect(Number(tables[0]!.n)).toBeGreaterThan(10);
    expect(await warmUpTables(await p.processor.store.openReader())).toBe(Number(tables[0]!.n));
  });
});
