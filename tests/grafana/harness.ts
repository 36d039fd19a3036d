/**
 * Runs provisioned Grafana queries the way Grafana would: variables resolved (their own queries run
 * first, in order), macros expanded exactly as the ClickHouse plugin does, the SQL sent to a real
 * ClickHouse (embedded), and the result checked against what each panel type needs.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Dashboard, Panel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { ALL_VALUE, calculateIntervalMs, expandPanelQuery, type VariableState } from '../../processor/src/ui/macros.js';
import { loadDirect, type DirectOptions, type DirectStats, type SynthDataset } from '../../tools/synthetic/index.js';
import { startProcessor, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';

/**
 * Table TTLs of the test store, in days. The engine applies TTLs against its own (real) clock, which no
 * fake clock moves, so data placed at the test instant must outlive any real day the suite runs on.
 * Not 36500: `toDateTime(Timestamp) + toIntervalDay(36500)` overflows DateTime (max 2106) and wraps into
 * the past, which would drop every row on insert. 10 000 days keeps 2026 data until 2054.
 */
export const TEST_TTL_DAYS = 10_000;

/** A real processor (embedded ClickHouse) whose tables keep data of any test instant. */
export function startTestStore(): Promise<TestProcessor> {
  return startProcessor({ RAGSCOPE_RAW_TTL_DAYS: String(TEST_TTL_DAYS), RAGSCOPE_ROLLUP_TTL_DAYS: String(TEST_TTL_DAYS) });
}

/**
 * Loads a synthetic dataset through the processor's pipeline as of the test instant (its retention check
 * reads testNow(), not the wall clock). loadDirect throws when the pipeline rejects anything; the checks
 * below make a silently partial load impossible too.
 */
export async function loadAtTestNow(client: ClickHouseClient, ds: SynthDataset, opts: DirectOptions = {}): Promise<DirectStats> {
  const stats = await loadDirect(client, ds, { ...opts, now: testNow });
  const spans = ds.requests.reduce((n, r) => n + r.spans.length, 0);
  if (stats.rejectedSpans !== 0) throw new Error(`${stats.rejectedSpans} synthetic spans rejected`);
  if (spans === 0 || stats.spans !== spans) throw new Error(`loaded ${stats.spans} of ${spans} synthetic spans`);
  return stats;
}

export interface ColumnMeta {
  name: string;
  type: string;
}

export interface QueryResult {
  meta: ColumnMeta[];
  rows: unknown[][];
  ms: number;
}

export async function runSql(client: ClickHouseClient, sql: string): Promise<QueryResult> {
  const started = performance.now();
  const rs = await client.query({ query: sql, format: 'JSONCompact' });
  const body = await rs.json<unknown[]>();
  const ms = performance.now() - started;
  const b = body as unknown as { meta: ColumnMeta[]; data: unknown[][] };
  return { meta: b.meta, rows: b.data, ms };
}

export interface TimeRange {
  from: Date;
  to: Date;
}

/** Resolves every variable of a dashboard in declaration order (query variables run their SQL). */
export async function resolveVariables(
  client: ClickHouseClient,
  d: Dashboard,
  range: TimeRange,
  selection: Record<string, string | string[]> = {},
): Promise<VariableState[]> {
  const states: VariableState[] = [];
  for (const v of (d.templating?.list ?? []) as VariableModel[]) {
    let options: string[] = [];
    if (v.type === 'query') {
      const sql = typeof v.query === 'string' ? v.query : String((v.query as { rawSql?: string })?.rawSql ?? '');
      const expanded = expandPanelQuery(sql, { from: range.from, to: range.to, variables: states, maxDataPoints: 1000 });
      const res = await runSql(client, expanded);
      options = res.rows.map((r) => String(r[0]));
    } else if (v.type === 'custom') {
      options = (v.options ?? []).map((o) => String(Array.isArray(o.value) ? o.value[0] : o.value));
    } else if (v.type === 'constant' || v.type === 'textbox') {
      options = [String(v.query ?? '')];
    }
    const cur = v.current?.value;
    let current: string | string[] = selection[v.name] ?? (Array.isArray(cur) ? cur.map(String) : String(cur ?? ''));
    if (!v.multi && Array.isArray(current)) current = current[0] ?? '';
    // Grafana falls back to the first option when the saved value is not among the options.
    if (!v.multi && typeof current === 'string' && current !== ALL_VALUE && !options.includes(current) && options.length) current = options[0]!;
    states.push({ name: v.name, multi: v.multi, includeAll: v.includeAll, allValue: v.allValue, current, options });
  }
  return states;
}

