// The built-in dashboard viewer: GET / serves a small web app that renders the generated Grafana
// dashboards; its data endpoints expand each panel's SQL exactly as Grafana and the ClickHouse plugin do
// (macros.ts) and run it on readers leased from the /sql pool (LeasedQueries), under POST /sql's access
// rule and its limits: the same concurrency limit, the same per-query limits, the same cancellation.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';
import { ClickHouseError } from '@clickhouse/client';
import type { StoreClients } from '../store/clickhouse.js';
import type { ColumnMeta, ReadOnlyQuery, ReadOnlyResult } from '../query/read-only.js';
import type { ReaderPool, SqlMetrics } from '../query/reader-pool.js';
import type { Logger } from '../logger.js';
import { LeasedQueries, QueryCancelled, refuseForConcurrency, type AdmissionOptions } from '../query/leased-queries.js';
import { loginRoute, readScopeOf, requireAccess } from './access.js';
import { ReadAccess, type ReadScope } from '../auth/read-scope.js';
import { ApiKeys } from '../auth/api-keys.js';
import { fixedTenant, ScopeRefusal, TenantFilter } from '../query/tenant-scope.js';
import { Dashboards, type DashboardJson, type PanelJson } from './dashboards.js';
import { expandPanelQuery, MacroError, type VariableState } from './macros.js';
import {
  references,
  resolveVariables,
  startVariables,
  toVariableStates,
  VariableRefused,
  type ResolvedVariable,
  type Selection,
  type VariablePolicy,
} from './variables.js';
import { TRACE_ID, traceQueries } from './trace.js';
import { VariableCache } from './variable-cache.js';
import { systemClock, type Clock } from '../clock.js';

/** How long a variable query's options are reused (see VariableCache). */
export const VARIABLE_OPTIONS_TTL_MS = 30_000;

/** The front end built by `npm run build:ui` (processor/ui → processor/dist/ui/static). */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dist/ui/static/', import.meta.url));

export interface UiRouteOptions {
  store: StoreClients;
  token: string | undefined;
  /** Who may read what (auth/read-scope.ts); without it, only the admin rule of `token` (no tenant credentials). */
  access?: ReadAccess;
  /** The tenant filter for tenant-scoped reads (query/tenant-scope.ts). */
  filter?: TenantFilter;
  /** The /sql pool: dashboard queries count against RAGSCOPE_SQL_MAX_CONCURRENT like /sql queries. */
  readers: ReaderPool;
  retryAfterSeconds: number;
  metrics?: SqlMetrics;
  logger?: Logger;
  /** Cancel functions of the requests running now (shared with /sql: the processor cancels them when it stops). */
  active?: Set<(why: string) => void>;
  dashboards?: Dashboards;
  staticDir?: string;
  /** The clock the variable-options cache ages by. */
  now?: Clock;
}

