-- latency_hourly_mv, the same rows at less insert CPU. A histogram bucket was
--   arrayLast(b -> b < DurationMs, ladder)
-- a lambda over the 37-boundary ladder for every span, twice (duration and TTFT). For integer boundaries b and
-- any real x, b < x exactly when b <= ceil(x) - 1, so the same bucket is
--   roundDown(ceil(x) - 1, ladder)
-- (roundDown: the largest boundary <= its argument, the lowest one below all of them: 0 for x <= 0, as before),
-- one lookup per span without materializing the ladder per row. Identical buckets on 6 M values including
-- every boundary, values just above and below them, 0, negatives and values past the last boundary; 4-14× less
-- time for the histogram expression alone in the embedded engine (docs/benchmarks.md, "Insert cost").
-- Everything else in the view is unchanged; the table and its rows are the same.
ALTER TABLE latency_hourly_mv MODIFY QUERY
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
    sumMap(map(toUInt32(roundDown(ceil(DurationMs) - 1, ladder)), toUInt64(1))) AS DurationHistogram,
    countIf(Streaming = true) AS StreamingCalls,
    countIf(TtftMs IS NOT NULL) AS TtftCount,
    sum(ifNull(TtftMs, 0)) AS TtftSumMs,
    max(ifNull(TtftMs, 0)) AS TtftMaxMs,
    quantilesDDState(0.01, 0.5, 0.9, 0.95, 0.99)(TtftMs) AS TtftQuantiles,
    sumMapIf(map(toUInt32(roundDown(ceil(ifNull(TtftMs, 0)) - 1, ladder)), toUInt64(1)), TtftMs IS NOT NULL) AS TtftHistogram
FROM genai_spans
WHERE UsageCounted = 1
GROUP BY TenantId, Hour, ServiceName, Environment, Operation, RagStage, Provider, Model, Experiment, Variant;
