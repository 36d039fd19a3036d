/**
 * Panel helpers on top of the foundation SDK's builders: one ClickHouse SQL target per panel, units,
 * legends and colours chosen once for the whole project.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  FieldColorBuilder,
  FieldColorModeId,
  type DynamicConfigValue,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as text from '@grafana/grafana-foundation-sdk/text';
import { chQuery, DATASOURCE, DATASOURCE_REF, Format } from './clickhouse.js';
import { definitionNote, type Definition } from './named-queries.js';

export interface Size {
  w: number;
  h: number;
}

interface Common {
  title: string;
  description: string;
  /** Where the numbers come from: a named query, a shared view, or why the panel runs its own SQL. */
  definition: Definition;
  sql: string;
  unit?: string;
  decimals?: number;
  size?: Size;
  /** Panel links (top-left menu), e.g. to the dashboard with the details. */
  links?: Array<{ title: string; url: string }>;
}

/** The part every SQL panel shares: title, description, the ClickHouse query and its grid size. */
interface SqlPanelBuilder<B> {
  title(title: string): B;
  description(description: string): B;
  datasource(ref: typeof DATASOURCE_REF): B;
  withTarget(target: ReturnType<typeof chQuery>): B;
  height(h: number): B;
  span(w: number): B;
}

function sqlPanel<B extends SqlPanelBuilder<B>>(builder: B, o: Common, format: Format, defaultSize: Size): B {
  return builder
    .title(o.title)
    .description(o.description + definitionNote(o.definition))
    .datasource(DATASOURCE_REF)
    .withTarget(chQuery('A', o.sql, format))
    .height(o.size?.h ?? defaultSize.h)
    .span(o.size?.w ?? defaultSize.w);
}

function panelLinks(links: Common['links']) {
  return (links ?? []).map((l) => new DashboardLinkBuilder(l.title).url(l.url));
}

/** A URL to another ragscope dashboard keeping the time range and every variable. */
export function dashboardUrl(uid: string): string {
  return `/d/${uid}?\${__url_time_range}&\${__all_variables}`;
}

const thresholds = (steps: Array<{ value: number | null; color: string }>) =>
  new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);

const prop = (id: string, value: unknown): DynamicConfigValue => ({ id, value });

/** Field name used by every "change versus the previous period" column. */
export const CHANGE_FIELD = 'vs previous period';

export interface StatOptions extends Common {
  /** true when an increase is bad (cost, errors, latency): the change shows red above 0. */
  upIsBad?: boolean;
  /** Colour thresholds for the value itself. */
  valueThresholds?: Array<{ value: number | null; color: string }>;
  /** Show the change column (the query must return it as CHANGE_FIELD). Default true. */
  change?: boolean;
  /** Units of secondary value fields, by field name. */
  fieldUnits?: Record<string, string>;
}

/**
 * A stat whose query returns one row: the value, and (optionally) the relative change versus the
 * previous period of the same length as `CHANGE_FIELD` (0.12 = +12 %).
 */
export function statPanel(o: StatOptions): stat.PanelBuilder {
  const p = sqlPanel(new stat.PanelBuilder(), o, Format.Table, { w: 6, h: 4 })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false).fields(''))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.ValueAndName)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .orientation(common.VizOrientation.Horizontal)
    .wideLayout(true)
    .showPercentChange(false)
    .noValue('no data')
    .thresholds(thresholds(o.valueThresholds ?? [{ value: null, color: 'text' }]))
    .links(panelLinks(o.links));
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  for (const [name, unit] of Object.entries(o.fieldUnits ?? {})) p.overrideByName(name, [prop('unit', unit), prop('decimals', 1)]);
  if (o.change !== false) {
    const bad = 'red';
    const good = 'green';
    p.overrideByName(CHANGE_FIELD, [
      prop('unit', 'percentunit'),
      prop('decimals', 1),
      prop('noValue', '—'),
      prop('thresholds', {
        mode: 'absolute',
        steps: [
          { value: null, color: o.upIsBad ? good : bad },
          { value: 0, color: 'text' },
          { value: 0.000001, color: o.upIsBad ? bad : good },
        ],
      }),
      prop('color', { mode: 'thresholds' }),
    ]);
  }
  return p;
}

