// The panels drawn with Apache ECharts (bar and pie charts): a chunk of its own (see echarts-loader.ts).
export { renderBarChart } from './panels/barchart.js';
export { renderPieChart } from './panels/piechart.js';
