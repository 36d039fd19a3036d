// Dashboard variables resolved as Grafana does on load: query variables run their
// own (expanded) SQL, custom variables take their fixed options, and a selection that is not among the
// options falls back to the first option (single-value) as Grafana does.
import type { DashboardJson, VariableJson } from './dashboards.js';
import { ALL_VALUE, expandPanelQuery, type VariableState } from './macros.js';

export type Selection = Record<string, string | string[]>;

export interface ResolvedVariable {
  name: string;
  label: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
  hidden: boolean;
  options: Array<{ text: string; value: string }>;
  current: string | string[];
  /** The SQL sent for a query variable. */
  sql?: string;
}

export type RunQuery = (sql: string) => Promise<{ rows: unknown[][] }>;

const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? String(v[0] ?? '') : String(v ?? ''));

function variableSql(v: VariableJson): string {
  return typeof v.query === 'string' ? v.query : String(v.query?.rawSql ?? '');
}

export function toVariableStates(resolved: readonly ResolvedVariable[]): VariableState[] {
  return resolved.map((r) => ({
    name: r.name,
    multi: r.multi,
    includeAll: r.includeAll,
    current: r.current,
    options: r.options.map((o) => o.value),
  }));
}

/** Whether `sql` refers to variable `name` ($name, ${name}, ${name:format}, [[name]]). */
export function references(sql: string, name: string): boolean {
  return new RegExp(`\\$${name}\\b|\\$\\{${name}[:}.]|\\[\\[${name}[:\\]]`).test(sql);
}

/**
 * Every variable of the dashboard, as Grafana resolves them: a variable waits only for the variables its
 * query refers to (so tenant first, then the others side by side), and the result keeps declaration order.
 */
/**
 * How a tenant-scoped viewer resolves variables (query/tenant-scope.ts): `fixed` variables take the server's
 * value (the tenant) without running their query; with `strict`, every selected value must be one of the
 * options the server computed (query variables: under the tenant's filter; custom: the dashboard's own), and
 * query-variable values holding a quote or backslash are dropped, because the ClickHouse plugin's format
 * quotes multi-values without escaping (macros.ts): a value from the tenant's own data must not end the literal.
 */
export interface VariablePolicy {
  fixed?: Record<string, string>;
  strict?: boolean;
}

export class VariableRefused extends Error {}

const UNSAFE_VALUE = /['\\]/;

export async function resolveVariables(
  d: DashboardJson,
  range: { from: Date; to: Date },
  selection: Selection,
  run: RunQuery,
  policy: VariablePolicy = {},
): Promise<ResolvedVariable[]> {
  const pending = startVariables(d, range, selection, run, policy);
  return Promise.all([...pending.values()]);
}

/** Every variable's resolution, started at once (each waiting only for those it refers to), by name in declaration order. */
export function startVariables(
  d: DashboardJson,
  range: { from: Date; to: Date },
  selection: Selection,
  run: RunQuery,
  policy: VariablePolicy = {},
): Map<string, Promise<ResolvedVariable>> {
  const pending = new Map<string, Promise<ResolvedVariable>>();
  for (const v of d.templating?.list ?? []) {
    const sql = variableSql(v);
    const deps = [...pending.entries()].filter(([name]) => references(sql, name)).map(([, p]) => p);
    const resolved = Promise.all(deps).then((earlier) => resolveOne(v, earlier, range, selection, run, policy));
    // settled by whoever awaits it; never an unhandled rejection when nobody does
    resolved.catch(() => undefined);
    pending.set(v.name, resolved);
  }
  return pending;
}

async function resolveOne(
  v: VariableJson,
  earlier: ResolvedVariable[],
  range: { from: Date; to: Date },
  selection: Selection,
  run: RunQuery,
  policy: VariablePolicy,
): Promise<ResolvedVariable> {
  let options: Array<{ text: string; value: string }>;
  let sql: string | undefined;
  const fixed = policy.fixed?.[v.name];
  if (fixed !== undefined) {
    options = [{ text: fixed, value: fixed }];
  } else if (v.type === 'query') {
    sql = expandPanelQuery(variableSql(v), { from: range.from, to: range.to, variables: toVariableStates(earlier), maxDataPoints: 1000 });
    const res = await run(sql);
    options = res.rows.map((r) => ({ text: String(r[0]), value: String(r[0]) }));
    if (policy.strict) options = options.filter((o) => !UNSAFE_VALUE.test(o.value));
  } else if (v.type === 'custom') {
    options = (v.options ?? []).map((o) => ({ text: first(o.text), value: first(o.value) }));
  } else if (v.type === 'constant' || v.type === 'textbox') {
    const value = variableSql(v);
    options = [{ text: value, value }];
  } else {
    throw new Error(`variable ${v.name}: type "${v.type}" is not supported by the built-in viewer`);
  }
  const values = options.map((o) => o.value);
  const saved = v.current?.value;
  let current: string | string[] = selection[v.name] ?? (Array.isArray(saved) ? saved.map(String) : String(saved ?? ''));
  if (fixed !== undefined) current = v.multi ? [fixed] : fixed;
  if (policy.strict) {
    const chosen = (Array.isArray(current) ? current : [current]).filter((c) => c !== ALL_VALUE && c !== '');
    const unknown = chosen.filter((c) => !values.includes(c));
    if (selection[v.name] !== undefined && unknown.length > 0) {
      throw new VariableRefused(`variable "${v.name}": ${unknown.map((c) => JSON.stringify(c)).join(', ')} is not among the values you may select`);
    }
  }
  if (v.multi) {
    const list = Array.isArray(current) ? current : [current];
    const kept = list.filter((c) => c === ALL_VALUE || values.includes(c) || (v.type === 'query' && !policy.strict));
    current = kept.length ? kept : v.includeAll ? [ALL_VALUE] : values.slice(0, 1);
  } else {
    current = Array.isArray(current) ? String(current[0] ?? '') : current;
    const allowed = current === ALL_VALUE ? v.includeAll : values.includes(current);
    if (!allowed && values.length) current = values[0]!;
  }
  return {
    name: v.name,
    label: v.label ?? v.name,
    type: v.type,
    multi: Boolean(v.multi),
    includeAll: Boolean(v.includeAll),
    hidden: (v.hide ?? 0) === 2,
    options,
    current,
    sql,
  };
}
