/**
 * Alert rules: each is a ClickHouse query (format table: string columns become the alert instance's
 * labels, one numeric column is the value) → reduce (last) → threshold. Grafana turns every result row
 * into its own alert instance, so one rule yields one alert per service / model / data source.
 *
 * Windows are short for the fast rules, so they read genai_spans directly over the last 15 minutes (the
 * table's sort key starts with tenant and hour, so the window is a narrow range scan; hourly rollups
 * would average a spike over up to two hours). The cost and unpriced rules read usage_cost_hourly, the
 * thumbs-down rule reads feedback.
 *
 * Every threshold below is a documented default (docs/grafana.md): change the constant here and run
 * `npm run build:dashboards`, or edit the rule in Grafana after exporting it (provisioned rules are
 * read-only in the UI).
 */
import { RuleBuilder, QueryBuilder } from '@grafana/grafana-foundation-sdk/alerting';
import type { Rule } from '@grafana/grafana-foundation-sdk/alerting';
import { TypeReduceBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { ClickHouseQueryBuilder, DATASOURCE, Format, normalizeSql } from './clickhouse.js';
import { UID } from './dashboard.js';
import { T } from './sql.js';
import { DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_SLA_MS } from './variables.js';
import type { Definition } from './named-queries.js';

/** What the analytics layer counts as a rate limit (same rule as its rollups). */
export const RATE_LIMIT_REGEX = '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted';
const IS_ERROR = "(StatusCode = 'Error' OR ErrorType != '')";
const IS_RATE_LIMITED = `match(ErrorType, '${RATE_LIMIT_REGEX}')`;
const IS_REQUEST = "(RagStage = 'request' OR ParentSpanId = '')";
const LLM_OPERATIONS = "('chat', 'text_completion', 'generate_content', 'embeddings')";

/** Default thresholds (documented in docs/grafana.md). */
export const ALERT_DEFAULTS = {
  latency: { slaMs: DEFAULT_SLA_MS, windowMinutes: 15, minRequests: 20, for: '5m' },
  errorRate: { threshold: 0.1, windowMinutes: 15, minCalls: 20, for: '5m' },
  rateLimits: { threshold: 10, windowMinutes: 15, for: '2m' },
  emptyRetrievals: { threshold: 0.2, windowMinutes: 15, minRetrievals: 20, for: '10m' },
  costAnomaly: { factor: 3, minHourlyCostUsd: 1, baselineDays: 7, minBaselineDays: 3, for: '0s' },
  thumbsDown: { increase: 0.3, windowMinutes: 60, minVotes: 20, baselineDays: 7, for: '10m' },
  unpriced: { threshold: 0, windowMinutes: 120, for: '0s' },
  lowConfidence: { confidenceBelow: DEFAULT_CONFIDENCE_THRESHOLD, share: 0.5, windowMinutes: 60, minAnswers: 30, for: '10m' },
} as const;

export type ThresholdType = 'gt' | 'lt' | 'eq' | 'ne' | 'gte' | 'lte' | 'within_range' | 'outside_range' | 'within_range_included' | 'outside_range_included';

export interface AlertRuleSpec {
  uid: string;
  title: string;
  group: keyof typeof RULE_GROUPS;
  /** ClickHouse SQL (format table): string columns = labels, exactly one numeric column = value. */
  sql: string;
  /** relativeTimeRange.from in seconds: the query runs over [now - window, now]. */
  windowSeconds: number;
  /** Interval sent with the query (drives $__interval_s / $__timeInterval). */
  intervalMs: number;
  reducer: 'last' | 'mean' | 'max' | 'min' | 'sum' | 'count' | 'median';
  threshold: { type: ThresholdType; params: number[] };
  for: string;
  severity: 'warning' | 'critical';
  summary: string;
  description: string;
  dashboardUid: string;
  panelTitle: string;
  /** Relative dashboard link with the alert's labels as variables. */
  dashboardPath: string;
  /** The labels the query produces (checked by the tests). */
  instanceLabels: string[];
  /** Where its number comes from, or why it has its own query (docs/grafana.md). */
  definition: Definition;
}

/** Rule groups: evaluation interval per group (one folder, "ragscope"). */
export const RULE_GROUPS = {
  'ragscope-fast': { interval: '1m', seconds: 60 },
  'ragscope-slow': { interval: '5m', seconds: 300 },
} as const;

export const ALERT_FOLDER = 'ragscope';

/** Dashboard variables from the alert's labels (dashboard variable names equal the label names). */
const varsOf = (labels: string[]) => labels.map((l) => `var-${l}={{ $labels.${l} }}`).join('&');

const minutes = (m: number) => m * 60;

export function alertRules(): AlertRuleSpec[] {
  const d = ALERT_DEFAULTS;
  return [
    {
      uid: 'ragscope-latency-p95-sla',
      definition: { differs: "exact p95 of request root spans per service over the last 15 minutes, from genai_spans. `latency_percentiles_per_stage_hourly` gives hourly DDSketch p95 per stage: an hourly bucket would average a spike over up to two hours and delay the alert." },
      title: 'p95 request latency over SLA',
      group: 'ragscope-fast',
      sql: normalizeSql(`
        SELECT TenantId AS tenant, toString(ServiceName) AS service, quantile(0.95)(DurationMs) AS p95_ms
        FROM ${T.spans}
        WHERE $__timeFilter(Timestamp) AND ${IS_REQUEST}
        GROUP BY tenant, service
        HAVING count() >= ${d.latency.minRequests}
      `),
      windowSeconds: minutes(d.latency.windowMinutes),
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.latency.slaMs] },
      for: d.latency.for,
      severity: 'warning',
      summary: '{{ $labels.service }}: p95 request latency {{ humanize $values.B.Value }} ms over the last 15 minutes (SLA ' + d.latency.slaMs + ' ms)',
      description: `End-to-end p95 of requests (root spans) above the SLA for ${d.latency.for}; at least ${d.latency.minRequests} requests in the window. Open the Latency dashboard's slowest requests to see which stage is slow.`,
      dashboardUid: UID.latency,
      panelTitle: 'Request latency percentiles',
      dashboardPath: `/d/${UID.latency}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}`,
      instanceLabels: ['tenant', 'service'],
    },
    {
      uid: 'ragscope-error-rate',
      definition: { differs: "error share of model calls per service and requested model over the last 15 minutes, rate limits excluded, from genai_spans. `error_breakdown` reads the hourly rollups per error type and counts rate limits as errors; a 15-minute window needs the raw spans." },
      title: 'LLM error rate',
      group: 'ragscope-fast',
      sql: normalizeSql(`
        SELECT TenantId AS tenant, toString(ServiceName) AS service, toString(Provider) AS provider, toString(RequestModel) AS model,
               countIf(${IS_ERROR} AND NOT ${IS_RATE_LIMITED}) / count() AS error_rate
        FROM ${T.spans}
        WHERE $__timeFilter(Timestamp) AND UsageCounted = 1 AND Operation IN ${LLM_OPERATIONS} AND RequestModel != ''
        GROUP BY tenant, service, provider, model
        HAVING count() >= ${d.errorRate.minCalls}
      `),
      windowSeconds: minutes(d.errorRate.windowMinutes),
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.errorRate.threshold] },
      for: d.errorRate.for,
      severity: 'critical',
      summary: '{{ $labels.service }} / {{ $labels.model }}: {{ humanizePercentage $values.B.Value }} of LLM calls failed in the last 15 minutes',
      description: `Share of model calls (chat, completion, embeddings) that ended in error, rate limits excluded (they have their own rule), above ${d.errorRate.threshold * 100} % with at least ${d.errorRate.minCalls} calls. Grouped by the requested model: failed calls have no response model.`,
      dashboardUid: UID.latency,
      panelTitle: 'Errors by type',
      dashboardPath: `/d/${UID.latency}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}`,
      instanceLabels: ['tenant', 'service', 'provider', 'model'],
    },
    {
      uid: 'ragscope-rate-limits',
      definition: { differs: "rate-limited calls per service, provider and model over the last 15 minutes, from genai_spans (same rate-limit rule as the rollups). `rate_limit_incidents` lists whole hours from usage_cost_hourly, too coarse for a 15-minute alert." },
      title: 'Rate-limit incidents',
      group: 'ragscope-fast',
      sql: normalizeSql(`
        SELECT TenantId AS tenant, toString(ServiceName) AS service, toString(Provider) AS provider, toString(RequestModel) AS model,
               toFloat64(countIf(${IS_RATE_LIMITED})) AS rate_limited_calls
        FROM ${T.spans}
        WHERE $__timeFilter(Timestamp) AND UsageCounted = 1 AND Operation IN ${LLM_OPERATIONS} AND RequestModel != ''
        GROUP BY tenant, service, provider, model
      `),
      windowSeconds: minutes(d.rateLimits.windowMinutes),
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.rateLimits.threshold] },
      for: d.rateLimits.for,
      severity: 'warning',
      summary: '{{ $labels.provider }} is rate-limiting {{ $labels.service }}: {{ $values.B.Value }} calls to {{ $labels.model }} got HTTP 429 / RateLimitError in 15 minutes',
      description: `More than ${d.rateLimits.threshold} rate-limited calls (HTTP 429, RateLimitError, throttling, RESOURCE_EXHAUSTED) per provider and model in 15 minutes: raise the quota, add retries with backoff, or spread load across models.`,
      dashboardUid: UID.overview,
      panelTitle: 'Errors and rate limits',
      dashboardPath: `/d/${UID.overview}?var-tenant={{ $labels.tenant }}&${varsOf(['service', 'provider'])}`,
      instanceLabels: ['tenant', 'service', 'provider', 'model'],
    },
    {
      uid: 'ragscope-empty-retrievals',
      definition: { differs: "share of retrievals with no document per service and data source over the last 15 minutes, from genai_spans. `retrieval_quality` gives the empty-retrieval rate per feature and day from the hourly rollup." },
      title: 'Empty retrievals',
      group: 'ragscope-fast',
      sql: normalizeSql(`
        SELECT TenantId AS tenant, toString(ServiceName) AS service, toString(DataSourceId) AS data_source,
               countIf(empty(DocumentIds)) / count() AS empty_rate
        FROM ${T.spans}
        WHERE $__timeFilter(Timestamp) AND Operation = 'retrieval'
        GROUP BY tenant, service, data_source
        HAVING count() >= ${d.emptyRetrievals.minRetrievals}
      `),
      windowSeconds: minutes(d.emptyRetrievals.windowMinutes),
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.emptyRetrievals.threshold] },
      for: d.emptyRetrievals.for,
      severity: 'warning',
      summary: '{{ $labels.service }}: {{ humanizePercentage $values.B.Value }} of retrievals from {{ $labels.data_source }} returned no document',
      description: `Share of retrieval calls with no document above ${d.emptyRetrievals.threshold * 100} % over 15 minutes (at least ${d.emptyRetrievals.minRetrievals} retrievals): an index outage, a broken filter or an embedding-model mismatch.`,
      dashboardUid: UID.retrieval,
      panelTitle: 'Empty-retrieval, citation-usage and invalid-citation rates',
      dashboardPath: `/d/${UID.retrieval}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}`,
      instanceLabels: ['tenant', 'service', 'data_source'],
    },
    {
      uid: 'ragscope-cost-anomaly',
      definition: { differs: "the last complete hour's spend per service against the same hour of the previous days, from usage_cost_hourly. No named query compares an hour with its own daily pattern (`period_over_period` compares whole ranges)." },
      title: 'Hourly cost anomaly',
      group: 'ragscope-slow',
      sql: normalizeSql(`
        WITH toStartOfHour($__toTime()) - toIntervalHour(1) AS h
        SELECT tenant, service, current_cost / greatest(baseline_cost, 0.01) AS cost_ratio
        FROM (
          SELECT
            TenantId AS tenant, toString(ServiceName) AS service,
            toFloat64(sumIf(CostUSD, Hour = h)) AS current_cost,
            uniqExactIf(toDate(Hour), Hour < h AND toHour(Hour) = toHour(h) AND Hour >= h - toIntervalDay(${d.costAnomaly.baselineDays})) AS baseline_days,
            toFloat64(sumIf(CostUSD, Hour < h AND toHour(Hour) = toHour(h) AND Hour >= h - toIntervalDay(${d.costAnomaly.baselineDays}))) / greatest(baseline_days, 1) AS baseline_cost
          FROM ${T.usageHourly}
          WHERE $__timeFilter(Hour)
          GROUP BY tenant, service
        )
        WHERE current_cost >= ${d.costAnomaly.minHourlyCostUsd} AND baseline_days >= ${d.costAnomaly.minBaselineDays}
      `),
      windowSeconds: (d.costAnomaly.baselineDays + 1) * 86400,
      intervalMs: 3_600_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.costAnomaly.factor] },
      for: d.costAnomaly.for,
      severity: 'warning',
      summary: '{{ $labels.service }}: last hour cost {{ printf "%.1f" $values.B.Value }}× its usual spend at this hour',
      description: `Spend of the last complete hour above ${d.costAnomaly.factor}× the average spend of the same hour of day over the previous ${d.costAnomaly.baselineDays} days (days with spend at that hour; at least ${d.costAnomaly.minBaselineDays} needed), and at least $${d.costAnomaly.minHourlyCostUsd}. An anomaly relative to the service's own daily pattern, not a fixed budget.`,
      dashboardUid: UID.tokensCost,
      panelTitle: 'Cost by $breakdown',
      dashboardPath: `/d/${UID.tokensCost}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}&var-breakdown=Model`,
      instanceLabels: ['tenant', 'service'],
    },
    {
      uid: 'ragscope-thumbs-down-spike',
      definition: { differs: "thumbs-down share of the last hour minus the share of the previous 7 days per service. `thumbs_down_by_model` / `thumbs_down_by_variant` give the share per model or variant over one range, not the change against a baseline." },
      title: 'Thumbs-down spike',
      group: 'ragscope-slow',
      sql: normalizeSql(`
        WITH $__toTime() - toIntervalMinute(${d.thumbsDown.windowMinutes}) AS recent
        SELECT tenant, service, current_ratio - baseline_ratio AS thumbs_down_increase
        FROM (
          SELECT
            f.TenantId AS tenant,
            if(f.ServiceName != '', toString(f.ServiceName), ifNull(r.service, '')) AS service,
            countIf(f.Thumbs = 'down' AND f.Timestamp >= recent) / countIf(f.Timestamp >= recent) AS current_ratio,
            countIf(f.Thumbs = 'down' AND f.Timestamp < recent) / countIf(f.Timestamp < recent) AS baseline_ratio,
            countIf(f.Timestamp >= recent) AS votes,
            countIf(f.Timestamp < recent) AS baseline_votes
          FROM ${T.feedback} AS f
          LEFT JOIN (
            SELECT TenantId, TraceId, max(ServiceName) AS service
            FROM ${T.requestRollup}
            WHERE $__dateFilter(Day) AND TraceId IN (SELECT TraceId FROM feedback WHERE $__timeFilter(Timestamp))
            GROUP BY TenantId, TraceId
          ) AS r ON r.TenantId = f.TenantId AND r.TraceId = f.TraceId
          WHERE $__timeFilter(f.Timestamp) AND f.Thumbs IN ('up', 'down')
          GROUP BY tenant, service
        )
        WHERE votes >= ${d.thumbsDown.minVotes} AND baseline_votes > 0
        SETTINGS join_use_nulls = 1
      `),
      windowSeconds: (d.thumbsDown.baselineDays * 24 + 1) * 3600,
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.thumbsDown.increase] },
      for: d.thumbsDown.for,
      severity: 'warning',
      summary: '{{ $labels.service }}: thumbs-down share up {{ humanizePercentage $values.B.Value }} (points) in the last hour versus the previous 7 days',
      description: `Thumbs-down share of the last ${d.thumbsDown.windowMinutes} minutes minus the share over the previous ${d.thumbsDown.baselineDays} days above ${d.thumbsDown.increase * 100} points, with at least ${d.thumbsDown.minVotes} votes in the last hour. See the low-rated requests table for the questions and comments behind it.`,
      dashboardUid: UID.feedback,
      panelTitle: 'Low-rated requests',
      dashboardPath: `/d/${UID.feedback}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}`,
      instanceLabels: ['tenant', 'service'],
    },
    {
      uid: 'ragscope-low-confidence',
      definition: { differs: "share of the last hour's answers with a confidence below the threshold per service, from request_rollup (the per-request confidence of migration 0022, as in the requests view). `low_confidence_requests` lists such requests for one tenant and range; `confidence_distribution` buckets them." },
      title: 'Low-confidence answers',
      group: 'ragscope-slow',
      sql: normalizeSql(`
        SELECT tenant, service, countIf(confidence < ${d.lowConfidence.confidenceBelow}) / count() AS low_confidence_share
        FROM (
          SELECT TenantId AS tenant, TraceId, toString(max(ServiceName)) AS service, min(StartTime) AS start_time,
                 sum(ConfidenceSpans) AS scored, argMaxMerge(Confidence) AS confidence
          FROM ${T.requestRollup}
          WHERE $__dateFilter(Day)
          GROUP BY tenant, TraceId
          HAVING scored > 0 AND $__timeFilter(start_time)
        )
        GROUP BY tenant, service
        HAVING count() >= ${d.lowConfidence.minAnswers}
      `),
      windowSeconds: minutes(d.lowConfidence.windowMinutes),
      intervalMs: 60_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.lowConfidence.share] },
      for: d.lowConfidence.for,
      severity: 'warning',
      summary: '{{ $labels.service }}: {{ humanizePercentage $values.B.Value }} of the last hour\'s answers had a confidence below ${d.lowConfidence.confidenceBelow}',
      description: `Share of answers (requests that recorded ragscope.answer.confidence) in the last ${d.lowConfidence.windowMinutes} minutes whose confidence is below ${d.lowConfidence.confidenceBelow}, above ${d.lowConfidence.share * 100} % with at least ${d.lowConfidence.minAnswers} answers. A retrieval or model change that leaves the app unsure of its answers; see the low-confidence requests table.`,
      dashboardUid: UID.feedback,
      panelTitle: 'Low-confidence requests',
      dashboardPath: `/d/${UID.feedback}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}&var-confidence_threshold=${d.lowConfidence.confidenceBelow}`,
      instanceLabels: ['tenant', 'service'],
    },
    {
      uid: 'ragscope-unpriced-model',
      definition: { differs: "models with unpriced calls in the last 2 hours per service, from usage_cost_hourly. `cost_per_model_per_day` reports the same UnpricedCalls counter per UTC day." },
      title: 'Model without a price',
      group: 'ragscope-slow',
      sql: normalizeSql(`
        SELECT TenantId AS tenant, toString(ServiceName) AS service, toString(Provider) AS provider, toString(Model) AS model,
               toFloat64(sum(UnpricedCalls)) AS unpriced_calls
        FROM ${T.usageHourly}
        WHERE $__timeFilter(Hour) AND Model != ''
        GROUP BY tenant, service, provider, model
      `),
      windowSeconds: minutes(d.unpriced.windowMinutes),
      intervalMs: 3_600_000,
      reducer: 'last',
      threshold: { type: 'gt', params: [d.unpriced.threshold] },
      for: d.unpriced.for,
      severity: 'warning',
      summary: '{{ $labels.provider }} / {{ $labels.model }} has no price: {{ $values.B.Value }} calls from {{ $labels.service }} in the last 2 hours are not in the cost figures',
      description: 'A model reported token usage but has no entry in the price book: add it to your price file (RAGSCOPE_PRICES_FILE, docs/pricing.md). Cost dashboards undercount until then.',
      dashboardUid: UID.tokensCost,
      panelTitle: 'Unpriced models',
      dashboardPath: `/d/${UID.tokensCost}?var-tenant={{ $labels.tenant }}&${varsOf(['service'])}`,
      instanceLabels: ['tenant', 'service', 'provider', 'model'],
    },
  ];
}

