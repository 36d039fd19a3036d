// Query results turned into what panels draw, as Grafana's data plane does for the ClickHouse plugin:
// a time-series result in long form (time, label columns, value columns) becomes one series per label
// set and value column (sqlds long-to-wide), and tables keep their columns.
import type { Column, TargetResult } from './api.js';

export const isNumeric = (c: Column) => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(c.type);
export const isTime = (c: Column) => /^(Nullable\()?(DateTime|Date)/.test(c.type);
export const isString = (c: Column) => /^(Nullable\()?(LowCardinality\()?(String|FixedString|Enum)/.test(c.type);

export interface Series {
  /** Value column name. */
  field: string;
  labels: Record<string, string>;
  points: Array<[number, number | null]>;
}

export function toSeries(t: TargetResult): Series[] {
  const timeIdx = t.meta.findIndex(isTime);
  if (timeIdx < 0) return [];
  const labelIdx = t.meta.map((c, i) => (i !== timeIdx && isString(c) ? i : -1)).filter((i) => i >= 0);
  const valueIdx = t.meta.map((c, i) => (i !== timeIdx && isNumeric(c) ? i : -1)).filter((i) => i >= 0);
  const series = new Map<string, Series>();
  for (const row of t.rows) {
    const labels: Record<string, string> = {};
    for (const i of labelIdx) labels[t.meta[i]!.name] = String(row[i] ?? '');
    for (const i of valueIdx) {
      const key = t.meta[i]!.name + '\u0000' + labelIdx.map((j) => String(row[j])).join('\u0000');
      let s = series.get(key);
      if (!s) series.set(key, (s = { field: t.meta[i]!.name, labels, points: [] }));
      s.points.push([row[timeIdx] as number, row[i] as number | null]);
    }
  }
  return [...series.values()];
}

/** Grafana's display name: the field's displayName template, else the field name plus its labels. */
export function seriesName(s: Series, displayName: string | undefined, multipleFields: boolean): string {
  if (displayName) {
    return displayName.replace(/\$\{__field\.labels\.([\w]+)\}/g, (_m, k: string) => s.labels[k] ?? '').replace(/\$\{__field\.name\}/g, s.field);
  }
  const labels = Object.values(s.labels);
  if (labels.length === 0) return s.field;
  return multipleFields ? `${s.field} ${labels.join(' ')}` : labels.join(' ');
}

export function hasRows(targets: TargetResult[]): boolean {
  return targets.some((t) => t.rows.length > 0);
}
