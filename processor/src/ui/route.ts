// The built-in dashboard viewer: GET / serves a small web app that renders the generated Grafana
// dashboards; its data endpoints expand each panel's SQL exactly as Grafana and the ClickHouse plugin do
// (macros.ts) and run it on the read-only client (queryReadOnly), under POST /sql's access rule.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';
import { ClickHouseError } from '@clickhouse/client';
import type { StoreClients } from '../store/clickhouse.js';
import { queryReadOnly, type ColumnMeta, type ReadOnlyQuery, type ReadOnlyResult } from '../query/read-only.js';
import { loginRoute, readScopeOf, requireAccess } from './access.js';
import { ReadAccess, type ReadScope } from '../auth/read-scope.js';
import { ApiKeys } from '../auth/api-keys.js';
import { fixedTenant, ScopeRefusal, TenantFilter } from '../query/tenant-scope.js';
import { Dashboards, type DashboardJson } from './dashboards.js';
import { expandPanelQuery, MacroError, type VariableState } from './macros.js';
import { resolveVariables, toVariableStates, VariableRefused, type ResolvedVariable, type Selection } from './variables.js';
import { TRACE_ID, traceQueries } from './trace.js';

/** The front end built by `npm run build:ui` (processor/ui → processor/dist/ui/static). */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dist/ui/static/', import.meta.url));

export interface UiRouteOptions {
  store: StoreClients;
  token: string | undefined;
  /** Who may read what (auth/read-scope.ts); without it, only the admin rule of `token` (no tenant credentials). */
  access?: ReadAccess;
  /** The tenant filter for tenant-scoped reads (query/tenant-scope.ts). */
  filter?: TenantFilter;
  dashboards?: Dashboards;
  staticDir?: string;
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

function send(res: Response, fn: () => Promise<unknown>): void {
  fn().then(
    (body) => res.json(body),
    (err: Error & { sql?: string }) => {
      if (err instanceof ScopeRefusal) {
        res.status(403).json({ error: err.message });
        return;
      }
      const client = err instanceof VariableRefused || err instanceof BadRequest || err instanceof MacroError || err instanceof ClickHouseError;
      res.status(client ? 400 : 500).json({ error: err.message, sql: err.sql });
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

export function uiRouter(options: UiRouteOptions): Router {
  const dashboards = options.dashboards ?? Dashboards.load();
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const access = options.access ?? new ReadAccess({ token: options.token, apiKeys: new ApiKeys({ defaultTenant: 'default' }) });
  const filter = options.filter ?? new TenantFilter(options.store.database, []);
  const run = async (q: ReadOnlyQuery, scope: ReadScope): Promise<ReadOnlyResult> => {
    try {
      const r = await queryReadOnly(options.store, q, filter.settings(scope));
      return { meta: r.meta, rows: toCells(r.meta, r.rows) };
    } catch (err) {
      (err as Error & { sql?: string }).sql = q.query;
      throw err;
    }
  };
  /** Variables as the server resolves them for `scope`: a tenant's tenant fixed, every value checked. */
  const variablesFor = (d: DashboardJson, range: { from: Date; to: Date }, selection: Selection, scope: ReadScope) =>
    resolveVariables(
      d,
      range,
      tenantSelection(scope, selection),
      (sql) => run({ query: sql }, scope),
      scope.kind === 'tenant' ? { fixed: { tenant: scope.tenant }, strict: true } : {},
    );

  const router = Router();
  router.get('/login', loginRoute(access));
  const guard = requireAccess(access);
  router.use('/ui', guard);
  const page = (_req: Request, res: Response) => {
    const index = staticDir + 'index.html';
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('ragscope: the dashboard assets are not built; run `npm run build:ui`\n');
      return;
    }
    res.sendFile(index);
  };
  router.get('/', guard, page);
  router.get('/d/:uid', guard, page);
  router.get('/trace/:traceId', guard, page);
  router.use('/ui/static', express.static(staticDir, { index: false, maxAge: '1h' }));

  router.get('/ui/api/dashboards', (_req, res) => {
    res.json(dashboards.list.map((d) => ({ uid: d.uid, title: d.title, tags: d.tags ?? [] })));
  });
  router.get('/ui/api/dashboards/:uid', (req, res) => {
    const d = dashboards.get(String(req.params.uid));
    if (!d) res.status(404).json({ error: `no dashboard "${req.params.uid}"` });
    else res.json(d);
  });

  const json = express.json({ limit: '1mb' });
  router.post('/ui/api/variables', json, (req, res) =>
    send(res, async () => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const d = dashboardOf(dashboards, body);
      const range = { from: epochMs(body, 'from'), to: epochMs(body, 'to') };
      const variables = await variablesFor(d, range, selectionOf(body), readScopeOf(res));
      return { variables };
    }),
  );

  router.post('/ui/api/panel', json, (req, res) =>
    send(res, async () => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const scope = readScopeOf(res);
      const d = dashboardOf(dashboards, body);
      const panel = Dashboards.panels(d).find((p) => p.id === body.panelId);
      if (!panel) throw new BadRequest(`field "panelId": dashboard ${d.uid} has no panel ${String(body.panelId)}`);
      const from = epochMs(body, 'from');
      const to = epochMs(body, 'to');
      const width = typeof body.maxDataPoints === 'number' && body.maxDataPoints > 0 ? Math.round(body.maxDataPoints) : 1000;
      // The admin's variables are taken as sent (it may run any SQL anyway); a tenant's are resolved again here
      // from their current values, so no option or value the server did not compute reaches the SQL.
      const sent = variablesOf(body);
      const resolved = scope.kind === 'admin' ? sent : await variablesFor(d, { from, to }, selectionOfVariables(sent), scope);
      const states: VariableState[] = toVariableStates(resolved);
      const targets = [];
      for (const t of panel.targets ?? []) {
        if (t.hide) continue;
        const sql = expandPanelQuery(t.rawSql, { from, to, variables: states, maxDataPoints: panel.maxDataPoints ?? width, minInterval: panel.interval });
        const started = performance.now();
        const r = await run({ query: sql }, scope);
        targets.push({ refId: t.refId, format: t.format, sql, meta: r.meta, rows: r.rows, ms: Math.round(performance.now() - started) });
      }
      return { targets };
    }),
  );

  router.get('/ui/api/trace/:traceId', (req, res) =>
    send(res, async () => {
      const traceId = String(req.params.traceId).toLowerCase();
      if (!TRACE_ID.test(traceId)) throw new BadRequest('trace id must be 32 hex digits');
      const scope = readScopeOf(res);
      const q = traceQueries(traceId);
      const [spans, genai, evaluations, feedback] = await Promise.all([run(q.spans, scope), run(q.genai, scope), run(q.evaluations, scope), run(q.feedback, scope)]);
      return { traceId, spans, genai, evaluations, feedback };
    }),
  );
  return router;
}
