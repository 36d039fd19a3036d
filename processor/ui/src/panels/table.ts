import type { Column, Panel, TargetResult } from '../api.js';
import { fieldDisplay } from '../fields.js';
import { blYlRd, color, formatTime, formatValue, mapped, thresholdColor, type FieldDisplay } from '../format.js';
import { isNumeric, isTime } from '../frames.js';

export interface TableContext {
  /** Link to the built-in trace page for a data link into Grafana's trace view (format 3 query). */
  traceHref(traceId: string): string;
}

function cellText(value: unknown, c: Column, f: FieldDisplay): string {
  if (isTime(c) && typeof value === 'number') return formatTime(value);
  return formatValue(value, f);
}

/**
 * Grafana's table: columns in query order, units and decimals per field, cell types color-background
 * (thresholds or a continuous scheme over the table's min..max, as the weekday × hour heatmap uses),
 * color-text and gauge, value mappings, initial sort, and data links (trace links open the trace page).
 */
export function renderTable(body: HTMLElement, panel: Panel, targets: TargetResult[], ctx: TableContext): boolean {
  const t = targets.find((x) => x.rows.length > 0);
  if (!t) return false;
  const fields = t.meta.map((c) => fieldDisplay(panel.fieldConfig, c.name));
  // continuous color schemes span every numeric value of the table (Grafana's default: min/max over all fields)
  const numbers = t.rows.flatMap((r) => r.filter((v, i) => isNumeric(t.meta[i]!) && typeof v === 'number') as number[]);
  const lo = numbers.length ? Math.min(...numbers) : 0;
  const hi = numbers.length ? Math.max(...numbers) : 1;
  const colMax = t.meta.map((_c, i) => Math.max(0, ...t.rows.map((r) => (typeof r[i] === 'number' ? (r[i] as number) : 0))));
  let rows = t.rows;
  const sortBy = (panel.options?.sortBy as Array<{ displayName: string; desc?: boolean }> | undefined)?.[0];
  const sortIdx = sortBy ? t.meta.findIndex((c) => c.name === sortBy.displayName) : -1;
  if (sortIdx >= 0) {
    rows = [...rows].sort((a, b) => {
      const x = a[sortIdx] as number | string;
      const y = b[sortIdx] as number | string;
      const cmp = x < y ? -1 : x > y ? 1 : 0;
      return sortBy!.desc ? -cmp : cmp;
    });
  }
  const table = document.createElement('table');
  table.className = 'grid-table';
  const head = table.createTHead().insertRow();
  t.meta.forEach((c, i) => {
    const th = document.createElement('th');
    th.textContent = c.name;
    const w = fields[i]!.custom?.width;
    if (typeof w === 'number') th.style.width = `${w}px`;
    if (isNumeric(c)) th.className = 'num';
    head.append(th);
  });
  const tbody = table.createTBody();
  for (const r of rows) {
    const tr = tbody.insertRow();
    t.meta.forEach((c, i) => {
      const f = fields[i]!;
      const td = tr.insertCell();
      const value = r[i];
      if (isNumeric(c)) td.className = 'num';
      const cell = (f.custom?.cellOptions as { type?: string } | undefined)?.type;
      const text = cellText(value, c, f);
      const mapping = mapped(value, f);
      const traceLink = f.links?.find((l) => l.internal?.query?.format === 3);
      if (traceLink && typeof value === 'string' && value !== '') {
        const a = document.createElement('a');
        a.href = ctx.traceHref(value);
        a.textContent = text;
        a.title = traceLink.title;
        a.className = 'trace-link';
        td.append(a);
      } else if (cell === 'gauge' && typeof value === 'number') {
        const max = f.max ?? colMax[i]!;
        const bar = document.createElement('div');
        bar.className = 'cell-gauge';
        const fill = document.createElement('div');
        const c2 = thresholdColor(value, f) ?? '#5794f2';
        fill.style.width = `${max > 0 ? Math.min(100, (value / max) * 100) : 0}%`;
        fill.style.background = c2;
        const label = document.createElement('span');
        label.textContent = text;
        bar.append(fill);
        td.append(bar, label);
      } else {
        td.textContent = mapping?.text ?? text;
      }
      if (isNumeric(c) && typeof value === 'number') td.dataset.value = String(value);
      if (isTime(c) && typeof value === 'number') td.dataset.time = String(value);
      if (cell === 'color-background' && typeof value === 'number') {
        const bg = f.color?.mode?.startsWith('continuous') ? blYlRd(hi > lo ? (value - lo) / (hi - lo) : 0) : thresholdColor(value, f);
        if (bg) {
          td.style.background = bg;
          td.style.color = '#111';
        }
      } else if (cell === 'color-text' || mapping?.color) {
        td.style.color = mapping?.color ? color(mapping.color) : (thresholdColor(value, f) ?? '');
      }
    });
  }
  const scroll = document.createElement('div');
  scroll.className = 'table-scroll';
  scroll.append(table);
  body.replaceChildren(scroll);
  return true;
}
