-- Time to first token for streaming calls: p50 / p95 / p99 and average TTFT (ms) per model and UTC day,
-- over the streaming model calls that reported a TTFT. Reads latency_hourly (DDSketch states).
SELECT
    day,
    provider,
    model,
    streaming_calls,
    ttft_samples,
    avg_ttft_ms,
    q[1] AS p50_ttft_ms,
    q[3] AS p95_ttft_ms,
    q[4] AS p99_ttft_ms,
    max_ttft_ms
FROM
(
    SELECT
        toDate(Hour, 'UTC') AS day,
        Provider AS provider,
        Model AS model,
        sum(StreamingCalls) AS streaming_calls,
        sum(TtftCount) AS ttft_samples,
        sum(TtftSumMs) / sum(TtftCount) AS avg_ttft_ms,
        quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(TtftQuantiles) AS q,
        max(TtftMaxMs) AS max_ttft_ms
    FROM latency_hourly
    WHERE TenantId = {tenant:String}
      AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
      AND Operation IN ('chat', 'text_completion', 'generate_content')
    GROUP BY day, provider, model
    HAVING ttft_samples > 0
)
ORDER BY day, provider, model;
