import type { Panel, TargetResult } from '../api.js';
import { fieldDisplay } from '../fields.js';
import { color, formatValue, thresholdColor } from '../format.js';
import { isNumeric } from '../frames.js';

/**
 * Grafana's stat panel (reduce lastNotNull over rows, one value per numeric field, text mode
 * value_and_name): the first field is the figure, the others (the dashboards' "vs previous period"
 * change) are shown under it with their own unit, thresholds and no-value text.
 */
export function renderStat(body: HTMLElement, panel: Panel, targets: TargetResult[]): boolean {
  const t = targets[0];
  if (!t) return false;
  const fields = t.meta.map((c, i) => ({ c, i })).filter(({ c }) => isNumeric(c));
  if (fields.length === 0) return false;
  const wrap = document.createElement('div');
  wrap.className = 'stat';
  let shown = false;
  fields.forEach(({ c, i }, k) => {
    const f = fieldDisplay(panel.fieldConfig, c.name);
    let value: unknown = null;
    for (const row of t.rows) if (row[i] !== null && row[i] !== undefined) value = row[i];
    if (k === 0 && value !== null) shown = true;
    const el = document.createElement('div');
    el.className = k === 0 ? 'stat-main' : 'stat-extra';
    const v = document.createElement('span');
    v.className = 'stat-value';
    v.dataset.field = c.name;
    v.dataset.value = value === null ? '' : String(value);
    let text = formatValue(value, { ...f, noValue: f.noValue ?? 'No data' });
    if (k > 0 && typeof value === 'number' && f.unit === 'percentunit' && value > 0) text = `+${text}`;
    v.textContent = text;
    if (f.color?.mode === 'thresholds' || panel.options?.colorMode === 'value') v.style.color = thresholdColor(value, f) ?? color('text');
    const name = document.createElement('span');
    name.className = 'stat-name';
    name.textContent = c.name;
    el.append(v, name);
    wrap.append(el);
  });
  body.replaceChildren(wrap);
  return shown;
}