export interface TimeSeriesOptions extends Common {
  /** The panel's min interval: the rollup granularity it reads (1h for hourly rollups). */
  minInterval?: string;
  stacked?: boolean;
  bars?: boolean;
  /** Legend calculations (shown as a table when present). */
  legendCalcs?: string[];
  fillOpacity?: number;
  /** Field overrides by series name. */
  overrides?: Array<{ name: string; properties: DynamicConfigValue[] }>;
  /** Horizontal threshold line (e.g. an SLA) drawn dashed. */
  thresholdLine?: { value: number; color?: string };
  min?: number;
  max?: number;
  /** Long-format queries: the string column that splits series; its value becomes the series name. */
  seriesBy?: string;
}

export function timeSeriesPanel(o: TimeSeriesOptions): timeseries.PanelBuilder {
  const legend = new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .placement(common.LegendPlacement.Bottom)
    .displayMode(o.legendCalcs?.length ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
    .calcs(o.legendCalcs ?? []);
  const p = sqlPanel(new timeseries.PanelBuilder(), o, Format.TimeSeries, { w: 12, h: 8 })
    .interval(o.minInterval ?? '1h')
    .legend(legend)
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .lineWidth(o.bars ? 1 : 2)
    .fillOpacity(o.fillOpacity ?? (o.bars || o.stacked ? 70 : 10))
    .lineInterpolation(common.LineInterpolation.Smooth)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .insertNulls(false)
    .links(panelLinks(o.links));
  if (o.stacked) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal).group('A'));
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  if (o.thresholdLine) {
    p.thresholds(thresholds([{ value: null, color: 'transparent' }, { value: o.thresholdLine.value, color: o.thresholdLine.color ?? 'red' }]));
    p.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  if (o.seriesBy) p.displayName(`\${__field.labels.${o.seriesBy}}`);
  for (const ov of o.overrides ?? []) p.overrideByName(ov.name, ov.properties);
  return p;
}

export interface TableColumn {
  name: string;
  unit?: string;
  decimals?: number;
  width?: number;
  /** gauge / colored background cells */
  display?: 'gauge' | 'color-background' | 'color-text';
  thresholds?: Array<{ value: number | null; color: string }>;
  min?: number;
  max?: number;
  links?: Array<{ title: string; url: string; internal?: unknown }>;
  mappings?: ValueMapping[];
  hidden?: boolean;
}

export interface TableOptions extends Common {
  columns?: TableColumn[];
  sortBy?: { name: string; desc: boolean };
  /** Whole-table cell display (e.g. the hour × weekday matrix). */
  cellDisplay?: 'color-background';
  cellThresholds?: Array<{ value: number | null; color: string }>;
  colorScheme?: string;
}

export function tablePanel(o: TableOptions): table.PanelBuilder {
  const p = sqlPanel(new table.PanelBuilder(), o, Format.Table, { w: 24, h: 9 })
    .cellHeight(common.TableCellHeight.Sm)
    .showHeader(true)
    .filterable(false)
    .links(panelLinks(o.links));
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.sortBy) p.sortBy([new common.TableSortByFieldStateBuilder().displayName(o.sortBy.name).desc(o.sortBy.desc)]);
  if (o.cellDisplay) {
    p.cellOptions({ type: common.TableCellDisplayMode.ColorBackground, mode: common.TableCellBackgroundDisplayMode.Gradient } as common.TableCellOptions);
    p.colorScheme(new FieldColorBuilder().mode((o.colorScheme ?? 'continuous-GrYlRd') as FieldColorModeId));
  }
  if (o.cellThresholds) p.thresholds(thresholds(o.cellThresholds));
  for (const c of o.columns ?? []) {
    const props: DynamicConfigValue[] = [];
    if (c.unit) props.push(prop('unit', c.unit));
    if (c.decimals !== undefined) props.push(prop('decimals', c.decimals));
    if (c.width) props.push(prop('custom.width', c.width));
    if (c.min !== undefined) props.push(prop('min', c.min));
    if (c.max !== undefined) props.push(prop('max', c.max));
    if (c.hidden) props.push(prop('custom.hidden', true));
    if (c.display === 'gauge') props.push(prop('custom.cellOptions', { type: 'gauge', mode: 'basic', valueDisplayMode: 'text' }));
    if (c.display === 'color-background') props.push(prop('custom.cellOptions', { type: 'color-background', mode: 'gradient' }));
    if (c.display === 'color-text') props.push(prop('custom.cellOptions', { type: 'color-text' }));
    if (c.thresholds) props.push(prop('thresholds', { mode: 'absolute', steps: c.thresholds }), prop('color', { mode: 'thresholds' }));
    if (c.links) props.push(prop('links', c.links));
    if (c.mappings) props.push(prop('mappings', c.mappings));
    if (props.length) p.overrideByName(c.name, props);
  }
  return p;
}

