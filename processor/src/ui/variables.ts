// Dashboard variables resolved as Grafana does on load: in declaration order, query variables run their
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

export async function resolveVariables(
  d: DashboardJson,
  range: { from: Date; to: Date },
  selection: Selection,
  run: RunQuery,
): Promise<ResolvedVariable[]> {
  const resolved: ResolvedVariable[] = [];
  for (const v of d.templating?.list ?? []) {
    let options: Array<{ text: string; value: string }> = [];
    let sql: string | undefined;
    if (v.type === 'query') {
      sql = expandPanelQuery(variableSql(v), { from: range.from, to: range.to, variables: toVariableStates(resolved), maxDataPoints: 1000 });
      const res = await run(sql);
      options = res.rows.map((r) => ({ text: String(r[0]), value: String(r[0]) }));
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
    if (v.multi) {
      const list = Array.isArray(current) ? current : [current];
      const kept = list.filter((c) => c === ALL_VALUE || values.includes(c) || v.type === 'query');
      current = kept.length ? kept : v.includeAll ? [ALL_VALUE] : values.slice(0, 1);
    } else {
      current = Array.isArray(current) ? String(current[0] ?? '') : current;
      const allowed = current === ALL_VALUE ? v.includeAll : values.includes(current);
      if (!allowed && values.length) current = values[0]!;
    }
    resolved.push({
      name: v.name,
      label: v.label ?? v.name,
      type: v.type,
      multi: Boolean(v.multi),
      includeAll: Boolean(v.includeAll),
      hidden: (v.hide ?? 0) === 2,
      options,
      current,
      sql,
    });
  }
  return resolved;
}
