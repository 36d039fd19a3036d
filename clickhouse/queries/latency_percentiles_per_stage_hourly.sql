-- Latency per RAG stage per hour: p50 / p90 / p95 / p99, average and maximum duration (ms) of every RAG stage
-- (request = the whole request, then embedding, retrieval, rerank, context_assembly, generation,
-- post_processing). Quantiles come from DDSketch states (1% relative accuracy for values >= 1 ms). Reads
-- latency_hourly.
SELECT
    hour,
    stage,
    calls,
    avg_ms,
    q[1] AS p50_ms,
    q[2] AS p90_ms,
    q[3] AS p95_ms,
    q[4] AS p99_ms,
    max_ms
FROM
(
    SELECT
        Hour AS hour,
        RagStage AS stage,
        sum(Calls) AS calls,
        sum(DurationSumMs) / sum(Calls) AS avg_ms,
        quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(DurationQuantiles) AS q,
        max(DurationMaxMs) AS max_ms
    FROM latency_hourly
    WHERE TenantId = {tenant:String}
      AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
      AND RagStage != ''
    GROUP BY hour, stage
)
ORDER BY hour, stage;