export interface BarChartOptions extends Common {
  horizontal?: boolean;
  stacked?: boolean;
  /** the string field used for the category axis */
  xField?: string;
}

export function barChartPanel(o: BarChartOptions): barchart.PanelBuilder {
  const p = sqlPanel(new barchart.PanelBuilder(), o, Format.Table, { w: 12, h: 8 })
    .orientation(o.horizontal ? common.VizOrientation.Horizontal : common.VizOrientation.Vertical)
    .showValue(common.VisibilityMode.Auto)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).placement(common.LegendPlacement.Bottom).displayMode(common.LegendDisplayMode.List).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.None))
    .fillOpacity(80)
    .links(panelLinks(o.links));
  if (o.xField) p.xField(o.xField);
  if (o.stacked) p.stacking(common.StackingMode.Normal);
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  return p;
}

export interface BarGaugeOptions extends Common {
  min?: number;
  max?: number;
  thresholds?: Array<{ value: number | null; color: string }>;
}

/** Ranked values (one row per category: a string column and one numeric column). */
export function barGaugePanel(o: BarGaugeOptions): bargauge.PanelBuilder {
  const p = sqlPanel(new bargauge.PanelBuilder(), o, Format.Table, { w: 12, h: 8 })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(true).fields(''))
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .valueMode(common.BarGaugeValueMode.Color)
    .showUnfilled(true)
    .namePlacement(common.BarGaugeNamePlacement.Auto)
    .sizing(common.BarGaugeSizing.Auto)
    .minVizHeight(16)
    .minVizWidth(8)
    .maxVizHeight(300)
    .thresholds(thresholds(o.thresholds ?? [{ value: null, color: 'blue' }]))
    .links(panelLinks(o.links));
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  return p;
}

export function pieChartPanel(o: Common): piechart.PanelBuilder {
  const p = sqlPanel(new piechart.PanelBuilder(), o, Format.Table, { w: 8, h: 8 })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(true).fields(''))
    .pieType(piechart.PieChartType.Donut)
    .displayLabels([piechart.PieChartLabels.Percent])
    .legend(new piechart.PieChartLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent]).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Single).sort(common.SortOrder.None))
    .links(panelLinks(o.links));
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  return p;
}

/** A markdown note (no query). */
export function notePanel(title: string, markdown: string, size: Size = { w: 24, h: 3 }): text.PanelBuilder {
  return new text.PanelBuilder().title(title).mode(text.TextMode.Markdown).content(markdown).height(size.h).span(size.w).transparent(true);
}

/** Data link that opens a trace (from otel_traces) in Grafana's trace view, in Explore. */
export function traceLink(traceSql: string) {
  return {
    title: 'Open trace',
    url: '',
    internal: {
      datasourceUid: DATASOURCE.uid,
      datasourceName: DATASOURCE.name,
      query: {
        refId: 'A',
        datasource: { ...DATASOURCE_REF },
        editorType: 'sql',
        format: Format.Traces,
        queryType: 'traces',
        rawSql: traceSql,
      },
    },
  };
}
