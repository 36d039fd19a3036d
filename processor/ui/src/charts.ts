// Apache ECharts, only the parts the bar and pie charts need (tree-shaken by esbuild). Loaded only by
// echarts-panels.ts, a chunk of its own that a dashboard without such panels never fetches.
import * as echarts from 'echarts/core';
import { BarChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, PieChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

const charts = new WeakMap<HTMLElement, echarts.ECharts>();

/** The chart in `el`, created once and resized with its panel. */
export function chartIn(el: HTMLElement): echarts.ECharts {
  let chart = charts.get(el);
  if (!chart) {
    chart = echarts.init(el, 'dark', { renderer: 'canvas' });
    charts.set(el, chart);
    new ResizeObserver(() => chart!.resize()).observe(el);
  }
  return chart;
}

export const AXIS_STYLE = {
  axisLine: { lineStyle: { color: '#5a5a5a' } },
  axisLabel: { color: '#a0a0a0', fontSize: 11 },
  splitLine: { lineStyle: { color: '#2a2d33' } },
};
