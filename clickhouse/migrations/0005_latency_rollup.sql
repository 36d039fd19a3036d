-- Latency rollup, hourly, per operation / RAG stage / model (and experiment arm), fed from genai_spans.
--
-- Quantiles: quantilesDD (DDSketch) states at 1% relative accuracy for p50/p90/p95/p99. DDSketch merges
-- exactly (merging states = sketching the union), so p95 over a week read from hourly states has the same
-- 1% guarantee as p95 over one hour. Read with quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(col).
--
-- SLA breaches for a threshold chosen at query time: a materialized view cannot read a setting that
-- changes later, and fixed per-threshold counters fix the thresholds forever. Instead each row keeps a
-- latency histogram over a fixed ladder of bucket boundaries (ms):
--   0 10 20 25 50 75 100 150 200 250 300 400 500 750 1000 1250 1500 2000 2500 3000 4000 5000 6000 7500
--   10000 12500 15000 20000 25000 30000 45000 60000 90000 120000 180000 300000 600000
-- A Map key b counts the calls with b < duration <= next boundary (key 0 also holds duration = 0). So for a
-- threshold T on the ladder, the exact number of calls slower than T is
--   arraySum(mapValues(mapFilter((b, n) -> b >= T, sumMap(DurationHistogram))))
-- A threshold between two boundaries is rounded up to the next boundary (the example queries report the
-- boundary used). The same histogram feeds heatmaps. TTFT has its own states and histogram.
-- Rows with UsageCounted = 0 (wrapper spans repeating a call recorded by another span) are left out.
CREATE TABLE IF NOT EXISTS latency_hourly (
    TenantId LowCardinality(String),
    Hour DateTime('UTC'),
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    Operation LowCardinality(String),
    RagStage LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    Calls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    DurationSumMs SimpleAggregateFunction(sum, Float64),
    DurationMaxMs SimpleAggregateFunction(max, Float64),
    DurationQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.9, 0.95, 0.99), Float64),
    DurationHistogram SimpleAggregateFunction(sumMap, Map(UInt32, UInt64)),
    StreamingCalls SimpleAggregateFunction(sum, UInt64),
    TtftCount SimpleAggregateFunction(sum, UInt64),
    TtftSumMs SimpleAggregateFunction(sum, Float64),
    TtftMaxMs SimpleAggregateFunction(max, Float64),
    TtftQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.9, 0.95, 0.99), Nullable(Float64)),
    TtftHistogram SimpleAggregateFunction(sumMap, Map(UInt32, UInt64))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Hour)
ORDER BY (TenantId, Hour, ServiceName, Environment, Operation, RagStage, Provider, Model, Experiment, Variant)
TTL Hour + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_hourly_mv TO latency_hourly AS
WITH [0, 10, 20, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000,
      5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000, 30000, 45000, 60000, 90000, 120000, 180000, 300000,
      600000] AS ladder
SELECT
    TenantId,
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    ServiceName,
    Environment,
    Operation,
    RagStage,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
    Experiment,
    Variant,
    count() AS Calls,
    countIf(StatusCode = 'Error' OR ErrorType != '') AS Errors,
    sum(DurationMs) AS DurationSumMs,
    max(DurationMs) AS DurationMaxMs,
    quantilesDDState(0.01, 0.5, 0.9, 0.95, 0.99)(DurationMs) AS DurationQuantiles,
    sumMap(map(toUInt32(arrayLast(b -> b < DurationMs, ladder)), toUInt64(1))) AS DurationHistogram,
    countIf(Streaming = true) AS StreamingCalls,
    countIf(TtftMs IS NOT NULL) AS TtftCount,
    sum(ifNull(TtftMs, 0)) AS TtftSumMs,
    max(ifNull(TtftMs, 0)) AS TtftMaxMs,
    quantilesDDState(0.01, 0.5, 0.9, 0.95, 0.99)(TtftMs) AS TtftQuantiles,
    sumMapIf(map(toUInt32(arrayLast(b -> b < ifNull(TtftMs, 0), ladder)), toUInt64(1)), TtftMs IS NOT NULL) AS TtftHistogram
FROM genai_spans
WHERE UsageCounted = 1
GROUP BY TenantId, Hour, ServiceName, Environment, Operation, RagStage, Provider, Model, Experiment, Variant;
