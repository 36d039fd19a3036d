/**
 * SQL building blocks shared by panels and alert rules. All time handling goes through the Grafana
 * ClickHouse plugin macros (expanded by grafana/src/macros.ts in tests, exactly like the plugin):
 * `$__fromTime()` / `$__toTime()` are written with parentheses on purpose (see macros.ts: a bare macro
 * swallows the next parenthesised group).
 */
import { normalizeSql } from './clickhouse.js';
import { CHANGE_FIELD } from './panels.js';
import { filterClause, FILTER_VARIABLES, type FilterColumns, type FilterVariable, ROLLUP_COLUMNS, TENANT } from './variables.js';

export const FROM = '$__fromTime()';
export const TO = '$__toTime()';
/** Start of the previous period of the same length as the dashboard range. */
export const PREV_FROM = `${FROM} - toIntervalSecond(dateDiff('second', ${FROM}, ${TO}))`;

/** Tables (migrations 0001-0003 and the analytics layer's rollups). */
export const T = {
  traces: 'otel_traces',
  traceTimes: 'otel_traces_trace_id_ts',
  logs: 'otel_logs',
  spans: 'genai_spans',
  usageHourly: 'usage_cost_hourly',
  usageDaily: 'usage_cost_daily',
  latencyHourly: 'latency_hourly',
  requestRollup: 'request_rollup',
  retrievalHourly: 'retrieval_quality_hourly',
  queryPatternsDaily: 'query_patterns_daily',
  feedback: 'feedback_latest',
  evaluations: 'evaluations',
  evaluationsDaily: 'evaluations_daily',
  predictionsDaily: 'prediction_outcomes_daily',
  errorsHourly: 'errors_hourly',
  userUsageDaily: 'user_usage_daily',
} as const;

/**
 * One finalized row per request (the analytics layer's parameterized view over request_rollup), for
 * requests that started in [from, to).
 */
export function requestsView(from: string = FROM, to: string = TO): string {
  return `requests(tenant = ${TENANT}, from = ${from}, to = ${to})`;
}

/** Columns of `requests` for the dashboard filters. */
export const REQUEST_COLUMNS: FilterColumns = {
  tenant: null, // the view is already tenant-scoped
  service: 'ServiceName',
  environment: 'Environment',
  provider: 'Provider',
  model: 'Model',
  experiment: 'Experiment',
};

/**
 * For tables without request dimensions (feedback): keep rows whose trace matches the selected
 * service / environment / provider / model / experiment (feedback sent to the API names no service). Each clause is a `$__conditionalAll`, so with All
 * selected (the default) no subquery runs at all.
 */
export function requestDimensionFilter(traceIdColumn: string, from: string, to: string = TO): string {
  const dims: Array<[string, string]> = [
    ['service', 'ServiceName'],
    ['environment', 'Environment'],
    ['provider', 'Provider'],
    ['model', 'Model'],
    ['experiment', 'Experiment'],
  ];
  return dims
    .map(([v, col]) => `$__conditionalAll(${traceIdColumn} IN (SELECT TraceId FROM ${requestsView(from, to)} WHERE ${col} IN ($${v})), $${v})`)
    .join('\n  AND ');
}

/** quantilesDD levels stored in latency_hourly: index 1 = p50, 2 = p90, 3 = p95, 4 = p99. */
export const QUANTILES = 'quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)';
export const Q_INDEX = { p50: 1, p90: 2, p95: 3, p99: 4 } as const;

export interface PeriodStat {
  /** Display name of the value field. */
  name: string;
  table: string;
  timeColumn: string;
  /** Aggregate expression for rows matching `cond` (e.g. c => `sumIf(Requests, ${c})`). */
  value: (cond: string) => string;
  /** Extra WHERE condition (besides time and dashboard filters). */
  where?: string;
  columns?: FilterColumns;
  /** Which dashboard filters apply (default: all five). */
  only?: readonly FilterVariable[];
}

/**
 * One row: the value over the dashboard range and its relative change versus the previous period of
 * the same length (NULL when the previous period had nothing to compare with).
 */
export function periodStatSql(s: PeriodStat): string {
  const cur = `${s.timeColumn} >= ${FROM}`;
  const prev = `${s.timeColumn} < ${FROM}`;
  return normalizeSql(`
    SELECT cur AS "${s.name}", if(prev = 0 OR isNull(prev) OR isNaN(prev), NULL, cur / prev - 1) AS "${CHANGE_FIELD}"
    FROM (
      SELECT
        toFloat64(${s.value(cur)}) AS cur,
        toFloat64(${s.value(prev)}) AS prev
      FROM ${s.table}
      WHERE ${s.timeColumn} >= ${PREV_FROM} AND ${s.timeColumn} <= ${TO}
        AND ${filterClause(s.columns ?? ROLLUP_COLUMNS, s.only ?? FILTER_VARIABLES)}${s.where ? `\n        AND ${s.where}` : ''}
    )
  `);
}

/**
 * Grafana's trace view from the Collector-schema span table, in the shape the ClickHouse plugin's own
 * trace-ID query produces (traceID, spanID, parentSpanID, serviceName, operationName, startTime ms,
 * duration ms, tags, serviceTags, ...), using otel_traces_trace_id_ts to bound the partition scan.
 * `traceIdExpr` is a SQL string literal, e.g. `'${__value.raw}'` in a data link.
 */
export function traceViewSql(traceIdExpr: string): string {
  return normalizeSql(`
    WITH
      ${traceIdExpr} AS trace_id,
      (SELECT min(Start) FROM ${T.traceTimes} WHERE TraceId = trace_id) AS trace_start,
      (SELECT max(End) + 1 FROM ${T.traceTimes} WHERE TraceId = trace_id) AS trace_end
    SELECT
      TraceId AS traceID,
      SpanId AS spanID,
      ParentSpanId AS parentSpanID,
      ServiceName AS serviceName,
      SpanName AS operationName,
      multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
      multiply(Duration, 0.000001) AS duration,
      arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
      arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
      if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode,
      SpanKind AS kind,
      StatusMessage AS statusMessage,
      ScopeName AS instrumentationLibraryName,
      ScopeVersion AS instrumentationLibraryVersion,
      arrayMap((name, timestamp, attributes) -> tuple(name, toString(toUnixTimestamp64Milli(timestamp)), arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)))::Tuple(name String, timestamp String, fields Array(Map(String, String))), Events.Name, Events.Timestamp, Events.Attributes) AS logs
    FROM ${T.traces}
    WHERE TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
    ORDER BY startTime
    LIMIT 1000
  `);
}

/** The trace query a "slowest requests" data link opens; `${__value.raw}` is the clicked TraceId cell. */
export const TRACE_LINK_SQL = traceViewSql("'${__value.raw}'");
