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
