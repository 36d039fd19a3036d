import type { Panel, TargetResult } from '../api.js';
import { chartIn } from '../charts.js';
import { PALETTE } from '../palette.js';
import { fieldDisplay } from '../fields.js';
import { formatValue } from '../format.js';
import { isNumeric } from '../frames.js';

/** Grafana's pie chart with reduceOptions.values = true: one slice per row, named by its string column. */
export function renderPieChart(body: HTMLElement, panel: Panel, targets: TargetResult[]): boolean {
  const t = targets.find((x) => x.rows.length > 0);
  if (!t) return false;
  const nameIdx = t.meta.findIndex((c) => !isNumeric(c));
  const valueIdx = t.meta.findIndex(isNumeric);
  if (valueIdx < 0) return false;
  const f = fieldDisplay(panel.fieldConfig, t.meta[valueIdx]!.name);
  const data = t.rows.map((r, i) => ({ name: nameIdx >= 0 ? String(r[nameIdx]) : String(i), value: r[valueIdx] as number }));
  const total = data.reduce((a, d) => a + (d.value ?? 0), 0);
  const el = document.createElement('div');
  el.className = 'chart';
  body.replaceChildren(el);
  const donut = panel.options?.pieType === 'donut';
  chartIn(el).setOption(
    {
      backgroundColor: 'transparent',
      animation: false,
      color: PALETTE,
      tooltip: { trigger: 'item', valueFormatter: (v: unknown) => formatValue(v as number, f) },
      legend: {
        orient: 'vertical',
        right: 8,
        top: 'middle',
        textStyle: { color: '#ccc' },
        formatter: (name: string) => {
          const d = data.find((x) => x.name === name);
          const share = total > 0 && d ? ((d.value / total) * 100).toFixed(0) : '0';
          return `${name}  ${formatValue(d?.value, f)}  ${share}%`;
        },
      },
      series: [
        {
          type: 'pie',
          radius: donut ? ['40%', '68%'] : '68%',
          center: ['25%', '50%'],
          data,
          label: { show: true, color: '#ddd', formatter: (p: { percent: number }) => `${p.percent.toFixed(0)}%` },
        },
      ],
    },
    true,
  );
  return true;
}
