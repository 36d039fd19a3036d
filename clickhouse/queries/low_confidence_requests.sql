-- Low-confidence requests: requests that started in the range whose answer confidence (ragscope.answer.confidence)
-- is below {threshold} (default 0.6), newest first, at most {limit}, with feature, model, variant, user, query
-- fingerprint, average relevance, latency and error flag to see why. Requests without a confidence are not
-- listed. Reads the requests view (request_rollup, migration 0022).
-- defaults: threshold=0.6, limit=50
SELECT
    StartTime AS start_time,
    TraceId AS trace_id,
    Confidence AS confidence,
    Feature AS feature,
    Model AS model,
    Variant AS variant,
    UserId AS user_id,
    QueryFingerprint AS query_fingerprint,
    AvgRelevance AS avg_relevance,
    TotalMs AS total_ms,
    HasError AS has_error
FROM requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE Confidence < {threshold:Float64}
ORDER BY StartTime DESC, TraceId
LIMIT {limit:UInt32};
