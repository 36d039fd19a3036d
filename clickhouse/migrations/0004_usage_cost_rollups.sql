-- Usage and cost rollups, hourly and daily, fed from genai_spans (docs/analytics.md).
--
-- Rules shared by every rollup fed from genai_spans:
--   Model        = ResponseModel if reported, else RequestModel.
--   error        = StatusCode = 'Error' OR ErrorType != ''.
--   rate limited = ErrorType looks like a 429: '429', 'RateLimitError' (what the normalizer writes when a
--                  generic error carries HTTP 429 / "rate limit"), ThrottlingException (Bedrock),
--                  RESOURCE_EXHAUSTED (Google), "too many requests". Case-insensitive regex below.
--   request      = a span with RagStage = 'request' (the ragscope request root) or with no parent.
--   UsageCounted = 0 rows describe a call already recorded by another span (wrapper spans): they are left
--                  out of this rollup entirely (calls, tokens, cost), so nothing is counted twice.
-- Time buckets are UTC. Tokens are summed with NULL (unreported) as 0; CallsWithUsage says how many calls
-- reported any usage. Input tokens INCLUDE cache read/write; output tokens INCLUDE reasoning.
-- Sum every column with sum() and GROUP BY at query time: rows are only collapsed by background merges.
CREATE TABLE IF NOT EXISTS usage_cost_hourly (
    TenantId LowCardinality(String),
    Hour DateTime('UTC'),
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Operation LowCardinality(String),
    Feature LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    Requests UInt64,
    Calls UInt64,
    Errors UInt64,
    RateLimited UInt64,
    StreamingCalls UInt64,
    ResponseCacheHits UInt64,
    CallsWithUsage UInt64,
    InputTokens UInt64,
    OutputTokens UInt64,
    CacheReadTokens UInt64,
    CacheWriteTokens UInt64,
    ReasoningTokens UInt64,
    CostUSD Decimal(38, 12),
    CostInputUSD Decimal(38, 12),
    CostCacheReadUSD Decimal(38, 12),
    CostCacheWriteUSD Decimal(38, 12),
    CostOutputUSD Decimal(38, 12),
    CostReasoningUSD Decimal(38, 12),
    ComputedCostCalls UInt64,
    ReportedCostCalls UInt64,
    UnpricedCalls UInt64,
    DurationSumMs Float64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(Hour)
ORDER BY (TenantId, Hour, ServiceName, Environment, Provider, Model, Operation, Feature, Experiment, Variant)
TTL Hour + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_cost_hourly_mv TO usage_cost_hourly AS
SELECT
    TenantId,
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    ServiceName,
    Environment,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
    Operation,
    Feature,
    Experiment,
    Variant,
    countIf(RagStage = 'request' OR ParentSpanId = '') AS Requests,
    count() AS Calls,
    countIf(StatusCode = 'Error' OR ErrorType != '') AS Errors,
    countIf(match(ErrorType, '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted')) AS RateLimited,
    countIf(Streaming = true) AS StreamingCalls,
    countIf((RagStage = 'request' OR ParentSpanId = '') AND ResponseCacheHit = true) AS ResponseCacheHits,
    countIf(s.InputTokens IS NOT NULL OR s.OutputTokens IS NOT NULL OR s.CacheReadTokens IS NOT NULL
            OR s.CacheWriteTokens IS NOT NULL OR s.ReasoningTokens IS NOT NULL) AS CallsWithUsage,
    sum(ifNull(InputTokens, 0)) AS InputTokens,
    sum(ifNull(OutputTokens, 0)) AS OutputTokens,
    sum(ifNull(CacheReadTokens, 0)) AS CacheReadTokens,
    sum(ifNull(CacheWriteTokens, 0)) AS CacheWriteTokens,
    sum(ifNull(ReasoningTokens, 0)) AS ReasoningTokens,
    toDecimal128(sum(ifNull(CostUSD, 0)), 12) AS CostUSD,
    toDecimal128(sum(ifNull(CostInputUSD, 0)), 12) AS CostInputUSD,
    toDecimal128(sum(ifNull(CostCacheReadUSD, 0)), 12) AS CostCacheReadUSD,
    toDecimal128(sum(ifNull(CostCacheWriteUSD, 0)), 12) AS CostCacheWriteUSD,
    toDecimal128(sum(ifNull(CostOutputUSD, 0)), 12) AS CostOutputUSD,
    toDecimal128(sum(ifNull(CostReasoningUSD, 0)), 12) AS CostReasoningUSD,
    countIf(CostSource = 'computed') AS ComputedCostCalls,
    countIf(CostSource = 'reported') AS ReportedCostCalls,
    countIf(CostSource = 'unpriced') AS UnpricedCalls,
    sum(DurationMs) AS DurationSumMs
FROM genai_spans AS s
WHERE UsageCounted = 1
GROUP BY TenantId, Hour, ServiceName, Environment, Provider, Model, Operation, Feature, Experiment, Variant;

-- Daily: same columns, fed from the hourly rollup's inserted (already aggregated) blocks, so it costs
-- almost nothing at ingest. A month of daily rows is what cost dashboards and projections read.
CREATE TABLE IF NOT EXISTS usage_cost_daily (
    TenantId LowCardinality(String),
    Day Date,
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Operation LowCardinality(String),
    Feature LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    Requests UInt64,
    Calls UInt64,
    Errors UInt64,
    RateLimited UInt64,
    StreamingCalls UInt64,
    ResponseCacheHits UInt64,
    CallsWithUsage UInt64,
    InputTokens UInt64,
    OutputTokens UInt64,
    CacheReadTokens UInt64,
    CacheWriteTokens UInt64,
    ReasoningTokens UInt64,
    CostUSD Decimal(38, 12),
    CostInputUSD Decimal(38, 12),
    CostCacheReadUSD Decimal(38, 12),
    CostCacheWriteUSD Decimal(38, 12),
    CostOutputUSD Decimal(38, 12),
    CostReasoningUSD Decimal(38, 12),
    ComputedCostCalls UInt64,
    ReportedCostCalls UInt64,
    UnpricedCalls UInt64,
    DurationSumMs Float64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, ServiceName, Environment, Provider, Model, Operation, Feature, Experiment, Variant)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_cost_daily_mv TO usage_cost_daily AS
SELECT
    TenantId,
    toDate(Hour, 'UTC') AS Day,
    ServiceName,
    Environment,
    Provider,
    Model,
    Operation,
    Feature,
    Experiment,
    Variant,
    sum(Requests) AS Requests,
    sum(Calls) AS Calls,
    sum(Errors) AS Errors,
    sum(RateLimited) AS RateLimited,
    sum(StreamingCalls) AS StreamingCalls,
    sum(ResponseCacheHits) AS ResponseCacheHits,
    sum(CallsWithUsage) AS CallsWithUsage,
    sum(InputTokens) AS InputTokens,
    sum(OutputTokens) AS OutputTokens,
    sum(CacheReadTokens) AS CacheReadTokens,
    sum(CacheWriteTokens) AS CacheWriteTokens,
    sum(ReasoningTokens) AS ReasoningTokens,
    sum(CostUSD) AS CostUSD,
    sum(CostInputUSD) AS CostInputUSD,
    sum(CostCacheReadUSD) AS CostCacheReadUSD,
    sum(CostCacheWriteUSD) AS CostCacheWriteUSD,
    sum(CostOutputUSD) AS CostOutputUSD,
    sum(CostReasoningUSD) AS CostReasoningUSD,
    sum(ComputedCostCalls) AS ComputedCostCalls,
    sum(ReportedCostCalls) AS ReportedCostCalls,
    sum(UnpricedCalls) AS UnpricedCalls,
    sum(DurationSumMs) AS DurationSumMs
FROM usage_cost_hourly
GROUP BY TenantId, Day, ServiceName, Environment, Provider, Model, Operation, Feature, Experiment, Variant;
