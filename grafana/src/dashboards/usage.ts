import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barGaugePanel, tablePanel, timeSeriesPanel } from '../panels.js';
import { REQUEST_COLUMNS, requestsView, T } from '../sql.js';
import { filterClause, REQUEST_FILTERS, REQUEST_LEVEL_NOTE, ROLLUP_COLUMNS, type FilterColumns } from '../variables.js';

const requestFilters = () => filterClause(ROLLUP_COLUMNS, REQUEST_FILTERS);

/** query_patterns_daily and user_usage_daily are keyed by service and feature only. */
const PATTERN_COLUMNS: FilterColumns = { tenant: 'TenantId', service: 'ServiceName' };

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
            description: 'Query fingerprints (hash of the normalized question, recorded even with content capture off) by number of requests, with users, latency, cache hits and cost. Only the service filter applies to the counts (fingerprints are kept per service and feature).',
            sql: normalizeSql(`
              SELECT p.fingerprint AS fingerprint, p.requests AS requests, p.users AS users, p.avg_latency AS avg_latency,
                     p.cache_hit_rate AS cache_hit_rate, c.avg_cost AS avg_cost, c.avg_tokens AS avg_tokens,
                     p.first_seen AS first_seen, p.last_seen AS last_seen
              FROM (
                SELECT QueryFingerprint AS fingerprint, uniqMerge(Requests) AS requests, uniqMerge(Users) AS users,
                       sum(RootDurationSumMs) / nullIf(sum(RootSpans), 0) AS avg_latency,
                       sum(ResponseCacheHits) / nullIf(sum(RootSpans), 0) AS cache_hit_rate,
                       toDateTime64(min(FirstSeen), 3) AS first_seen, toDateTime64(max(LastSeen), 3) AS last_seen
                FROM ${T.queryPatternsDaily}
                WHERE $__dateFilter(Day) AND ${filterClause(PATTERN_COLUMNS)}
                GROUP BY fingerprint
                ORDER BY requests DESC
                LIMIT 50
              ) AS p
              LEFT JOIN (
                SELECT toString(QueryFingerprint) AS fingerprint, avg(toFloat64(CostUSD)) AS avg_cost, avg(TotalTokens) AS avg_tokens
                FROM ${requestsView()}
                WHERE QueryFingerprint != '' AND ${filterClause(REQUEST_COLUMNS)}
                GROUP BY fingerprint
              ) AS c ON c.fingerprint = p.fingerprint
              ORDER BY requests DESC
              SETTINGS join_use_nulls = 1
            `),
            columns: [
              { name: 'requests', display: 'gauge' },
              { name: 'avg_latency', unit: 'ms', decimals: 0 },
              { name: 'cache_hit_rate', unit: 'percentunit', decimals: 1 },
              { name: 'avg_cost', unit: 'currencyUSD', decimals: 5 },
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
            title: 'Top users',
            description: 'Users by requests over the range, with sessions, model calls, tokens, spend and failed requests (daily per-user rollup). Only the service filter applies (users are kept per service and feature).',
            sql: normalizeSql(`
              SELECT UserId AS user, sum(Requests) AS requests, uniqMerge(Sessions) AS sessions, sum(LlmCalls) AS llm_calls,
                     sum(InputTokens + OutputTokens) AS tokens, toFloat64(sum(CostUSD)) AS cost,
                     sum(FailedRequests) / nullIf(sum(Requests), 0) AS failed
              FROM ${T.userUsageDaily}
              WHERE $__dateFilter(Day) AND ${filterClause(PATTERN_COLUMNS)}
              GROUP BY user
              ORDER BY requests DESC
              LIMIT 25
            `),
            columns: [
              { name: 'requests', display: 'gauge' },
              { name: 'cost', unit: 'currencyUSD', decimals: 4 },
              { name: 'failed', unit: 'percentunit', decimals: 1 },
            ],
            size: { w: 14, h: 10 },
          }),
          barGaugePanel({
            title: 'Top features by requests',
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