class BadRequest extends Error {}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const DATETIME = /^(Nullable\()?DateTime/;
const DATE = /^(Nullable\()?Date(32)?(\)|$)/;

/** JSON-friendly cells: 64-bit integers and Decimals (quoted by ClickHouse) as numbers, times as epoch ms (UTC). */
function toCells(meta: ColumnMeta[], rows: unknown[][]): unknown[][] {
  const kinds = meta.map((m) => (NUMERIC.test(m.type) ? 'n' : DATETIME.test(m.type) ? 't' : DATE.test(m.type) ? 'd' : ''));
  return rows.map((row) =>
    row.map((v, i) => {
      if (v === null || v === undefined) return null;
      switch (kinds[i]) {
        case 'n':
          return typeof v === 'string' ? Number(v) : v;
        case 't':
          return Date.parse(String(v).replace(' ', 'T') + 'Z');
        case 'd':
          return Date.parse(String(v) + 'T00:00:00Z');
        default:
          return v;
      }
    }),
  );
}

function epochMs(body: Record<string, unknown>, field: string): Date {
  const v = body[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequest(`field "${field}" must be epoch milliseconds`);
  return new Date(v);
}

function dashboardOf(dashboards: Dashboards, body: Record<string, unknown>): DashboardJson {
  const d = typeof body.dashboard === 'string' ? dashboards.get(body.dashboard) : undefined;
  if (!d) throw new BadRequest(`field "dashboard" must be one of ${dashboards.list.map((x) => x.uid).join(', ')}`);
  return d;
}

function selectionOf(body: Record<string, unknown>): Selection {
  const s = body.selection ?? {};
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new BadRequest('field "selection" must be an object of variable name → value(s)');
  for (const [k, v] of Object.entries(s)) {
    const ok = typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (!ok) throw new BadRequest(`field "selection.${k}" must be a string or an array of strings`);
  }
  return s as Selection;
}

function variablesOf(body: Record<string, unknown>): ResolvedVariable[] {
  const v = body.variables;
  if (!Array.isArray(v)) throw new BadRequest('field "variables" must be the array returned by /ui/api/variables');
  return v as ResolvedVariable[];
}

function errorBody(err: Error & { sql?: string }): { status: number; body: { error: string; sql?: string } } {
  if (err instanceof ScopeRefusal) return { status: 403, body: { error: err.message } };
  const client = err instanceof VariableRefused || err instanceof BadRequest || err instanceof MacroError || err instanceof ClickHouseError;
  return { status: err instanceof QueryCancelled ? 503 : client ? 400 : 500, body: { error: err.message, sql: err.sql } };
}

/** Answers `fn`'s result as JSON, its queries admitted by the /sql pool (429 like /sql when it is full). */
function send(res: Response, admission: AdmissionOptions, width: number, scopeSettings: Record<string, string>, fn: (run: RunSql) => Promise<unknown>): void {
  const queries = LeasedQueries.open(admission);
  if (!queries) {
    refuseForConcurrency(res, admission.readers.limit, admission.retryAfterSeconds);
    return;
  }
  queries.widen(width);
  queries.cancelOnClose(res);
  fn(runner(queries, scopeSettings)).then(
    (body) => {
      queries.close();
      res.json(body);
    },
    (err: Error & { sql?: string }) => {
      queries.close();
      const { status, body } = errorBody(err);
      if (!res.headersSent && !res.destroyed) res.status(status).json(body);
    },
  );
}

/** The selection a panel request carries: the current value of each variable it was sent. */
function selectionOfVariables(variables: ResolvedVariable[]): Selection {
  const out: Selection = {};
  for (const v of variables) {
    if (typeof v !== 'object' || v === null || typeof v.name !== 'string') throw new BadRequest('field "variables": each entry needs a "name"');
    const c = v.current as unknown;
    const ok = typeof c === 'string' || (Array.isArray(c) && c.every((x) => typeof x === 'string'));
    if (!ok) throw new BadRequest(`field "variables.${v.name}.current" must be a string or an array of strings`);
    out[v.name] = c as string | string[];
  }
  return out;
}

/** A tenant's selection of the tenant variable: its own, or a refusal naming the other (tenant-scope.ts). */
function tenantSelection(scope: ReadScope, selection: Selection): Selection {
  if (scope.kind === 'admin') return selection;
  const asked = selection.tenant;
  fixedTenant(scope, Array.isArray(asked) ? (asked.length === 1 ? asked[0] : asked.join(',')) : asked);
  return { ...selection, tenant: scope.tenant };
}

type RunSql = (q: ReadOnlyQuery) => Promise<ReadOnlyResult>;

/** The variable policy of a scope: a tenant's tenant fixed and every value checked (tenant-scope.ts). */
function policyOf(scope: ReadScope): VariablePolicy {
  return scope.kind === 'tenant' ? { fixed: { tenant: scope.tenant }, strict: true } : {};
}

/** Runs on the leased readers; cells made JSON-friendly; a failed query carries its SQL. */
function runner(queries: LeasedQueries, scopeSettings: Record<string, string>): RunSql {
  return async (q) => {
    try {
      const r = await queries.run(q, scopeSettings);
      return { meta: r.meta, rows: toCells(r.meta, r.rows) };
    } catch (err) {
      (err as Error & { sql?: string }).sql = q.query;
      throw err;
    }
  };
}

interface PanelRequest {
  from: Date;
  to: Date;
  /** The panel's width in pixels (Grafana's maxDataPoints when the panel sets none). */
  width: number;
}

/** One panel's targets, expanded with `states` and run one after the other. */
async function runPanel(panel: PanelJson, req: PanelRequest, states: VariableState[], run: RunSql) {
  const targets = [];
  for (const t of panel.targets ?? []) {
    if (t.hide) continue;
    const sql = expandPanelQuery(t.rawSql, { from: req.from, to: req.to, variables: states, maxDataPoints: panel.maxDataPoints ?? req.width, minInterval: panel.interval });
    const started = performance.now();
    const r = await run({ query: sql });
    targets.push({ refId: t.refId, format: t.format, sql, meta: r.meta, rows: r.rows, ms: Math.round(performance.now() - started) });
  }
  return targets;
}

function widthOf(v: unknown): number {
  return typeof v === 'number' && v > 0 ? Math.round(v) : 1000;
}

/** The page, with the dashboard list and the opened dashboard inlined (two round trips fewer before the first query). */
function pageWithBoot(html: string, boot: unknown): string {
  const json = JSON.stringify(boot).replace(/</g, '\\u003c');
  return html.replace('<!--boot-->', `<script id="boot" type="application/json">${json}</script>`);
}

export function uiRouter(options: UiRouteOptions): Router {
  const dashboards = options.dashboards ?? Dashboards.load();
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const access = options.access ?? new ReadAccess({ token: options.token, apiKeys: new ApiKeys({ defaultTenant: 'default' }) });
  const filter = options.filter ?? new TenantFilter(options.store.database, []);
  const admission: AdmissionOptions = {
    store: options.store,
    readers: options.readers,
    retryAfterSeconds: options.retryAfterSeconds,
    metrics: options.metrics,
    logger: options.logger,
    active: options.active,
  };
  const list = dashboards.list.map((d) => ({ uid: d.uid, title: d.title, tags: d.tags ?? [] }));
  const variableCache = new VariableCache<ReadOnlyResult>(VARIABLE_OPTIONS_TTL_MS, options.now ?? systemClock);
  // Cached per scope: the same SQL answers a tenant (under its row filter) differently from the admin.
  const variableRun =
    (run: RunSql, scope: ReadScope) =>
    async (sql: string): Promise<ReadOnlyResult> => {
      const key = scope.kind === 'tenant' ? `tenant:${scope.tenant}\n${sql}` : sql;
      try {
        return await variableCache.get(key, () => run({ query: sql }));
      } catch (err) {
        // shared with a request whose client left (a quick second change): run it on this request's readers
        if (err instanceof QueryCancelled) return run({ query: sql });
        throw err;
      }
    };

  const router = Router();
  router.get('/login', loginRoute(access));
  const guard = requireAccess(access);
  router.use('/ui', guard);
  let html: string | undefined;
  const page = (req: Request, res: Response) => {
    const index = staticDir + 'index.html';
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('ragscope: the dashboard assets are not built; run `npm run build:ui`\n');
      return;
    }
    html ??= readFileSync(index, 'utf8');
    const uid = typeof req.params.uid === 'string' ? req.params.uid : req.path === '/' ? (dashboards.get('ragscope-overview')?.uid ?? list[0]?.uid) : undefined;
    const dashboard = uid ? (dashboards.get(uid) ?? null) : null;
    res.type('html').set('Cache-Control', 'no-cache').send(pageWithBoot(html, { dashboards: list, dashboard }));
  };
  router.get('/', guard, page);
  router.get('/d/:uid', guard, page);
  router.get('/trace/:traceId', guard, page);
  router.use('/ui/static', express.static(staticDir, { index: false, maxAge: '1h' }));

  router.get('/ui/api/dashboards', (_req, res) => {
    res.json(list);
  });
  router.get('/ui/api/dashboards/:uid', (req, res) => {
    const d = dashboards.get(String(req.params.uid));
    if (!d) res.status(404).json({ error: `no dashboard "${req.params.uid}"` });
    else res.json(d);
  });

  const json = express.json({ limit: '1mb' });
  router.post('/ui/api/variables', json, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    send(res, admission, 2, filter.settings(readScopeOf(res)), async (run) => {
      const d = dashboardOf(dashboards, body);
      const range = { from: epochMs(body, 'from'), to: epochMs(body, 'to') };
      const scope = readScopeOf(res);
      const variables = await resolveVariables(d, range, tenantSelection(scope, selectionOf(body)), variableRun(run, scope), policyOf(scope));
      return { variables };
    });
  });

  router.post('/ui/api/panel', json, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const scope = readScopeOf(res);
    send(res, admission, 1, filter.settings(scope), async (run) => {
      const d = dashboardOf(dashboards, body);
      const panel = Dashboards.panels(d).find((p) => p.id === body.panelId);
      if (!panel) throw new BadRequest(`field "panelId": dashboard ${d.uid} has no panel ${String(body.panelId)}`);
      const request = { from: epochMs(body, 'from'), to: epochMs(body, 'to'), width: widthOf(body.maxDataPoints) };
      // The admin's variables are taken as sent (it may run any SQL anyway); a tenant's are resolved again here
      // from their current values, so no option or value the server did not compute reaches the SQL.
      const sent = variablesOf(body);
      const resolved =
        scope.kind === 'admin'
          ? sent
          : await resolveVariables(d, request, tenantSelection(scope, selectionOfVariables(sent)), variableRun(run, scope), policyOf(scope));
      return { targets: await runPanel(panel, request, toVariableStates(resolved), run) };
    });
  });

  /**
   * POST /ui/api/load: a whole dashboard in one request, answered as NDJSON lines while the queries finish:
   * `{"variables": [...]}`, then `{"panel": id, "targets": [...]}` or `{"panel": id, "error": ..., "sql": ...}`
   * per panel in completion order, then `{"done": true}`. A panel starts as soon as the variables its SQL
   * refers to are resolved; the queries share the readers this request could lease (at least one, else 429).
   * Body: { dashboard, from, to, selection, widths: { [panelId]: px } }.
   */
  router.post('/ui/api/load', json, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    let d: DashboardJson;
    let range: { from: Date; to: Date };
    let selection: Selection;
    let widths: Record<string, unknown>;
    const scope = readScopeOf(res);
    try {
      d = dashboardOf(dashboards, body);
      range = { from: epochMs(body, 'from'), to: epochMs(body, 'to') };
      selection = tenantSelection(scope, selectionOf(body));
      const w = body.widths ?? {};
      if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new BadRequest('field "widths" must be an object of panel id → width in pixels');
      widths = w as Record<string, unknown>;
    } catch (err) {
      res.status(err instanceof ScopeRefusal ? 403 : 400).json({ error: (err as Error).message });
      return;
    }
    const queries = LeasedQueries.open(admission);
    if (!queries) {
      refuseForConcurrency(res, admission.readers.limit, admission.retryAfterSeconds);
      return;
    }
    const panels = Dashboards.panels(d).filter((p) => (p.targets ?? []).some((t) => !t.hide));
    queries.widen(panels.length);
    queries.cancelOnClose(res);
    res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
    const line = (obj: unknown) => {
      if (!res.destroyed) res.write(JSON.stringify(obj) + '\n');
    };
    const run = runner(queries, filter.settings(scope));
    const pending = startVariables(d, range, selection, variableRun(run, scope), policyOf(scope));
    const variables = Promise.all([...pending.values()]).then(
      (resolved) => line({ variables: resolved }),
      (err: Error & { sql?: string }) => line({ error: `variables: ${err.message}`, sql: err.sql }),
    );
    const jobs = panels.map(async (panel) => {
      try {
        const sqls = (panel.targets ?? []).filter((t) => !t.hide).map((t) => t.rawSql);
        const needed = [...pending.entries()].filter(([name]) => sqls.some((sql) => references(sql, name))).map(([, p]) => p);
        const states = toVariableStates(await Promise.all(needed));
        const targets = await runPanel(panel, { ...range, width: widthOf(widths[String(panel.id)]) }, states, run);
        line({ panel: panel.id, targets });
      } catch (err) {
        line({ panel: panel.id, ...errorBody(err as Error).body });
      }
    });
    void Promise.allSettled([variables, ...jobs]).then(() => {
      queries.close();
      line({ done: true });
      res.end();
    });
  });

  router.get('/ui/api/trace/:traceId', (req, res) =>
    send(res, admission, 4, filter.settings(readScopeOf(res)), async (run) => {
      const traceId = String(req.params.traceId).toLowerCase();
      if (!TRACE_ID.test(traceId)) throw new BadRequest('trace id must be 32 hex digits');
      const q = traceQueries(traceId);
      const [spans, genai, evaluations, feedback] = await Promise.all([run(q.spans), run(q.genai), run(q.evaluations), run(q.feedback)]);
      return { traceId, spans, genai, evaluations, feedback };
    }),
  );
  return router;
}
