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
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';

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
  const app = express().use(uiRouter({ store: p.processor.store, token: 'let-me-in' }));
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
  });
});
