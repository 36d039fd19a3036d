import type { Panel, TargetResult } from '../api.js';
import { fieldDisplay } from '../fields.js';
import { formatValue, thresholdColor } from '../format.js';
import { isNumeric } from '../frames.js';

/** Grafana's bar gauge (values: true, horizontal, gradient): one bar per row, scaled to the largest value. */
export function renderBarGauge(body: HTMLElement, panel: Panel, targets: TargetResult[]): boolean {
  const t = targets.find((x) => x.rows.length > 0);
  if (!t) return false;
  const nameIdx = t.meta.findIndex((c) => !isNumeric(c));
  const valueIdx = t.meta.findIndex(isNumeric);
  if (valueIdx < 0) return false;
  const f = fieldDisplay(panel.fieldConfig, t.meta[valueIdx]!.name);
  const values = t.rows.map((r) => Number(r[valueIdx] ?? 0));
  const max = f.max ?? Math.max(...values, 0);
  const list = document.createElement('div');
  list.className = 'bargauge';
  t.rows.forEach((r, i) => {
    const row = document.createElement('div');
    row.className = 'bargauge-row';
    const name = document.createElement('div');
    name.className = 'bargauge-name';
    name.textContent = nameIdx >= 0 ? String(r[nameIdx]) : t.meta[valueIdx]!.name;
    const track = document.createElement('div');
    track.className = 'bargauge-track';
    const bar = document.createElement('div');
    bar.className = 'bargauge-bar';
    const c = thresholdColor(values[i], f) ?? '#5794f2';
    bar.style.width = `${max > 0 ? Math.max(0, (values[i]! / max) * 100) : 0}%`;
    bar.style.background = `linear-gradient(90deg, ${c}33, ${c})`;
    track.append(bar);
    const value = document.createElement('div');
    value.className = 'bargauge-value';
    value.style.color = c;
    value.textContent = formatValue(r[valueIdx], f);
    value.dataset.value = String(r[valueIdx]);
    row.append(name, track, value);
    list.append(row);
  });
  body.replaceChildren(list);
  return true;
}
