-- Errors, hourly, per error type: the breakdown usage_cost_hourly cannot give (it counts errors but has no
-- ErrorType dimension). Fed from genai_spans rows that are errors (StatusCode = 'Error' OR ErrorType != ''),
-- UsageCounted = 1 only, like the other rollups. ErrorType '_OTHER' = an error status without a type.
-- RateLimited uses the same rule as usage_cost_hourly (0004).
CREATE TABLE IF NOT EXISTS errors_hourly (
    TenantId LowCardinality(String),
    Hour DateTime('UTC'),
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Operation LowCardinality(String),
    RagStage LowCardinality(String),
    ErrorType LowCardinality(String),
    Feature LowCardinality(String),
    Errors UInt64,
    RateLimited UInt64,
    RootErrors UInt64,
    DurationSumMs Float64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(Hour)
ORDER BY (TenantId, Hour, ServiceName, Environment, Provider, Model, Operation, RagStage, ErrorType, Feature)
TTL Hour + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS errors_hourly_mv TO errors_hourly AS
SELECT
    TenantId,
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    ServiceName,
    Environment,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
    Operation,
    RagStage,
    if(s.ErrorType != '', s.ErrorType, '_OTHER') AS ErrorType,
    Feature,
    count() AS Errors,
    countIf(match(s.ErrorType, '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted')) AS RateLimited,
    countIf(RagStage = 'request' OR ParentSpanId = '') AS RootErrors,
    sum(DurationMs) AS DurationSumMs
FROM genai_spans AS s
WHERE UsageCounted = 1 AND (StatusCode = 'Error' OR s.ErrorType != '')
GROUP BY TenantId, Hour, ServiceName, Environment, Provider, Model, Operation, RagStage, ErrorType, Feature;
