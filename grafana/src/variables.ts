import { QueryVariableBuilder, CustomVariableBuilder, VariableRefresh, VariableSort, VariableHide } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE_REF } from './clickhouse.js';

/** The five filters every ragscope dashboard has. */
export const FILTER_VARIABLES = ['service', 'environment', 'provider', 'model', 'experiment'] as const;
export type FilterVariable = (typeof FILTER_VARIABLES)[number];

/** Column holding each filter's value in a table; `null` = the table has no such dimension. */
export type FilterColumns = Partial<Record<FilterVariable | 'tenant', string | null>>;

/** genai_spans and every rollup fed from it use these names (Model = ResponseModel, else RequestModel). */
export const ROLLUP_COLUMNS: Record<FilterVariable | 'tenant', string> = {
  tenant: 'TenantId',
  service: 'ServiceName',
  environment: 'Environment',
  provider: 'Provider',
  model: 'Model',
  experiment: 'Experiment',
};

/**
 * Filters that apply to request-level rows of the hourly rollups: the request root span carries the
 * service, environment and experiment, but no provider or model (those belong to the model calls).
 */
export const REQUEST_FILTERS: readonly FilterVariable[] = ['service', 'environment', 'experiment'];
export const REQUEST_LEVEL_NOTE = ' Provider and model filters do not apply here: requests are counted on the request root span, which has no model.';

/** The tenant as a SQL string literal (single-value variable). */
export const TENANT = '${tenant:sqlstring}';

/**
 * `TenantId = <tenant>` plus `$__conditionalAll(col IN ($var), $var)` for each filter the table has:
 * with All selected a filter becomes `1=1`, so the default dashboard state adds no predicate.
 */
export function filterClause(columns: FilterColumns = ROLLUP_COLUMNS, only: readonly FilterVariable[] = FILTER_VARIABLES): string {
  const parts: string[] = [];
  if (columns.tenant) parts.push(`${columns.tenant} = ${TENANT}`);
  for (const v of only) {
    const col = columns[v];
    if (!col) continue;
    parts.push(`$__conditionalAll(${col} IN ($${v}), $${v})`);
  }
  return parts.length ? parts.join(' AND ') : '1=1';
}

/** Variable value source: the daily usage rollup (small, covers every dimension). */
const VALUE_SOURCE = 'usage_cost_daily';

const LABELS: Record<FilterVariable, string> = {
  service: 'Service',
  environment: 'Environment',
  provider: 'Provider',
  model: 'Model',
  experiment: 'Experiment',
};

/** The SQL of a filter variable; each narrows by the filters before it (service → environment → ...). */
export function filterVariableSql(name: FilterVariable): string {
  const idx = FILTER_VARIABLES.indexOf(name);
  const col = ROLLUP_COLUMNS[name];
  const upstream = filterClause(ROLLUP_COLUMNS, FILTER_VARIABLES.slice(0, idx).filter((v) => v !== 'experiment'));
  return `SELECT DISTINCT ${col} FROM ${VALUE_SOURCE} WHERE $__dateFilter(Day) AND ${col} != '' AND ${upstream} ORDER BY ${col}`;
}

/** Tenant (single value): rows are written with the processor's RAGSCOPE_TENANT ('default' unless set). */
export function tenantVariable(): QueryVariableBuilder {
  const sql = `SELECT DISTINCT TenantId FROM ${VALUE_SOURCE} WHERE $__dateFilter(Day) ORDER BY TenantId`;
  return new QueryVariableBuilder('tenant')
    .label('Tenant')
    .description('Tenant id the processor writes on every row (RAGSCOPE_TENANT).')
    .datasource(DATASOURCE_REF)
    .query(sql)
    .definition(sql)
    .multi(false)
    .includeAll(false)
    .current({ selected: true, text: 'default', value: 'default' })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc);
}

const ALL_OPTION: dashboard.VariableOption = { selected: true, text: ['All'], value: ['$__all'] };

const DESCRIPTIONS: Partial<Record<FilterVariable, string>> = {
  model:
    'Response model when the provider reported one, else the requested model. A failed call has no response model: to see a model with its errors, select both names (e.g. gpt-4o and gpt-4o-2024-08-06).',
};

function filterVariable(name: FilterVariable): QueryVariableBuilder {
  const sql = filterVariableSql(name);
  const v = new QueryVariableBuilder(name);
  if (DESCRIPTIONS[name]) v.description(DESCRIPTIONS[name]!);
  return v
    .label(LABELS[name])
    .datasource(DATASOURCE_REF)
    .query(sql)
    .definition(sql)
    .multi(true)
    .includeAll(true)
    .current(ALL_OPTION)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc);
}

export function filterVariables(): QueryVariableBuilder[] {
  return [tenantVariable(), ...FILTER_VARIABLES.map(filterVariable)];
}

/** Latency SLA threshold (ms). Values are boundaries of latency_hourly's histogram ladder, so breach counts are exact. */
export const SLA_OPTIONS_MS = [500, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000] as const;
/** Default latency objective for dashboards and the p95 alert (RAG requests with LLM generation). */
export const DEFAULT_SLA_MS = 15000;

export function slaVariable(): CustomVariableBuilder {
  const opts = SLA_OPTIONS_MS.map((v) => ({ selected: v === DEFAULT_SLA_MS, text: `${v} ms`, value: String(v) }));
  return new CustomVariableBuilder('sla_ms')
    .label('SLA (ms)')
    .description('Latency objective for the SLA breach rate; values are histogram boundaries, so counts are exact.')
    .values(SLA_OPTIONS_MS.map((v) => `${v} ms : ${v}`).join(','))
    .options(opts)
    .current({ selected: true, text: `${DEFAULT_SLA_MS} ms`, value: String(DEFAULT_SLA_MS) })
    .hide(VariableHide.DontHide);
}

/** Percentile shown by the "per stage" / "per model" latency panels: the index into latency_hourly's quantile states. */
export const PERCENTILES = [
  { text: 'p50', value: '1' },
  { text: 'p90', value: '2' },
  { text: 'p95', value: '3' },
  { text: 'p99', value: '4' },
] as const;

export function percentileVariable(): CustomVariableBuilder {
  return new CustomVariableBuilder('percentile')
    .label('Percentile')
    .description('Percentile of the per-stage and per-model latency panels.')
    .values(PERCENTILES.map((p) => `${p.text} : ${p.value}`).join(','))
    .options(PERCENTILES.map((p) => ({ selected: p.text === 'p95', text: p.text, value: p.value })))
    .current({ selected: true, text: 'p95', value: '3' });
}

/** Answer-confidence thresholds offered by the Feedback dashboard (ragscope.answer.confidence is 0..1). */
export const CONFIDENCE_THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;
/** Default "low confidence": below 0.6 (docs/analytics.md#answer-confidence; the low-confidence alert uses it too). */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.6;

export function confidenceThresholdVariable(): CustomVariableBuilder {
  const value = String(DEFAULT_CONFIDENCE_THRESHOLD);
  return new CustomVariableBuilder('confidence_threshold')
    .label('Low confidence below')
    .description('Answers whose confidence (ragscope.answer.confidence, 0..1) is below this count as low-confidence.')
    .values(CONFIDENCE_THRESHOLDS.map(String).join(','))
    .options(CONFIDENCE_THRESHOLDS.map((v) => ({ selected: String(v) === value, text: String(v), value: String(v) })))
    .current({ selected: true, text: value, value })
    // Only the listed numbers: the value is spliced into SQL as a number.
    .allowCustomValue(false)
    .hide(VariableHide.DontHide);
}
