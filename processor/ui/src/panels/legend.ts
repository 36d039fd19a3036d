import type { FieldDisplay } from '../format.js';
import { formatValue } from '../format.js';

const CALCS: Record<string, { label: string; fn: (v: number[]) => number | null }> = {
  sum: { label: 'Total', fn: (v) => v.reduce((a, b) => a + b, 0) },
  mean: { label: 'Mean', fn: (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null) },
  max: { label: 'Max', fn: (v) => (v.length ? Math.max(...v) : null) },
  min: { label: 'Min', fn: (v) => (v.length ? Math.min(...v) : null) },
  lastNotNull: { label: 'Last *', fn: (v) => v.at(-1) ?? null },
};

/** Grafana's legend: one row per series with its color and the configured reducers (sum, mean, max). */
export function legendTable(items: Array<{ name: string; color: string; values: Array<number | null>; f: FieldDisplay }>, calcs: string[]): HTMLElement {
  const table = document.createElement('table');
  table.className = 'legend';
  const known = calcs.filter((c) => CALCS[c]);
  if (known.length) {
    const head = table.createTHead().insertRow();
    head.insertCell().textContent = '';
    for (const c of known) head.insertCell().textContent = CALCS[c]!.label;
  }
  const body = table.createTBody();
  for (const it of items) {
    const row = body.insertRow();
    const name = row.insertCell();
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = it.color;
    name.append(sw, document.createTextNode(it.name));
    const values = it.values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
    for (const c of known) row.insertCell().textContent = formatValue(CALCS[c]!.fn(values), it.f);
  }
  return table;
}
