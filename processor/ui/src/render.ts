// Every panel renderer (and with them Apache ECharts, most of the script): loaded as a separate chunk while
// the dashboard's queries run, so the page can send its request before the charting code is parsed.
import type { Panel, TargetResult } from './api.js';
import { renderBarChart } from './panels/barchart.js';
import { renderBarGauge } from './panels/bargauge.js';
import { renderPieChart } from './panels/piechart.js';
import { renderStat } from './panels/stat.js';
import { renderTable } from './panels/table.js';
import { renderTimeSeries } from './panels/timeseries.js';

export { renderText } from './panels/text.js';

export interface DrawContext {
  range: { from: number; to: number };
  traceHref(traceId: string): string;
}

/** Draws one panel's query results; false when there is nothing to draw (or the kind is unknown). */
export function drawPanel(body: HTMLElement, panel: Panel, targets: TargetResult[], ctx: DrawContext): boolean {
  switch (panel.type) {
    case 'timeseries':
      return renderTimeSeries(body, panel, targets, ctx.range);
    case 'barchart':
      return renderBarChart(body, panel, targets);
    case 'piechart':
      return renderPieChart(body, panel, targets);
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
