import uPlot from 'uplot';
import type { Panel, TargetResult } from '../api.js';
import { fieldDisplay } from '../fields.js';
import { color as namedColor, formatTime, formatValue, type FieldDisplay } from '../format.js';
import { seriesName, toSeries, type Series } from '../frames.js';
import { PALETTE, withAlpha } from '../palette.js';
import { axisLabel, timeZone, zoneLabel } from '../timezone.js';
import { legendTable } from './legend.js';
import { tooltipPlugin, type TooltipSeries } from './tooltip.js';

const FONT = '11px Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const AXIS_TEXT = '#a0a0a0';
/** Grafana dark theme's grid lines. */
const GRID = 'rgba(204, 204, 220, 0.07)';
const BAR_MAX_WIDTH = 24;

/** The chart drawn in each panel body, destroyed when the panel draws again. */
const drawn = new WeakMap<HTMLElement, { plot: uPlot; resize: ResizeObserver }>();

interface Entry {
  s: Series;
  name: string;
  f: FieldDisplay;
  color: string;
}

/**
 * uPlot wants columns on one x: the union of the series' timestamps, each series' values in that order.
 * A timestamp a series lacks is `undefined` (uPlot draws across it, as Grafana's join does), a NULL from
 * the query stays `null` (a gap unless spanNulls); stacked series count a missing point as 0.
 */
