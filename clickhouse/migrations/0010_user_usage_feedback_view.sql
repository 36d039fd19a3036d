-- Usage and cost per user, daily, fed from genai_spans. user.id travels with every span of a request
-- (baggage), so per-user totals are plain sums over spans: order-independent, no per-request merge needed.
-- Same rules as usage_cost_hourly (0004): UsageCounted = 1 rows only; request = RagStage 'request' or no parent.
CREATE TABLE IF NOT EXISTS user_usage_daily (
    TenantId LowCardinality(String),
    Day Date,
    UserId String,
    ServiceName LowCardinality(String),
    Feature LowCardinality(String),
    Requests SimpleAggregateFunction(sum, UInt64),
    FailedRequests SimpleAggregateFunction(sum, UInt64),
    LlmCalls SimpleAggregateFunction(sum, UInt64),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64),
    CostUSD SimpleAggregateFunction(sum, Decimal(38, 12)),
    UnpricedCalls SimpleAggregateFunction(sum, UInt64),
    Sessions AggregateFunction(uniq, Nullable(String))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, UserId, ServiceName, Feature)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_usage_daily_mv TO user_usage_daily AS
WITH RagStage = 'request' OR ParentSpanId = '' AS is_root
SELECT
    TenantId,
    toDate(Timestamp, 'UTC') AS Day,
    UserId,
    ServiceName,
    Feature,
    countIf(is_root) AS Requests,
    countIf(is_root AND (StatusCode = 'Error' OR ErrorType != '')) AS FailedRequests,
    countIf(Operation IN ('chat', 'text_completion', 'generate_content')) AS LlmCalls,
    sum(ifNull(s.InputTokens, 0)) AS InputTokens,
    sum(ifNull(s.OutputTokens, 0)) AS OutputTokens,
    toDecimal128(sum(ifNull(s.CostUSD, 0)), 12) AS CostUSD,
    countIf(CostSource = 'unpriced') AS UnpricedCalls,
    uniqState(nullIf(SessionId, '')) AS Sessions
FROM genai_spans AS s
WHERE UsageCounted = 1 AND UserId != ''
GROUP BY TenantId, Day, UserId, ServiceName, Feature;

-- feedback_latest (0008) resolved response ids by aggregating the whole response_index; this version looks
-- up only the response ids that feedback actually names (a primary-key lookup on response_index), so its
-- cost follows the amount of feedback, not of traffic. Same columns, same meaning.
CREATE OR REPLACE VIEW feedback_latest AS
SELECT
    f.TenantId AS TenantId,
    f.FeedbackId AS FeedbackId,
    f.LatestVersion AS LatestVersion,
    f.LatestTimestamp AS Timestamp,
    f.Source AS Source,
    f.Name AS Name,
    f.Kind AS Kind,
    f.Thumbs AS Thumbs,
    f.Rating AS Rating,
    f.Value AS Value,
    f.NormalizedScore AS NormalizedScore,
    f.Label AS Label,
    f.Comment AS Comment,
    f.Tags AS Tags,
    f.UserId AS UserId,
    if(f.TraceId != '', f.TraceId, ri.TraceId) AS TraceId,
    f.SpanId AS SpanId,
    f.ResponseId AS ResponseId,
    f.ServiceName AS ServiceName
FROM
(
    SELECT
        fb.TenantId AS TenantId,
        fb.FeedbackId AS FeedbackId,
        max(fb.Version) AS LatestVersion,
        argMax(fb.Timestamp, fb.Version) AS LatestTimestamp,
        argMax(fb.Source, fb.Version) AS Source,
        argMax(fb.Name, fb.Version) AS Name,
        argMax(fb.Kind, fb.Version) AS Kind,
        argMax(fb.Thumbs, fb.Version) AS Thumbs,
        argMax(fb.Rating, fb.Version) AS Rating,
        argMax(fb.Value, fb.Version) AS Value,
        argMax(fb.NormalizedScore, fb.Version) AS NormalizedScore,
        argMax(fb.Label, fb.Version) AS Label,
        argMax(fb.Comment, fb.Version) AS Comment,
        argMax(fb.Tags, fb.Version) AS Tags,
        argMax(fb.UserId, fb.Version) AS UserId,
        argMax(fb.TraceId, fb.Version) AS TraceId,
        argMax(fb.SpanId, fb.Version) AS SpanId,
        argMax(fb.ResponseId, fb.Version) AS ResponseId,
        argMax(fb.ServiceName, fb.Version) AS ServiceName
    FROM feedback AS fb
    GROUP BY fb.TenantId, fb.FeedbackId
) AS f
LEFT JOIN
(
    SELECT TenantId, ResponseId, any(TraceId) AS TraceId
    FROM response_index
    WHERE ResponseId IN (SELECT ResponseId FROM feedback WHERE ResponseId != '' AND TraceId = '')
    GROUP BY TenantId, ResponseId
) AS ri ON ri.TenantId = f.TenantId AND ri.ResponseId = f.ResponseId
SETTINGS join_use_nulls = 0;
