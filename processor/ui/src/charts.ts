// Apache ECharts, only the parts the dashboards need (tree-shaken by esbuild).
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, PieChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export const PALETTE = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0', '#508642', '#cca300', '#447ebc', '#c15c17'];

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