function align(entries: Entry[], stacked: boolean): { xs: number[]; ys: Array<Array<number | null | undefined>> } {
  const xs = [...new Set(entries.flatMap((e) => e.s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = entries.map((e) => {
    const col: Array<number | null | undefined> = new Array(xs.length).fill(stacked ? 0 : undefined);
    for (const [t, v] of e.s.points) col[at.get(t)!] = stacked ? (v ?? 0) : v;
    return col;
  });
  return { xs, ys };
}

/** Running sums for stacking (series i drawn at the sum of series 0..i), and the bands filled between them. */
function stack(ys: Array<Array<number | null | undefined>>): { sums: number[][]; bands: uPlot.Band[] } {
  const sums: number[][] = [];
  ys.forEach((col, i) => sums.push(col.map((v, k) => (i === 0 ? 0 : sums[i - 1]![k]!) + (v ?? 0))));
  // uPlot series index = column + 1 (0 is x); each band fills from a series down to the one under it
  const bands = ys.slice(1).map((_c, i) => ({ series: [i + 2, i + 1] as [number, number] }));
  return { sums, bands };
}

let measureCtx: CanvasRenderingContext2D | null | undefined;
/** Width in CSS pixels of the widest label, for the y axis size (uPlot's is fixed unless computed). */
function textWidth(labels: string[]): number {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  if (!measureCtx) return labels.reduce((w, l) => Math.max(w, l.length * 7), 0);
  measureCtx.font = FONT;
  return labels.reduce((w, l) => Math.max(w, measureCtx!.measureText(l).width), 0);
}

/** Grafana's time series panel: lines or (stacked) bars per series, unit-formatted axis, legend with calcs. */
export function renderTimeSeries(body: HTMLElement, panel: Panel, targets: TargetResult[], range: { from: number; to: number }): boolean {
  const all = targets.flatMap(toSeries);
  if (all.length === 0 || all.every((s) => s.points.length === 0)) return false;
  const defaults = fieldDisplay(panel.fieldConfig, '');
  const custom = defaults.custom ?? {};
  const multipleFields = new Set(all.map((s) => s.field)).size > 1;
  const entries: Entry[] = all.map((s, i) => {
    const name = seriesName(s, defaults.displayName, multipleFields);
    const f = fieldDisplay(panel.fieldConfig, name === s.field ? s.field : name);
    const own = fieldDisplay(panel.fieldConfig, s.field);
    const merged = { ...f, ...own, custom: { ...f.custom, ...own.custom } };
    const color = merged.color?.mode === 'fixed' && merged.color.fixedColor ? namedColor(merged.color.fixedColor) : PALETTE[i % PALETTE.length]!;
    return { s, name, f: merged, color };
  });
  const bars = custom.drawStyle === 'bars';
  const stacked = (custom.stacking as { mode?: string } | undefined)?.mode === 'normal';
  const { xs, ys } = align(entries, stacked);
  const { sums, bands } = stacked ? stack(ys) : { sums: undefined, bands: [] };

  drawn.get(body)?.plot.destroy();
  drawn.get(body)?.resize.disconnect();
  const chartEl = document.createElement('div');
  chartEl.className = 'chart';
  body.replaceChildren(chartEl);
  const legend = panel.options?.legend as { showLegend?: boolean; calcs?: string[]; displayMode?: string } | undefined;
  if (legend?.showLegend !== false) {
    body.append(
      legendTable(
        entries.map((e) => ({ name: e.name, color: e.color, values: e.s.points.map((p) => p[1]), f: e.f })),
        legend?.calcs ?? [],
      ),
    );
  }

  const spanMs = range.to - range.from;
  const axisValue = (v: number) => formatValue(v, { ...defaults, decimals: undefined });
  // the x labels of the last axis pass, kept on the element at each draw (a canvas cannot be read back)
  let ticks: { at: number[]; labels: string[] } = { at: [], labels: [] };
  const series: uPlot.Series[] = [
    {},
    ...entries.map(({ f, color }, i): uPlot.Series => {
      const lineStyle = f.custom?.lineStyle as { fill?: string; dash?: number[] } | undefined;
      const fill = Number(f.custom?.fillOpacity ?? custom.fillOpacity ?? 0) / 100;
      const shown = ys[i]!.filter((v) => v !== null && v !== undefined).length;
      return {
        label: entries[i]!.name,
        stroke: color,
        width: Number(f.custom?.lineWidth ?? custom.lineWidth ?? 1),
        // bars are filled at least half-opaque, as before; lines only when the field asks
        fill: bars ? withAlpha(color, Math.max(fill, 0.5)) : fill > 0 ? withAlpha(color, fill) : undefined,
        dash: lineStyle?.fill === 'dash' ? (lineStyle.dash ?? [10, 10]) : undefined,
        spanGaps: Boolean(custom.spanNulls),
        paths: bars
          ? uPlot.paths.bars!({ size: [0.6, BAR_MAX_WIDTH] })
          : custom.lineInterpolation === 'smooth'
            ? uPlot.paths.spline!()
            : undefined,
        // showPoints "never" hides points, but a series of one or two points would then draw nothing at all
        points: { show: !bars && (custom.showPoints !== 'never' || shown <= 2), size: 5, fill: color },
        value: (_u, v) => formatValue(v, f),
      };
    }),
  ];
  const yRange: uPlot.Scale.Range = (_u, dmin, dmax) => {
    // padded by a tenth and always including 0 (soft mode 1), as the charts were drawn before; a flat series
    // gets room around its value rather than a sliver of a range
    const flatZero = dmin === null || (dmin === 0 && dmax === 0);
    const [autoMin, autoMax] = flatZero ? [0, 1] : uPlot.rangeNum(dmin, dmax, { min: { pad: 0.1, soft: 0, mode: 1 }, max: { pad: 0.1, soft: 0, mode: 1 } });
    return [defaults.min ?? autoMin, defaults.max ?? autoMax];
  };
  const opts: uPlot.Options = {
    width: Math.max(100, chartEl.clientWidth),
    height: Math.max(60, chartEl.clientHeight),
    ms: 1,
    // tick positions follow the dashboard's zone (days start at its midnight); the labels are ours, in that zone
    tzDate: timeZone() === 'utc' ? (ts) => uPlot.tzDate(new Date(ts), 'Etc/UTC') : (ts) => new Date(ts),
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false }, points: { size: 6 } },
    scales: { x: { time: true, range: () => [range.from, range.to] }, y: { range: yRange } },
    bands,
    series,
    axes: [
      {
        stroke: AXIS_TEXT,
        font: FONT,
        grid: { stroke: GRID, width: 1 },
        ticks: { show: false },
        space: spanMs > 2 * 86_400_000 ? 70 : 50,
        // one line of labels (uPlot's default leaves room for two)
        size: 22,
        values: (_u, splits) => {
          const labels = splits.map((v) => axisLabel(v, spanMs));
          ticks = { at: splits, labels };
          return labels;
        },
      },
      {
        stroke: AXIS_TEXT,
        font: FONT,
        grid: { stroke: GRID, width: 1 },
        ticks: { show: false },
        values: (_u, splits) => splits.map(axisValue),
        size: (_u, values) => Math.ceil(textWidth(values ?? [])) + 12,
      },
    ],
    hooks: {
      draw: [
        () => {
          chartEl.dataset.timeTicks = ticks.at.join('|');
          chartEl.dataset.timeLabels = ticks.labels.join('|');
        },
      ],
    },
    plugins: [
      tooltipPlugin(
        entries.map((e, i): TooltipSeries => ({ name: e.name, color: e.color, values: ys[i]!, format: (v) => formatValue(v, e.f) })),
        formatTime,
      ),
    ],
  };
  const plot = new uPlot(opts, [xs, ...(sums ?? ys)] as uPlot.AlignedData, chartEl);
  const resize = new ResizeObserver(() => {
    const width = Math.max(100, chartEl.clientWidth);
    const height = Math.max(60, chartEl.clientHeight);
    if (width !== plot.width || height !== plot.height) plot.setSize({ width, height });
  });
  resize.observe(chartEl);
  drawn.set(body, { plot, resize });

  chartEl.dataset.points = String(all.reduce((n, s) => n + s.points.length, 0));
  chartEl.title = `${all.length} series, ${formatTime(range.from)} – ${formatTime(range.to)} ${zoneLabel(range.from)}`;
  return true;
}
