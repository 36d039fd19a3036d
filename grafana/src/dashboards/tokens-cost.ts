import { CustomVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { dashboardUrl, statPanel, tablePanel, timeSeriesPanel, pieChartPanel } from '../panels.js';
import { CHANGE_FIELD } from '../panels.js';
import { FROM, PREV_FROM, periodStatSql, REQUEST_COLUMNS, requestsView, T, TO } from '../sql.js';
import { filterClause } from '../variables.js';
import { DIFFERS, NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';

/** Breakdown dimension for the "by ..." panels: a column of usage_cost_hourly. */
export const BREAKDOWNS = [
  { text: 'Model', value: 'Model' },
  { text: 'Provider', value: 'Provider' },
  { text: 'Service', value: 'ServiceName' },
  { text: 'Feature', value: 'Feature' },
  { text: 'Environment', value: 'Environment' },
  { text: 'Variant', value: 'Variant' },
] as const;

function breakdownVariable() {
  return new CustomVariableBuilder('breakdown')
    .label('Break down by')
    .description('Dimension of the "by ..." panels.')
    .values(BREAKDOWNS.map((b) => `${b.text} : ${b.value}`).join(','))
    .options(BREAKDOWNS.map((b, i) => ({ selected: i === 0, text: b.text, value: b.value })))
    .current({ selected: true, text: BREAKDOWNS[0].text, value: BREAKDOWNS[0].value });
}

const usage = (name: string, value: (c: string) => string) =>
  periodStatSql({ name, table: T.usageHourly, timeColumn: 'Hour', value });

export function tokensCostDashboard() {
  return buildDashboard({
    uid: UID.tokensCost,
    title: 'ragscope / Tokens & cost',
    description: 'Token usage and spend by model, provider, service and feature; cost per request, prompt-cache savings, month-end projection and models without a price.',
    extraVariables: [breakdownVariable()],
    sections: [
      {
        panels: [
          statPanel({
            title: 'Cost',
            definition: DIFFERS.figure('period_over_period'),
            description: 'Spend in USD over the range.',
            sql: usage('Cost', (c) => `sumIf(CostUSD, ${c})`),
            unit: 'currencyUSD',
            decimals: 2,
            upIsBad: true,
            size: { w: 3, h: 4 },
          }),
          statPanel({
            title: 'Cost per request',
            definition: DIFFERS.figure('top_features_by_cost'),
            description: 'Average spend of a request (all its model calls), from the per-request rollup: every filter applies.',
            sql: normalizeSql(`
              SELECT cur AS "per request", if(prev = 0 OR isNull(prev) OR isNaN(prev), NULL, cur / prev - 1) AS "${CHANGE_FIELD}"
              FROM (
                SELECT avgIf(toFloat64(CostUSD), StartTime >= ${FROM}) AS cur, avgIf(toFloat64(CostUSD), StartTime < ${FROM}) AS prev
                FROM ${requestsView(PREV_FROM, TO)}
                WHERE ${filterClause(REQUEST_COLUMNS)}
              )
            `),
            unit: 'currencyUSD',
            decimals: 4,
            upIsBad: true,
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Tokens',
            definition: DIFFERS.figure('period_over_period'),
            description: 'Input (including cached) + output (including reasoning) tokens.',
            sql: usage('Tokens', (c) => `sumIf(InputTokens + OutputTokens, ${c})`),
            unit: 'short',
            upIsBad: true,
            size: { w: 3, h: 4 },
          }),
          statPanel({
            title: 'Prompt-cache savings',
            definition: { namedQuery: 'prompt_cache_savings' },
            description: 'Estimated savings from prompt caching summed over models: what cache-read input tokens would have cost at the uncached input price minus what they cost (models with unpriced calls are left out), and the cached share of input tokens.' + NAMED_QUERY_FILTERS_NOTE,
            sql: normalizeSql(`
              SELECT toFloat64(sum(estimated_savings_usd)) AS "Saved", sum(cache_read_tokens) / nullIf(sum(input_tokens), 0) AS "cached input share"
              FROM (
                ${namedQuerySql('prompt_cache_savings').replace(/\n/g, '\n                ')}
              )
            `),
            unit: 'currencyUSD',
            decimals: 2,
            change: false,
            fieldUnits: { 'cached input share': 'percentunit' },
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Response-cache savings',
            definition: { namedQuery: 'response_cache_savings' },
            description: 'Requests served from your application\'s response cache × the cost of an answered (non-cached) request, per feature, summed; and the hit rate.' + NAMED_QUERY_FILTERS_NOTE,
            sql: normalizeSql(`
              SELECT toFloat64(sum(estimated_savings_usd)) AS "Saved", sum(cache_hits) / nullIf(sum(requests), 0) AS "hit rate"
              FROM (
                ${namedQuerySql('response_cache_savings').replace(/\n/g, '\n                ')}
              )
            `),
            unit: 'currencyUSD',
            decimals: 2,
            change: false,
            fieldUnits: { 'hit rate': 'percentunit' },
            size: { w: 3, h: 4 },
          }),
          statPanel({
            title: 'Month-end projection',
            definition: { namedQuery: 'month_end_cost_projection' },
            description: 'Month-to-date spend (month of the range end) plus the average daily spend of the last 7 days before the range end times the days left in that month (the named query with from = range end − 7 days).' + NAMED_QUERY_FILTERS_NOTE,
            sql: normalizeSql(`
              SELECT toFloat64(month_to_date_usd) AS "Month to date", toFloat64(projected_month_usd) AS "Projected"
              FROM (
                ${namedQuerySql('month_end_cost_projection', {}, { from: '$__toTime() - toIntervalDay(7)' }).replace(/\n/g, '\n                ')}
              )
            `),
            unit: 'currencyUSD',
            decimals: 2,
            change: false,
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Unpriced calls',
            definition: DIFFERS.figure('cost_per_model_per_day'),
            description: 'Calls with token usage but no price: their cost is missing from every figure here. See the table below.',
            sql: usage('Unpriced', (c) => `sumIf(UnpricedCalls, ${c})`),
            unit: 'short',
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 1, color: 'red' },
            ],
            size: { w: 3, h: 4 },
          }),
        ],
      },
      {
        row: 'By $breakdown',
        panels: [
          timeSeriesPanel({
            title: 'Cost by $breakdown',
            definition: DIFFERS.interval('cost_per_model_per_day'),
            description: 'Spend per interval, stacked by the dimension chosen in "Break down by".',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, if(\${breakdown} = '', '(none)', \${breakdown}) AS group, toFloat64(sum(CostUSD)) AS cost
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY time, group
              HAVING cost > 0
              ORDER BY time, group
            `),
            unit: 'currencyUSD',
            decimals: 2,
            bars: true,
            stacked: true,
            seriesBy: 'group',
            legendCalcs: ['sum'],
          }),
          timeSeriesPanel({
            title: 'Tokens by $breakdown',
            definition: DIFFERS.interval('cost_per_model_per_day'),
            description: 'Input + output tokens per interval, stacked by the chosen dimension.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, if(\${breakdown} = '', '(none)', \${breakdown}) AS group, sum(InputTokens + OutputTokens) AS tokens
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY time, group
              HAVING tokens > 0
              ORDER BY time, group
            `),
            unit: 'short',
            bars: true,
            stacked: true,
            seriesBy: 'group',
            legendCalcs: ['sum'],
          }),
          pieChartPanel({
            title: 'Cost share by $breakdown',
            definition: DIFFERS.breakdown('cost_per_model_per_day'),
            description: 'Share of spend over the range.',
            sql: normalizeSql(`
              SELECT if(\${breakdown} = '', '(none)', \${breakdown}) AS group, toFloat64(sum(CostUSD)) AS cost
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY group
              HAVING cost > 0
              ORDER BY cost DESC
              LIMIT 20
            `),
            unit: 'currencyUSD',
            decimals: 2,
          }),
          timeSeriesPanel({
            title: 'Cost per request',
            definition: DIFFERS.interval('top_features_by_cost'),
            description: 'Average spend of a request per interval, from the per-request rollup (every filter applies).',
            sql: normalizeSql(`
              SELECT $__timeInterval(StartTime) AS time, avg(toFloat64(CostUSD)) AS "cost per request"
              FROM ${requestsView()}
              WHERE ${filterClause(REQUEST_COLUMNS)}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'currencyUSD',
            decimals: 4,
            size: { w: 8, h: 8 },
          }),
          timeSeriesPanel({
            title: 'Token mix',
            definition: DIFFERS.interval('cost_per_model_per_day'),
            description: 'Uncached input, cache-read, cache-write, output (without reasoning) and reasoning tokens per interval.',
            sql: normalizeSql(`
              SELECT
                $__timeInterval(Hour) AS time,
                sum(InputTokens - CacheReadTokens - CacheWriteTokens) AS "input (uncached)",
                sum(CacheReadTokens) AS "cache read",
                sum(CacheWriteTokens) AS "cache write",
                sum(OutputTokens - ReasoningTokens) AS "output",
                sum(ReasoningTokens) AS "reasoning"
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${filterClause()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'short',
            stacked: true,
            size: { w: 8, h: 8 },
          }),
        ],
      },
      {
        row: 'Models',
        panels: [
          tablePanel({
            title: 'Cost by model',
            definition: DIFFERS.breakdown('cost_per_model_per_day'),
            description: 'Calls, tokens and spend per provider and model over the range.',
            sql: normalizeSql(`
              SELECT
                Provider AS provider, Model AS model, sum(Calls) AS calls, sum(InputTokens) AS input_tokens,
                sum(CacheReadTokens) AS cached_tokens, sum(OutputTokens) AS output_tokens,
                toFloat64(sum(CostUSD)) AS cost, cost / nullIf(calls, 0) AS cost_per_call,
                cost / nullIf(input_tokens + output_tokens, 0) * 1000 AS cost_per_1k_tokens,
                sum(UnpricedCalls) AS unpriced_calls
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND Model != '' AND ${filterClause()}
              GROUP BY provider, model
              ORDER BY cost DESC
              LIMIT 100
            `),
            columns: [
              { name: 'cost', unit: 'currencyUSD', decimals: 2, display: 'gauge' },
              { name: 'cost_per_call', unit: 'currencyUSD', decimals: 5 },
              { name: 'cost_per_1k_tokens', unit: 'currencyUSD', decimals: 5 },
              { name: 'unpriced_calls', thresholds: [{ value: null, color: 'green' }, { value: 1, color: 'red' }], display: 'color-text' },
            ],
            sortBy: { name: 'cost', desc: true },
            size: { w: 16, h: 10 },
          }),
          tablePanel({
            title: 'Unpriced models',
            definition: DIFFERS.breakdown('cost_per_model_per_day'),
            description: 'Models that reported usage but have no price: add them to your price book (RAGSCOPE_PRICES_FILE, docs/pricing.md). Their calls count as 0 USD until then.',
            sql: normalizeSql(`
              SELECT Provider AS provider, Model AS model, sum(UnpricedCalls) AS calls,
                     sum(InputTokens + OutputTokens) AS tokens, min(Hour) AS first_seen, max(Hour) AS last_seen
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND UnpricedCalls > 0 AND ${filterClause()}
              GROUP BY provider, model
              ORDER BY calls DESC
            `),
            links: [{ title: 'Overview', url: dashboardUrl(UID.overview) }],
            size: { w: 8, h: 10 },
          }),
        ],
      },
    ],
  });
}
