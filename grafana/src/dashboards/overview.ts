import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barGaugePanel, dashboardUrl, statPanel, timeSeriesPanel } from '../panels.js';
import { periodStatSql, QUANTILES, Q_INDEX, T } from '../sql.js';
import { filterClause, REQUEST_FILTERS, REQUEST_LEVEL_NOTE, ROLLUP_COLUMNS } from '../variables.js';
import { thumbsUpStatSql } from '../feedback.js';
import { DIFFERS } from '../named-queries.js';

const usage = (name: string, value: (c: string) => string, requestLevel = false) =>
  periodStatSql({ name, table: T.usageHourly, timeColumn: 'Hour', value, only: requestLevel ? REQUEST_FILTERS : undefined });

export function overviewDashboard() {
  return buildDashboard({
    uid: UID.overview,
    title: 'ragscope / Overview',
    description: 'Requests, errors, cost, tokens, latency, feedback and unpriced calls of your LLM / RAG services, each versus the previous period of the same length.',
    sections: [
      {
        panels: [
          statPanel({
            title: 'Requests',
            definition: DIFFERS.figure('period_over_period'),
            description: 'End-user requests (request root spans) in the time range; change versus the previous period of the same length.' + REQUEST_LEVEL_NOTE,
            sql: usage('Requests', (c) => `sumIf(Requests, ${c})`, true),
            unit: 'short',
            size: { w: 4, h: 4 },
            links: [{ title: 'Usage patterns', url: dashboardUrl(UID.usage) }],
          }),
          statPanel({
            title: 'Error rate',
            definition: DIFFERS.figure('error_breakdown'),
            description: 'Share of GenAI calls (LLM, embedding, retrieval and stage spans) that ended in error.',
            sql: usage('Errors', (c) => `sumIf(Errors, ${c}) / nullIf(sumIf(Calls, ${c}), 0)`),
            unit: 'percentunit',
            decimals: 2,
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 0.02, color: 'orange' },
              { value: 0.05, color: 'red' },
            ],
            size: { w: 3, h: 4 },
            links: [{ title: 'Latency and errors', url: dashboardUrl(UID.latency) }],
          }),
          statPanel({
            title: 'Cost',
            definition: DIFFERS.figure('period_over_period'),
            description: 'Spend in USD, priced at ingest from the price book (unpriced calls count as 0: see "Unpriced calls").',
            sql: usage('Cost', (c) => `sumIf(CostUSD, ${c})`),
            unit: 'currencyUSD',
            decimals: 2,
            upIsBad: true,
            size: { w: 4, h: 4 },
            links: [{ title: 'Tokens & cost', url: dashboardUrl(UID.tokensCost) }],
          }),
          statPanel({
            title: 'Tokens',
            definition: DIFFERS.figure('period_over_period'),
            description: 'Input (including cached) plus output (including reasoning) tokens.',
            sql: usage('Tokens', (c) => `sumIf(InputTokens + OutputTokens, ${c})`),
            unit: 'short',
            upIsBad: true,
            size: { w: 3, h: 4 },
            links: [{ title: 'Tokens & cost', url: dashboardUrl(UID.tokensCost) }],
          }),
          statPanel({
            title: 'p95 latency',
            definition: DIFFERS.figure('latency_percentiles_per_stage_hourly'),
            description: '95th percentile of end-to-end request latency (request root spans).' + REQUEST_LEVEL_NOTE,
            sql: periodStatSql({
              name: 'p95',
              table: T.latencyHourly,
              timeColumn: 'Hour',
              value: (c) => `${QUANTILES.replace('Merge', 'MergeIf')}(DurationQuantiles, ${c})[${Q_INDEX.p95}]`,
              where: "RagStage = 'request'",
              only: REQUEST_FILTERS,
            }),
            unit: 'ms',
            decimals: 0,
            upIsBad: true,
            size: { w: 4, h: 4 },
            links: [{ title: 'Latency', url: dashboardUrl(UID.latency) }],
          }),
          statPanel({
            title: 'Thumbs up',
            definition: DIFFERS.figure('feedback_rate_and_ratings'),
            description: 'Share of thumbs-up among thumbs feedback on the requests of the time range.',
            sql: thumbsUpStatSql(),
            unit: 'percentunit',
            decimals: 1,
            valueThresholds: [
              { value: null, color: 'red' },
              { value: 0.6, color: 'orange' },
              { value: 0.8, color: 'green' },
            ],
            size: { w: 3, h: 4 },
            links: [{ title: 'Feedback & evaluations', url: dashboardUrl(UID.feedback) }],
          }),
          statPanel({
            title: 'Unpriced calls',
            definition: DIFFERS.figure('cost_per_model_per_day'),
            description: 'Calls that reported token usage for a model with no price in the price book: their cost is missing. Add the model to your price book (RAGSCOPE_PRICES_FILE).',
            sql: usage('Unpriced', (c) => `sumIf(UnpricedCalls, ${c})`),
            unit: 'short',
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 1, color: 'red' },
            ],
            size: { w: 3, h: 4 },
            links: [{ title: 'Unpriced models', url: dashboardUrl(UID.tokensCost) }],
          }),
        ],
      },
      {
        panels: [
          timeSeriesPanel({
            title: 'Cost over time by model',
            definition: DIFFERS.interval('cost_per_model_per_day'),
            description: 'USD per interval, stacked by model.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, Model, toFloat64(sum(CostUSD)) AS cost
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND Model != '' AND ${filterClause()}
              GROUP BY time, Model
              ORDER BY time, Model
            `),
            unit: 'currencyUSD',
            decimals: 2,
            bars: true,
            stacked: true,
            seriesBy: 'Model',
            legendCalcs: ['sum'],
          }),
          timeSeriesPanel({
            title: 'Requests over time by service',
            definition: DIFFERS.interval(),
            description: 'Requests per interval, stacked by service.' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, ServiceName, sum(Requests) AS requests
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause(ROLLUP_COLUMNS, REQUEST_FILTERS)}
              GROUP BY time, ServiceName
              ORDER BY time, ServiceName
            `),
            unit: 'short',
            stacked: true,
            seriesBy: 'ServiceName',
            legendCalcs: ['sum'],
          }),
        ],
      },
      {
        panels: [
          timeSeriesPanel({
            title: 'Errors and rate limits',
            definition: DIFFERS.interval('rate_limit_incidents'),
            description: 'Failed calls and rate-limited calls (HTTP 429, RateLimitError, throttling) per interval.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, sum(Errors) AS "errors", sum(RateLimited) AS "rate limited"
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'short',
            bars: true,
            size: { w: 8, h: 8 },
            links: [{ title: 'Latency and errors', url: dashboardUrl(UID.latency) }],
          }),
          timeSeriesPanel({
            title: 'p95 latency per stage',
            definition: DIFFERS.interval('latency_percentiles_per_stage_hourly'),
            description: 'p95 duration of each RAG stage (request = end to end). With a provider or model filter only the stages that call those models remain (generation, embedding).',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, RagStage, ${QUANTILES}(DurationQuantiles)[${Q_INDEX.p95}] AS p95
              FROM ${T.latencyHourly}
              WHERE $__timeFilter(Hour) AND RagStage != '' AND ${filterClause()}
              GROUP BY time, RagStage
              ORDER BY time, RagStage
            `),
            unit: 'ms',
            seriesBy: 'RagStage',
            size: { w: 8, h: 8 },
            links: [{ title: 'Latency', url: dashboardUrl(UID.latency) }],
          }),
          barGaugePanel({
            title: 'Top models by cost',
            definition: DIFFERS.breakdown('cost_per_model_per_day'),
            description: 'Spend per model over the time range.',
            sql: normalizeSql(`
              SELECT Model, toFloat64(sum(CostUSD)) AS cost
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND Model != '' AND ${filterClause()}
              GROUP BY Model
              HAVING cost > 0
              ORDER BY cost DESC
              LIMIT 10
            `),
            unit: 'currencyUSD',
            decimals: 2,
            size: { w: 8, h: 8 },
            links: [{ title: 'Tokens & cost', url: dashboardUrl(UID.tokensCost) }],
          }),
        ],
      },
    ],
  });
}
