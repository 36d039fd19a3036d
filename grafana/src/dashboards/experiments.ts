import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { notePanel, tablePanel, timeSeriesPanel } from '../panels.js';
import { FROM, REQUEST_COLUMNS, requestsView, T, TO } from '../sql.js';
import { filterClause, TENANT, type FilterColumns } from '../variables.js';

const ARM = "concat(Experiment, ' / ', Variant)";
const RETRIEVAL_COLUMNS: FilterColumns = { tenant: 'TenantId', service: 'ServiceName', environment: 'Environment', experiment: 'Experiment' };

export function experimentsDashboard() {
  return buildDashboard({
    uid: UID.experiments,
    title: 'ragscope / Experiments',
    description: 'A/B experiments: cost, latency, retrieval relevance and user feedback of each variant side by side.',
    sections: [
      {
        panels: [
          notePanel(
            '',
            'Requests carry `ragscope.experiment` and `ragscope.variant` (baggage set by the instrumentation). Pick an **Experiment** above to compare its variants; with *All*, every experiment is listed.',
            { w: 24, h: 2 },
          ),
          tablePanel({
            title: 'Variant comparison',
            description: 'Per experiment and variant over the range: volume, cost, latency, errors, retrieval relevance and feedback.',
            sql: normalizeSql(`
              SELECT
                toString(r.Experiment) AS experiment, toString(r.Variant) AS variant, count() AS requests,
                avg(toFloat64(r.CostUSD)) AS cost_per_request, avg(r.TotalTokens) AS tokens_per_request,
                quantile(0.5)(toFloat64(r.TotalMs)) AS p50_latency, quantile(0.95)(toFloat64(r.TotalMs)) AS p95_latency,
                avg(r.HasError) AS error_rate, avg(r.AvgRelevance) AS relevance,
                sum(f.up) / nullIf(sum(f.up) + sum(f.down), 0) AS thumbs_up, avg(f.rating) AS rating,
                countIf(f.TraceId != '') / count() AS feedback_rate
              FROM ${requestsView()} AS r
              LEFT JOIN (
                SELECT TraceId, countIf(Thumbs = 'up') AS up, countIf(Thumbs = 'down') AS down, avgIf(Rating, Kind = 'rating') AS rating
                FROM ${T.feedback}
                WHERE TenantId = ${TENANT} AND Timestamp >= ${FROM} AND Timestamp <= ${TO} + toIntervalDay(1) AND TraceId != ''
                GROUP BY TraceId
              ) AS f ON f.TraceId = r.TraceId
              WHERE r.Experiment != '' AND ${filterClause(REQUEST_COLUMNS)}
              GROUP BY experiment, variant
              ORDER BY experiment, variant
              SETTINGS join_use_nulls = 1
            `),
            columns: [
              { name: 'cost_per_request', unit: 'currencyUSD', decimals: 5 },
              { name: 'tokens_per_request', decimals: 0 },
              { name: 'p50_latency', unit: 'ms', decimals: 0 },
              { name: 'p95_latency', unit: 'ms', decimals: 0 },
              { name: 'error_rate', unit: 'percentunit', decimals: 2 },
              { name: 'relevance', decimals: 3 },
              { name: 'thumbs_up', unit: 'percentunit', decimals: 1, display: 'color-background', thresholds: [{ value: null, color: 'red' }, { value: 0.6, color: 'orange' }, { value: 0.8, color: 'green' }] },
              { name: 'rating', decimals: 2 },
              { name: 'feedback_rate', unit: 'percentunit', decimals: 1 },
            ],
            size: { w: 24, h: 8 },
          }),
        ],
      },
      {
        row: 'Over time',
        panels: [
          timeSeriesPanel({
            title: 'Cost per request by variant',
            description: 'Average spend of a request per interval for each experiment arm (per-request rollup).',
            sql: normalizeSql(`
              SELECT $__timeInterval(StartTime) AS time, ${ARM} AS arm, avg(toFloat64(CostUSD)) AS cost_per_request
              FROM ${requestsView()}
              WHERE Experiment != '' AND ${filterClause(REQUEST_COLUMNS)}
              GROUP BY time, arm
              ORDER BY time, arm
            `),
            unit: 'currencyUSD',
            decimals: 4,
            seriesBy: 'arm',
            legendCalcs: ['mean'],
          }),
          timeSeriesPanel({
            title: 'p95 request latency by variant',
            description: 'End-to-end p95 per interval for each experiment arm (per-request rollup).',
            sql: normalizeSql(`
              SELECT $__timeInterval(StartTime) AS time, ${ARM} AS arm, quantile(0.95)(toFloat64(TotalMs)) AS p95
              FROM ${requestsView()}
              WHERE Experiment != '' AND ${filterClause(REQUEST_COLUMNS)}
              GROUP BY time, arm
              ORDER BY time, arm
            `),
            unit: 'ms',
            seriesBy: 'arm',
            legendCalcs: ['mean', 'max'],
          }),
          timeSeriesPanel({
            title: 'Retrieval relevance by variant',
            description: 'Average retrieved-document score per interval for each experiment arm (provider / model filters do not apply).',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, ${ARM} AS arm, sum(RelevanceSum) / nullIf(sum(RelevanceCount), 0) AS relevance
              FROM ${T.retrievalHourly}
              WHERE $__timeFilter(Hour) AND Experiment != '' AND ${filterClause(RETRIEVAL_COLUMNS)}
              GROUP BY time, arm
              HAVING sum(RelevanceCount) > 0
              ORDER BY time, arm
            `),
            decimals: 3,
            seriesBy: 'arm',
            legendCalcs: ['mean'],
          }),
          timeSeriesPanel({
            title: 'Thumbs up by variant',
            description: 'Thumbs up / (up + down) per interval for each experiment arm (feedback joined to its request).',
            sql: normalizeSql(`
              SELECT $__timeInterval(f.Timestamp) AS time, concat(r.Experiment, ' / ', r.Variant) AS arm,
                     countIf(f.Thumbs = 'up') / countIf(f.Thumbs IN ('up', 'down')) AS thumbs_up
              FROM ${T.feedback} AS f
              INNER JOIN (
                SELECT TraceId, Experiment, Variant FROM ${requestsView(`${FROM} - toIntervalDay(1)`, TO)}
                WHERE Experiment != '' AND ${filterClause(REQUEST_COLUMNS)}
              ) AS r ON r.TraceId = f.TraceId
              WHERE f.TenantId = ${TENANT} AND f.Timestamp >= ${FROM} AND f.Timestamp <= ${TO} AND f.Thumbs IN ('up', 'down')
              GROUP BY time, arm
              ORDER BY time, arm
            `),
            unit: 'percentunit',
            min: 0,
            max: 1,
            seriesBy: 'arm',
            legendCalcs: ['mean'],
          }),
        ],
      },
    ],
  });
}
