// The panel renderers (with uPlot for the time series): loaded as a separate chunk while the dashboard's
// queries run, so the page can send its request before the charting code is parsed. Bar and pie charts are
// drawn by ECharts, a further chunk loaded only for dashboards that have them (echarts-loader.ts).
import type { Panel, TargetResult } from './api.js';
import { loadEchartsPanels } from './echarts-loader.js';
import { renderBarGauge } from './panels/bargauge.js';
import { renderStat } from './panels/stat.js';
import { renderTable } from './panels/table.js';
import { renderTimeSeries } from './panels/timeseries.js';

export { renderText } from './panels/text.js';

export interface DrawContext {
  range: { from: number; to: number };
  traceHref(traceId: string): string;
}

/** Draws one panel's query results; false when there is nothing to draw (or the kind is unknown). */
export async function drawPanel(body: HTMLElement, panel: Panel, targets: TargetResult[], ctx: DrawContext): Promise<boolean> {
  switch (panel.type) {
    case 'timeseries':
      return renderTimeSeries(body, panel, targets, ctx.range);
    case 'barchart':
      return (await loadEchartsPanels()).renderBarChart(body, panel, targets);
    case 'piechart':
      return (await loadEchartsPanels()).renderPieChart(body, panel, targets);
    case 'stat':
      return renderStat(body, panel, targets);
    case 'bargauge':
      return renderBarGauge(body, panel, targets);
    case 'table':
      return renderTable(body, panel, targets, { traceHref: ctx.traceHref });
    default: {
      const e = document.createElement('div');
      e.className = 'error';
      e.textContent = `panel type "${panel.type}" is not supported by the built-in viewer`;
      body.replaceChildren(e);
      return false;
    }
  }
}
