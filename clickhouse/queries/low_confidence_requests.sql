-- Low-confidence requests: requests that started in the range whose answer confidence (ragscope.answer.confidence)
-- is below {threshold} (default 0.6), newest first, at most {limit}, with feature, model, variant, user, query
-- fingerprint, average relevance, latency and error flag to see why. Requests without a confidence are not
-- listed. The newest low-confidence requests are picked from the request_confidence view (migration 0028: start
-- time and latest confidence per request from request_facts; WITH TIES keeps every request sharing the last start time),
-- then only those are read from the requests view (request_rollup, migration 0022; bloom-filter index on
-- TraceId), which gives their details and applies the same range and threshold again.
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
WHERE TraceId IN
(
    SELECT TraceId
    FROM request_facts
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 1 AND Day <= toDate({to:DateTime}, 'UTC')
      AND TraceKey IN
      (
          SELECT TraceKey
          FROM request_confidence(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
          WHERE Confidence < {threshold:Float64}
          ORDER BY StartTime DESC
          LIMIT {limit:UInt32} WITH TIES
      )
)
  AND Confidence < {threshold:Float64}
ORDER BY StartTime DESC, TraceId
LIMIT {limit:UInt32};
