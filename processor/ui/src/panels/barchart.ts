import type { Panel, TargetResult } from '../api.js';
import { AXIS_STYLE, chartIn } from '../charts.js';
import { PALETTE } from '../palette.js';
import { fieldDisplay } from '../fields.js';
import { formatValue } from '../format.js';
import { isNumeric } from '../frames.js';

/** Grafana's bar chart: categories from `xField` (else the first string column), one bar series per numeric column. */
export function renderBarChart(body: HTMLElement, panel: Panel, targets: TargetResult[]): boolean {
  const t = targets.find((x) => x.rows.length > 0);
  if (!t) return false;
  const xName = (panel.options?.xField as string | undefined) ?? t.meta.find((c) => !isNumeric(c))?.name;
  const xIdx = t.meta.findIndex((c) => c.name === xName);
  const valueIdx = t.meta.map((c, i) => (i !== xIdx && isNumeric(c) ? i : -1)).filter((i) => i >= 0);
  if (xIdx < 0 || valueIdx.length === 0) return false;
  const el = document.createElement('div');
  el.className = 'chart';
  body.replaceChildren(el);
  const defaults = fieldDisplay(panel.fieldConfig, '');
  const horizontal = panel.options?.orientation === 'horizontal';
  const category = { type: 'category', data: t.rows.map((r) => String(r[xIdx])), ...AXIS_STYLE, splitLine: { show: false } };
  const value = { type: 'value', ...AXIS_STYLE, axisLabel: { ...AXIS_STYLE.axisLabel, formatter: (v: number) => formatValue(v, { ...defaults, decimals: undefined }) } };
  chartIn(el).setOption(
    {
      backgroundColor: 'transparent',
      animation: false,
      grid: { left: 8, right: 16, top: 12, bottom: valueIdx.length > 1 ? 28 : 8, containLabel: true },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => formatValue(v as number, defaults) },
      legend: valueIdx.length > 1 ? { bottom: 0, textStyle: { color: '#ccc' } } : undefined,
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: valueIdx.map((i, k) => {
        const f = fieldDisplay(panel.fieldConfig, t.meta[i]!.name);
        return {
          name: t.meta[i]!.name,
          type: 'bar',
          data: t.rows.map((r) => r[i]),
          color: PALETTE[k % PALETTE.length],
          itemStyle: { opacity: Number(f.custom?.fillOpacity ?? 80) / 100 },
          label: { show: panel.options?.showValue !== 'never', position: horizontal ? 'right' : 'top', color: '#ccc', formatter: (p: { value: number }) => formatValue(p.value, f) },
        };
      }),
    },
    true,
  );
  return true;
}