export interface PanelQuery {
  dashboard: string;
  panel: Panel;
  refId: string;
  rawSql: string;
  format: number;
}

export function panelQueries(d: Dashboard, panels: Panel[]): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of panels) {
    for (const t of (p.targets ?? []) as unknown as Array<{ refId: string; rawSql: string; format: number; hide?: boolean }>) {
      if (t.hide) continue;
      out.push({ dashboard: d.uid!, panel: p, refId: t.refId, rawSql: t.rawSql, format: t.format });
    }
  }
  return out;
}

/** What Grafana would send for a panel: interval from range, panel width and the panel's min interval. */
export function expandForPanel(q: PanelQuery, range: TimeRange, variables: VariableState[], maxDataPoints = 1000): string {
  return expandPanelQuery(q.rawSql, {
    from: range.from,
    to: range.to,
    variables,
    maxDataPoints: q.panel.maxDataPoints ?? maxDataPoints,
    minInterval: q.panel.interval,
  });
}

export function intervalFor(q: PanelQuery, range: TimeRange, maxDataPoints = 1000): number {
  return calculateIntervalMs(range.to.getTime() - range.from.getTime(), q.panel.maxDataPoints ?? maxDataPoints, q.panel.interval);
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal.*)\)?$/;
const TIME = /^(Nullable\()?(DateTime|DateTime64|Date|Date32)(\(.*\))?\)?$/;
export const isNumericType = (t: string) => NUMERIC.test(t);
export const isTimeType = (t: string) => TIME.test(t);
const isStringType = (t: string) => /^(Nullable\()?(LowCardinality\()?(String|FixedString)/.test(t);

/** Checks a result has the shape the panel type needs; returns problems (empty = fine). */
export function shapeProblems(panelType: string, format: number, r: QueryResult): string[] {
  const problems: string[] = [];
  const types = r.meta.map((m) => m.type);
  if (r.rows.length === 0) problems.push('no rows');
  // What the plugin turns into plain Grafana fields: no aggregate states, arrays, maps or tuples in panels.
  for (const m of r.meta) if (/AggregateFunction|Array\(|Map\(|Tuple\(/.test(m.type)) problems.push(`column ${m.name} has type ${m.type}`);
  switch (panelType) {
    case 'timeseries': {
      if (format !== 0) problems.push(`time series panel with format ${format}`);
      if (!isTimeType(types[0] ?? '')) problems.push(`first column ${r.meta[0]?.name}: ${types[0]} is not a time`);
      if (!types.slice(1).some(isNumericType)) problems.push('no numeric column');
      for (const t of types.slice(1)) if (!isNumericType(t) && !isStringType(t)) problems.push(`column type ${t} is neither numeric nor a label`);
      // sqlds long-to-wide needs rows sorted by time
      for (let i = 1; i < r.rows.length; i++) {
        if (String(r.rows[i]![0]) < String(r.rows[i - 1]![0])) {
          problems.push('rows not sorted by time');
          break;
        }
      }
      break;
    }
    case 'stat':
      if (r.rows.length !== 1) problems.push(`stat needs exactly one row, got ${r.rows.length}`);
      if (!types.some(isNumericType)) problems.push('no numeric column');
      if (r.rows.length === 1 && r.rows[0]![types.findIndex(isNumericType)] === null) problems.push('stat value is NULL');
      break;
    case 'bargauge':
    case 'piechart':
    case 'barchart':
      if (!types.some(isNumericType)) problems.push('no numeric column');
      if (!types.some((t) => isStringType(t))) problems.push('no category (string) column');
      break;
    case 'table':
      if (r.meta.length < 2) problems.push('table with fewer than two columns');
      break;
    default:
      problems.push(`no shape rule for panel type ${panelType}`);
  }
  return problems;
}
