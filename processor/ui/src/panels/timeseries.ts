import type { Panel, TargetResult } from '../api.js';
import { AXIS_STYLE, chartIn, PALETTE } from '../charts.js';
import { fieldDisplay } from '../fields.js';
import { formatTime, formatValue } from '../format.js';
import { axisLabel, timeZone, zoneLabel } from '../timezone.js';
import { seriesName, toSeries } from '../frames.js';
import { legendTable } from './legend.js';

/** Grafana's time series panel: lines or (stacked) bars per series, unit-formatted axis, legend with calcs. */
export function renderTimeSeries(body: HTMLElement, panel: Panel, targets: TargetResult[], range: { from: number; to: number }): boolean {
  const all = targets.flatMap(toSeries);
  if (all.length === 0 || all.every((s) => s.points.length === 0)) return false;
  const defaults = fieldDisplay(panel.fieldConfig, '');
  const custom = defaults.custom ?? {};
  const multipleFields = new Set(all.map((s) => s.field)).size > 1;
  const chartEl = document.createElement('div');
  chartEl.className = 'chart';
  body.replaceChildren(chartEl);
  const entries = all.map((s, i) => {
    const name = seriesName(s, defaults.displayName, multipleFields);
    const f = fieldDisplay(panel.fieldConfig, name === s.field ? s.field : name);
    const own = fieldDisplay(panel.fieldConfig, s.field);
    const merged = { ...f, ...own, custom: { ...f.custom, ...own.custom } };
    const color = merged.color?.mode === 'fixed' && merged.color.fixedColor ? merged.color.fixedColor : PALETTE[i % PALETTE.length]!;
    return { s, name, f: merged, color };
  });
  const bars = custom.drawStyle === 'bars';
  const stacked = (custom.stacking as { mode?: string } | undefined)?.mode === 'normal';
  // ECharts stacks by data index: give every stacked series the same timestamps (a missing point adds 0)
  if (stacked) {
    const times = [...new Set(all.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    for (const e of entries) {
      const byTime = new Map(e.s.points.map((p) => [p[0], p[1]]));
      e.s = { ...e.s, points: times.map((t) => [t, byTime.get(t) ?? 0] as [number, number | null]) };
    }
  }
  const labels = new Set<string>();
  const label = (v: number): string => {
    const text = axisLabel(v, range.to - range.from);
    labels.add(text);
    return text;
  };
  const chart = chartIn(chartEl);
  chart.setOption(
    {
      backgroundColor: 'transparent',
      animation: false,
      grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: unknown) => formatValue(v as number, defaults),
        axisPointer: { type: 'line' },
      },
      // ECharts places time ticks in local time unless useUTC; the labels are ours, in the dashboard's zone
      useUTC: timeZone() === 'utc',
      xAxis: {
        type: 'time',
        min: range.from,
        max: range.to,
        ...AXIS_STYLE,
        axisLabel: { ...AXIS_STYLE.axisLabel, hideOverlap: true, formatter: (v: number) => label(v) },
        splitLine: { show: false },
      },
      yAxis: {
        type: 'value',
        min: defaults.min,
        max: defaults.max,
        ...AXIS_STYLE,
        axisLabel: { ...AXIS_STYLE.axisLabel, formatter: (v: number) => formatValue(v, { ...defaults, decimals: undefined }) },
      },
      series: entries.map(({ s, name, f, color }) => {
        const lineStyle = f.custom?.lineStyle as { fill?: string; dash?: number[] } | undefined;
        const fill = Number(f.custom?.fillOpacity ?? custom.fillOpacity ?? 0) / 100;
        return {
          name,
          type: bars ? 'bar' : 'line',
          stack: stacked ? 'A' : undefined,
          data: s.points,
          color,
          // showPoints "never" hides points, but a series of one or two points would then draw nothing at all
          showSymbol: custom.showPoints !== 'never' || s.points.filter((x) => x[1] !== null).length <= 2,
          smooth: custom.lineInterpolation === 'smooth' ? 0.3 : false,
          connectNulls: Boolean(custom.spanNulls),
          lineStyle: { width: Number(custom.lineWidth ?? 1), type: lineStyle?.fill === 'dash' ? (lineStyle.dash ?? 'dashed') : 'solid' },
          areaStyle: !bars && fill > 0 ? { opacity: fill } : undefined,
          itemStyle: bars ? { opacity: Math.max(fill, 0.5) } : undefined,
          barMaxWidth: 24,
        };
      }),
    },
    true,
  );
  const legend = panel.options?.legend as { showLegend?: boolean; calcs?: string[]; displayMode?: string } | undefined;
  if (legend?.showLegend !== false) {
    body.append(
      legendTable(
        entries.map((e) => ({ name: e.name, color: e.color, values: e.s.points.map((p) => p[1]), f: e.f })),
        legend?.calcs ?? [],
      ),
    );
  }
  chartEl.dataset.points = String(all.reduce((n, s) => n + s.points.length, 0));
  chartEl.title = `${all.length} series, ${formatTime(range.from)} – ${formatTime(range.to)} ${zoneLabel(range.from)}`;
  // the time labels the axis drew, for tests and the curious (a canvas cannot be read back)
  chartEl.dataset.timeLabels = [...labels].join('|');
  return true;
}
