import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { notePanel, tablePanel, timeSeriesPanel } from '../panels.js';
import { FROM, REQUEST_COLUMNS, requestsView, T, TO } from '../sql.js';
import { filterClause, TENANT, type FilterColumns } from '../variables.js';
import { DIFFERS, NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';

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
            definition: { namedQuery: 'ab_variant_comparison' },
            description: 'Per experiment and variant over the range: requests, cost per request, request latency p50 / p95 and failure rate, retrieval relevance and citation usage, and feedback (count, positive share, average normalized score, thumbs-down rate).' + NAMED_QUERY_FILTERS_NOTE,
            sql: namedQuerySql('ab_variant_comparison'),
            columns: [
              { name: 'cost_usd', unit: 'currencyUSD', decimals: 4 },
              { name: 'cost_per_request_usd', unit: 'currencyUSD', decimals: 5 },
              { name: 'p50_latency_ms', unit: 'ms', decimals: 0 },
              { name: 'p95_latency_ms', unit: 'ms', decimals: 0 },
              { name: 'failure_rate', unit: 'percentunit', decimals: 2 },
              { name: 'avg_relevance', decimals: 3 },
              { name: 'citation_usage_rate', unit: 'percentunit', decimals: 1 },
              { name: 'positive_rate', unit: 'percentunit', decimals: 1 },
              { name: 'avg_normalized_score', decimals: 3 },
              { name: 'thumbs_down_rate', unit: 'percentunit', decimals: 1, display: 'color-background', thresholds: [{ value: null, color: 'green' }, { value: 0.2, color: 'orange' }, { value: 0.4, color: 'red' }] },
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
            definition: DIFFERS.interval('ab_variant_comparison'),
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
            definition: DIFFERS.interval('ab_variant_comparison'),
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
            definition: DIFFERS.interval('ab_variant_comparison'),
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
            definition: DIFFERS.interval('thumbs_down_by_variant'),
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
