/**
 * Panels that answer the same question as a named query (clickhouse/queries/*.sql) run that query: its SQL
 * is read from the file when the dashboards are built and its parameters are bound to Grafana's, so the SQL
 * lives once, in clickhouse/. {from:DateTime} / {to:DateTime} become the plugin's time-range macros,
 * {tenant:String} the tenant variable; any other parameter takes the value the panel gives or the file's
 * default, as a literal checked against its declared type.
 */
import { loadNamedQuery, type NamedQuery } from '../../processor/src/query/named-queries.js';
import { FROM, TO } from './sql.js';
import { TENANT } from './variables.js';

/** Where a panel's or alert's numbers come from (listed in docs/grafana.md). */
export type Definition =
  /** Runs clickhouse/queries/<name>.sql (optionally wrapped, e.g. summed for a stat). */
  | { namedQuery: string }
  /** Reads a parameterized view of the migrations that holds the shared definition. */
  | { view: string }
  /** Its own query: what it computes differently from the named queries, and why. */
  | { differs: string };

// A function, not a constant: panels.ts imports this module and sql.ts imports panels.ts (import cycle).
const grafanaBindings = (): Record<string, { type: string; sql: string }> => ({
  from: { type: 'DateTime', sql: FROM },
  to: { type: 'DateTime', sql: TO },
  tenant: { type: 'String', sql: TENANT },
});

function literal(q: NamedQuery, name: string, type: string, value: string | number): string {
  if (/^U?Int\d+$/.test(type)) {
    const n = Number(value);
    if (!Number.isInteger(n) || (type.startsWith('U') && n < 0)) throw new Error(`${q.file}: parameter ${name}:${type} got ${value}`);
    return String(n);
  }
  if (/^Float\d+$/.test(type)) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`${q.file}: parameter ${name}:${type} got ${value}`);
    return String(n);
  }
  if (type === 'String') return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  throw new Error(`${q.file}: parameter ${name} has type ${type}, which panels cannot bind`);
}

/**
 * The SQL of a named query with Grafana's time range and tenant bound to its parameters. `params` gives
 * the other parameters (literals); `bind` binds a parameter to another SQL expression: a different window,
 * e.g. the projection's "last 7 days" { from: `$__toTime() - toIntervalDay(7)` }, or a dashboard variable,
 * e.g. { threshold: 'toFloat64($confidence_threshold)' }.
 */
export function namedQuerySql(name: string, params: Record<string, string | number> = {}, bind: Record<string, string> = {}): string {
  const q = loadNamedQuery(name);
  const bindings = grafanaBindings();
  for (const [k, sql] of Object.entries(bind)) {
    // from/to: another window; any other parameter: a dashboard variable (e.g. a threshold the user picks).
    const p = q.parameters.find((x) => x.name === k);
    if (!p) throw new Error(`${q.file} has no parameter ${k}`);
    bindings[k] = { type: p.type, sql };
  }
  for (const key of Object.keys(params)) {
    if (!q.parameters.some((p) => p.name === key)) throw new Error(`${q.file} has no parameter ${key}`);
    if (key in bindings) throw new Error(`${q.file}: ${key} is bound to the dashboard, not given by a panel`);
  }
  const values = new Map<string, string>();
  for (const p of q.parameters) {
    const bound = bindings[p.name];
    if (bound) {
      if (bound.type !== p.type) throw new Error(`${q.file}: parameter ${p.name} is ${p.type}, Grafana binds ${bound.type}`);
      values.set(p.name, bound.sql);
      continue;
    }
    const v = params[p.name] ?? p.default;
    if (v === undefined) throw new Error(`${q.file}: parameter ${p.name}:${p.type} needs a value`);
    values.set(p.name, literal(q, p.name, p.type, v));
  }
  return q.sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}/g, (_m, pname: string) => values.get(pname)!);
}

/** The clause a panel description ends with, so Grafana users see where the number comes from. */
export function definitionNote(d: Definition): string {
  if ('namedQuery' in d) return ` Runs the named query \`${d.namedQuery}\` (clickhouse/queries/${d.namedQuery}.sql).`;
  if ('view' in d) return ` Reads the view \`${d.view}\` (the shared definition, clickhouse/migrations).`;
  return ` Own query: ${d.differs}`;
}

const same = (query?: string) =>
  query ? ` The named query \`${query}\` computes the same measure from the same source for the whole tenant, in its own grouping (per day, feature, model...) and without the dashboard filters.` : '';

/** Why a panel runs its own SQL, by the shape no named query has (see docs/grafana.md). */
export const DIFFERS = {
  /** Time series: per Grafana interval ($__timeInterval) with the dashboard filters. */
  interval: (query?: string): Definition => ({
    differs: `a series per Grafana interval ($__timeInterval) with the dashboard filters; named queries return per-hour/day or whole-range tables and take no dashboard filters.${same(query)}`,
  }),
  /** Stat: one figure over the range with the dashboard filters, usually with the change versus the previous period. */
  figure: (query?: string): Definition => ({
    differs: `one figure over the dashboard range with the dashboard filters (and the change versus the previous period); named queries return tables and take no dashboard filters.${same(query)}`,
  }),
  /** Table / bar / pie: a breakdown over the range with the dashboard filters. */
  breakdown: (query?: string): Definition => ({
    differs: `a breakdown over the dashboard range with the dashboard filters; named queries take no dashboard filters.${same(query)}`,
  }),
};

/** Description clause of a panel that runs a named query as is (named queries take a tenant and a range only). */
export const NAMED_QUERY_FILTERS_NOTE =
  ' Only the tenant and the time range apply: the service filter does not apply and the other dashboard filters do not apply either (the named query takes none).';