/** The rule as the foundation SDK models it (Grafana's HTTP API shape). */
export function buildRule(spec: AlertRuleSpec, panelId: number | undefined): Rule {
  const exprRef = { type: '__expr__', uid: '__expr__' };
  const a = new ClickHouseQueryBuilder('A', spec.sql, Format.Table).intervalMs(spec.intervalMs).maxDataPoints(43200);
  const reduce = new TypeReduceBuilder().refId('B').expression('A').reducer(spec.reducer).settings({ mode: 'dropNN' }).datasource(exprRef).intervalMs(1000).maxDataPoints(43200);
  const threshold = new TypeThresholdBuilder()
    .refId('C')
    .expression('B')
    .conditions([{ evaluator: { type: spec.threshold.type, params: spec.threshold.params } }])
    .datasource(exprRef)
    .intervalMs(1000)
    .maxDataPoints(43200);
  const annotations: Record<string, string> = {
    summary: spec.summary,
    description: spec.description,
    dashboard: spec.dashboardPath,
    __dashboardUid__: spec.dashboardUid,
  };
  if (panelId !== undefined) annotations.__panelId__ = String(panelId);
  return new RuleBuilder(spec.title)
    .uid(spec.uid)
    .ruleGroup(spec.group)
    .condition('C')
    .queries([
      new QueryBuilder('A').datasourceUid(DATASOURCE.uid).relativeTimeRange({ from: spec.windowSeconds, to: 0 }).model(a),
      new QueryBuilder('B').datasourceUid('__expr__').model(reduce),
      new QueryBuilder('C').datasourceUid('__expr__').model(threshold),
    ])
    .noDataState('OK')
    .execErrState('Error')
    .forDuration(spec.for)
    .labels({ severity: spec.severity, source: 'ragscope' })
    .annotations(annotations)
    .isPaused(false)
    .build();
}
