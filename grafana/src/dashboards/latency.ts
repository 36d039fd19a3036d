import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barChartPanel, dashboardUrl, statPanel, tablePanel, timeSeriesPanel, traceLink } from '../panels.js';
import { periodStatSql, QUANTILES, Q_INDEX, REQUEST_COLUMNS, requestsView, T, TRACE_LINK_SQL } from '../sql.js';
import { filterClause, percentileVariable, REQUEST_FILTERS, REQUEST_LEVEL_NOTE, ROLLUP_COLUMNS, slaVariable, type FilterColumns } from '../variables.js';
import { DIFFERS, NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';

const requestFilters = () => filterClause(ROLLUP_COLUMNS, REQUEST_FILTERS);

/** errors_hourly has every dimension but the experiment. */
const ERRORS_COLUMNS: FilterColumns = { ...ROLLUP_COLUMNS, experiment: null };
const ERRORS_NOTE = ' The experiment filter does not apply (errors are kept per service, environment, provider, model, operation, stage and feature).';

const MERGE_IF = QUANTILES.replace('Merge', 'MergeIf');
const REQUEST = "RagStage = 'request'";

const requestPercentile = (name: string, idx: number) =>
  periodStatSql({
    name,
    table: T.latencyHourly,
    timeColumn: 'Hour',
    value: (c) => `${MERGE_IF}(DurationQuantiles, ${c})[${idx}]`,
    where: REQUEST,
    only: REQUEST_FILTERS,
  });

/** Calls slower than $sla_ms, from the latency histogram (exact for thresholds on its ladder). */
const breaches = (histogram: string) => `arraySum(mapValues(mapFilter((b, n) -> b >= $sla_ms, sumMap(${histogram}))))`;

export function latencyDashboard() {
  return buildDashboard({
    uid: UID.latency,
    title: 'ragscope / Latency',
    description: 'End-to-end and per-stage latency percentiles, time to first token, SLA breaches and the slowest requests (opening their traces).',
    extraVariables: [slaVariable(), percentileVariable()],
    sections: [
      {
        panels: [
          statPanel({
            title: 'p50 request latency',
            definition: DIFFERS.figure('latency_percentiles_per_stage_hourly'),
            description: 'Median end-to-end request latency.' + REQUEST_LEVEL_NOTE,
            sql: requestPercentile('p50', Q_INDEX.p50),
            unit: 'ms',
            decimals: 0,
            upIsBad: true,
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'p95 request latency',
            definition: DIFFERS.figure('latency_percentiles_per_stage_hourly'),
            description: '95th percentile of end-to-end request latency.' + REQUEST_LEVEL_NOTE,
            sql: requestPercentile('p95', Q_INDEX.p95),
            unit: 'ms',
            decimals: 0,
            upIsBad: true,
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'p99 request latency',
            definition: DIFFERS.figure('latency_percentiles_per_stage_hourly'),
            description: '99th percentile of end-to-end request latency.' + REQUEST_LEVEL_NOTE,
            sql: requestPercentile('p99', Q_INDEX.p99),
            unit: 'ms',
            decimals: 0,
            upIsBad: true,
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'TTFT p95 (streaming)',
            definition: DIFFERS.figure('ttft_p95_streaming'),
            description: '95th percentile of time to first token over streaming LLM calls.',
            sql: periodStatSql({
              name: 'TTFT p95',
              table: T.latencyHourly,
              timeColumn: 'Hour',
              value: (c) => `${MERGE_IF}(TtftQuantiles, ${c} AND TtftCount > 0)[${Q_INDEX.p95}]`,
            }),
            unit: 'ms',
            decimals: 0,
            upIsBad: true,
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'SLA breach rate',
            definition: DIFFERS.figure('sla_breach_rate'),
            description: 'Share of requests slower than the SLA selected above ($sla_ms ms).' + REQUEST_LEVEL_NOTE,
            sql: periodStatSql({
              name: 'over SLA',
              table: T.latencyHourly,
              timeColumn: 'Hour',
              value: (c) =>
                `arraySum(mapValues(mapFilter((b, n) -> b >= $sla_ms, sumMapIf(DurationHistogram, ${c})))) / nullIf(sumIf(Calls, ${c}), 0)`,
              where: REQUEST,
              only: REQUEST_FILTERS,
            }),
            unit: 'percentunit',
            decimals: 2,
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 0.01, color: 'orange' },
              { value: 0.05, color: 'red' },
            ],
            size: { w: 5, h: 4 },
          }),
        ],
      },
      {
        row: 'Over time',
        panels: [
          timeSeriesPanel({
            title: 'Request latency percentiles',
            definition: DIFFERS.interval('latency_percentiles_per_stage_hourly'),
            description: 'p50 / p90 / p95 / p99 of end-to-end request latency, with the SLA as a dashed line.' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              WITH ${QUANTILES}(DurationQuantiles) AS q
              SELECT
                $__timeInterval(Hour) AS time,
                q[${Q_INDEX.p50}] AS p50, q[${Q_INDEX.p90}] AS p90, q[${Q_INDEX.p95}] AS p95, q[${Q_INDEX.p99}] AS p99,
                toFloat64($sla_ms) AS SLA
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND ${REQUEST} AND ${requestFilters()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'ms',
            legendCalcs: ['mean', 'max'],
            overrides: [
              {
                name: 'SLA',
                properties: [
                  { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
                  { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
                  { id: 'custom.fillOpacity', value: 0 },
                ],
              },
            ],
          }),
          timeSeriesPanel({
            title: 'SLA breach rate',
            definition: DIFFERS.interval('sla_breach_rate'),
            description: 'Share of requests slower than $sla_ms ms, per interval.' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, ${breaches('DurationHistogram')} / sum(Calls) AS "over SLA"
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND ${REQUEST} AND ${requestFilters()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'percentunit',
            min: 0,
          }),
          timeSeriesPanel({
            title: 'Latency per stage (${percentile:text})',
            definition: DIFFERS.interval('latency_percentiles_per_stage_hourly'),
            description: 'Duration percentile (chosen above) of each RAG stage (embedding, retrieval, rerank, context assembly, generation, post-processing; request = end to end). With a provider or model filter only the stages that call those models remain.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, RagStage, ${QUANTILES}(DurationQuantiles)[$percentile] AS latency
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND RagStage != '' AND ${filterClause()}
              GROUP BY time, RagStage
              ORDER BY time, RagStage
            `),
            unit: 'ms',
            seriesBy: 'RagStage',
            legendCalcs: ['mean', 'max'],
          }),
          timeSeriesPanel({
            title: 'Latency per model (${percentile:text})',
            definition: DIFFERS.interval(),
            description: 'Duration percentile (chosen above) of model calls (LLM, embedding, rerank), per model.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, Model, ${QUANTILES}(DurationQuantiles)[$percentile] AS latency
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND Model != '' AND ${filterClause()}
              GROUP BY time, Model
              ORDER BY time, Model
            `),
            unit: 'ms',
            seriesBy: 'Model',
            legendCalcs: ['mean', 'max'],
          }),
          timeSeriesPanel({
            title: 'Time to first token per model (${percentile:text})',
            definition: DIFFERS.interval('ttft_p95_streaming'),
            description: 'Time-to-first-token percentile (chosen above) of streaming calls, per model.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, Model, ${QUANTILES}(TtftQuantiles)[$percentile] AS ttft
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND TtftCount > 0 AND ${filterClause()}
              GROUP BY time, Model
              ORDER BY time, Model
            `),
            unit: 'ms',
            seriesBy: 'Model',
            legendCalcs: ['mean', 'max'],
          }),
          barChartPanel({
            title: 'Request latency distribution',
            definition: DIFFERS.breakdown(),
            description: 'Requests per latency bucket (lower bound of each histogram bucket).' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT
                if(bucket < 1000, concat(toString(bucket), ' ms'), concat(toString(bucket / 1000), ' s')) AS bucket_from,
                requests
              FROM (
                SELECT arrayJoin(arrayZip(mapKeys(h), mapValues(h))) AS kv, kv.1 AS bucket, kv.2 AS requests
                FROM (
                  SELECT sumMap(DurationHistogram) AS h
                  FROM ${T.latencyHourly}
                  WHERE $__timeFilter(Hour) AND ${REQUEST} AND ${requestFilters()}
                )
              )
              ORDER BY bucket
            `),
            unit: 'short',
            xField: 'bucket_from',
          }),
        ],
      },
      {
        row: 'Breakdown',
        panels: [
          tablePanel({
            title: 'Latency by stage and model',
            definition: DIFFERS.breakdown('latency_percentiles_per_stage_hourly'),
            description: 'Percentiles per RAG stage and model over the time range.',
            sql: normalizeSql(`
              WITH ${QUANTILES}(DurationQuantiles) AS q
              SELECT
                RagStage AS stage, Model AS model, sum(Calls) AS calls, sum(Errors) / sum(Calls) AS error_rate,
                q[${Q_INDEX.p50}] AS p50, q[${Q_INDEX.p90}] AS p90, q[${Q_INDEX.p95}] AS p95, q[${Q_INDEX.p99}] AS p99,
                toFloat64(max(DurationMaxMs)) AS max
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY stage, model
              ORDER BY calls DESC
              LIMIT 100
            `),
            columns: [
              { name: 'error_rate', unit: 'percentunit', decimals: 2 },
              ...['p50', 'p90', 'p95', 'p99', 'max'].map((n) => ({ name: n, unit: 'ms', decimals: 0 })),
            ],
            size: { w: 24, h: 10 },
          }),
          tablePanel({
            title: 'Errors by type',
            definition: { namedQuery: 'error_breakdown' },
            description: 'Errors per error type, provider, model and operation over the range: how many, their share of all errors, how many were rate limits, and the error rate of that provider / model / operation.' + NAMED_QUERY_FILTERS_NOTE,
            sql: namedQuerySql('error_breakdown'),
            columns: [
              { name: 'errors', display: 'gauge', thresholds: [{ value: null, color: 'red' }] },
              { name: 'share_of_errors', unit: 'percentunit', decimals: 1 },
              { name: 'error_rate', unit: 'percentunit', decimals: 2 },
            ],
            size: { w: 12, h: 10 },
          }),
          timeSeriesPanel({
            title: 'Errors by type over time',
            definition: DIFFERS.interval('error_breakdown'),
            description: 'Failed spans per interval, stacked by error type.' + ERRORS_NOTE,
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, toString(ErrorType) AS error_type, sum(Errors) AS errors
              FROM ${T.errorsHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause(ERRORS_COLUMNS)}
              GROUP BY time, error_type
              ORDER BY time, error_type
            `),
            unit: 'short',
            bars: true,
            stacked: true,
            seriesBy: 'error_type',
            size: { w: 12, h: 10 },
          }),
          tablePanel({
            title: 'Slowest requests',
            definition: DIFFERS.breakdown(),
            description: 'The 50 slowest requests of the range with their stage breakdown. Click a trace id to open the trace in Grafana\'s trace view.',
            sql: normalizeSql(`
              SELECT
                toDateTime64(StartTime, 3) AS time, TraceId AS trace_id, toString(ServiceName) AS service, Model AS model,
                toFloat64(TotalMs) AS total, RetrievalMs AS retrieval, RerankMs AS rerank, GenerationMs AS generation,
                TimeToFirstTokenMs AS ttft, TotalTokens AS tokens, toFloat64(CostUSD) AS cost,
                if(HasError = 1, 'error', 'ok') AS status
              FROM ${requestsView()}
              WHERE ${filterClause(REQUEST_COLUMNS)}
              ORDER BY TotalMs DESC
              LIMIT 50
            `),
            columns: [
              { name: 'trace_id', links: [traceLink(TRACE_LINK_SQL)], width: 290 },
              ...['retrieval', 'rerank', 'generation', 'ttft'].map((n) => ({ name: n, unit: 'ms', decimals: 0 })),
              { name: 'total', unit: 'ms', decimals: 0, display: 'gauge' as const, thresholds: [{ value: null, color: 'green' }, { value: 5000, color: 'orange' }, { value: 10000, color: 'red' }] },
              { name: 'cost', unit: 'currencyUSD', decimals: 4 },
              { name: 'status', display: 'color-text' as const, mappings: [{ type: 'value', options: { error: { color: 'red', index: 0 }, ok: { color: 'green', index: 1 } } }] as never },
            ],
            sortBy: { name: 'total', desc: true },
            links: [{ title: 'Tokens & cost', url: dashboardUrl(UID.tokensCost) }],
            size: { w: 24, h: 12 },
          }),
        ],
      },
    ],
  });
}
