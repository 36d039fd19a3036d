// ECharts draws only the bar and pie charts, and is imported only when a dashboard has one: the others
// never download or parse it (0.5 MB of script whose cold parse and JIT took 1.2 s of main thread on the
// Overview when it also drew the time series, now uPlot's).

/** The panel types drawn by the ECharts chunk. */
export const ECHARTS_PANEL_TYPES: ReadonlySet<string> = new Set(['barchart', 'piechart']);

let chunk: Promise<typeof import('./echarts-panels.js')> | undefined;

/** The ECharts panels, fetched once (started as soon as a dashboard is known to need them). */
export const loadEchartsPanels = () => (chunk ??= import('./echarts-panels.js'));
