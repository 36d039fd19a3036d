-- Low-confidence requests: requests that started in the range whose answer confidence (ragscope.answer.confidence)
-- is below {threshold} (default 0.6), newest first, at most {limit}, with feature, model, variant, user, query
-- fingerprint, average relevance, latency and error flag to see why. Requests without a confidence are not
-- listed.
-- Candidates come from request_facts (migration 0028) read with FINAL, which merges a request's rows per day
-- without grouping every request of the range (half the time of grouping them); a request whose rows fall on two
-- days (spans stored on either side of midnight) gives one partial row per day, so twice {limit} candidates are
-- taken, newest first. Only those are read from the requests view (request_rollup, migration 0022; bloom-filter
-- index on TraceId), which merges each candidate whole and applies the range and threshold again: the answer is
-- exact unless more than {limit} of the candidates are such partial rows.
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
    FROM request_facts FINAL
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 1 AND Day <= toDate({to:DateTime}, 'UTC')
      AND ConfidenceKey != 0
      AND StartTime >= {from:DateTime} AND StartTime < {to:DateTime}
      -- ConfidenceKey packs (time of the latest confidence, its Float64 bits): the low 64 bits are the value.
      AND reinterpretAsFloat64(toUInt64(bitAnd(ConfidenceKey, toUInt128('18446744073709551615')))) < {threshold:Float64}
    ORDER BY StartTime DESC
    LIMIT 2 * {limit:UInt32} WITH TIES
)
  AND Confidence < {threshold:Float64}
ORDER BY StartTime DESC, TraceId
LIMIT {limit:UInt32};
