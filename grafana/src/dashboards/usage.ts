import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barGaugePanel, tablePanel, timeSeriesPanel } from '../panels.js';
import { REQUEST_COLUMNS, requestsView, T } from '../sql.js';
import { filterClause, REQUEST_FILTERS, REQUEST_LEVEL_NOTE, ROLLUP_COLUMNS } from '../variables.js';
import { DIFFERS, NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';

const requestFilters = () => filterClause(ROLLUP_COLUMNS, REQUEST_FILTERS);

const HOURS = Array.from({ length: 24 }, (_, h) => h);

export function usageDashboard() {
  return buildDashboard({
    uid: UID.usage,
    title: 'ragscope / Usage patterns',
    description: 'What people ask and when: most repeated questions, traffic by hour of day and weekday, top users and features.',
    sections: [
      {
        panels: [
          timeSeriesPanel({
            title: 'Requests, users and sessions',
            definition: DIFFERS.interval(),
            description: 'Requests, distinct users and distinct sessions per interval.',
            sql: normalizeSql(`
              SELECT $__timeInterval(StartTime) AS time, count() AS requests,
                     uniqExactIf(UserId, UserId != '') AS users, uniqExactIf(SessionId, SessionId != '') AS sessions
              FROM ${requestsView()}
              WHERE ${filterClause(REQUEST_COLUMNS)}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'short',
          }),
          timeSeriesPanel({
            title: 'Requests by feature',
            definition: DIFFERS.interval('top_features_by_cost'),
            description: 'Requests per interval, stacked by product feature (ragscope.feature).' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, if(Feature = '', '(none)', toString(Feature)) AS feature, sum(Requests) AS requests
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${requestFilters()}
              GROUP BY time, feature
              HAVING requests > 0
              ORDER BY time, feature
            `),
            unit: 'short',
            stacked: true,
            seriesBy: 'feature',
            legendCalcs: ['sum'],
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Traffic heatmap: hour of day × weekday (UTC)',
            definition: DIFFERS.breakdown(),
            description: 'Requests per UTC hour of day (columns) and weekday (rows) over the range.' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT
                ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][toDayOfWeek(Hour)] AS weekday,
                ${HOURS.map((h) => `sumIf(Requests, toHour(Hour) = ${h}) AS "${String(h).padStart(2, '0')}"`).join(',\n                ')}
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${requestFilters()}
              GROUP BY toDayOfWeek(Hour)
              ORDER BY toDayOfWeek(Hour)
            `),
            cellDisplay: 'color-background',
            colorScheme: 'continuous-BlYlRd',
            columns: [{ name: 'weekday', width: 70 }],
            size: { w: 24, h: 9 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Most repeated questions',
            definition: { namedQuery: 'most_repeated_questions' },
            description: 'Query fingerprints (hash of the normalized question, recorded even with content capture off) asked most often, with distinct users, latency, response-cache hits, first and last time seen, and the average tokens and cost of a request asking it (over a hash sample of at most ~20 000 requests: cost_sample_stride).' + NAMED_QUERY_FILTERS_NOTE,
            // The named query's rows and order; rollup columns (SimpleAggregateFunction types) cast to plain ones.
            sql: normalizeSql(`
              SELECT toString(fingerprint) AS fingerprint, requests, users, avg_latency_ms, cache_hits,
                     CAST(first_seen AS DateTime64(3, 'UTC')) AS first_seen, CAST(last_seen AS DateTime64(3, 'UTC')) AS last_seen, avg_tokens,
                     toFloat64(avg_cost_usd) AS avg_cost_usd, cost_sample_stride
              FROM (
                ${namedQuerySql('most_repeated_questions').replace(/\n/g, '\n                ')}
              )
              ORDER BY requests DESC, fingerprint
            `),
            columns: [
              { name: 'requests', display: 'gauge' },
              { name: 'avg_latency_ms', unit: 'ms', decimals: 0 },
              { name: 'avg_cost_usd', unit: 'currencyUSD', decimals: 5 },
              { name: 'avg_tokens', decimals: 0 },
            ],
            sortBy: { name: 'requests', desc: true },
            size: { w: 24, h: 10 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Top users by cost',
            definition: { namedQuery: 'top_users_by_cost' },
            description: 'The users whose requests cost the most in the range, with requests, tokens, cost per request, failed requests, model calls and sessions (daily per-user rollup).' + NAMED_QUERY_FILTERS_NOTE,
            sql: namedQuerySql('top_users_by_cost'),
            columns: [
              { name: 'cost_usd', unit: 'currencyUSD', decimals: 4, display: 'gauge' },
              { name: 'cost_per_request_usd', unit: 'currencyUSD', decimals: 5 },
            ],
            size: { w: 14, h: 10 },
          }),
          barGaugePanel({
            title: 'Top features by requests',
            definition: DIFFERS.breakdown('top_features_by_cost'),
            description: 'Requests per product feature (ragscope.feature) over the range.' + REQUEST_LEVEL_NOTE,
            sql: normalizeSql(`
              SELECT if(Feature = '', '(none)', toString(Feature)) AS feature, sum(Requests) AS requests
              FROM ${T.usageHourly}
              WHERE $__timeFilter(Hour) AND ${requestFilters()}
              GROUP BY feature
              HAVING requests > 0
              ORDER BY requests DESC
              LIMIT 15
            `),
            unit: 'short',
            size: { w: 10, h: 10 },
          }),
        ],
      },
    ],
  });
}
