-- Low-rated requests: requests whose latest feedback given in the range is negative (thumbs down, rating
-- 1-2, or score below 0.4), newest first, with the request's query fingerprint, model, relevance, cost and
-- latency, and the query text when content capture recorded it. Feedback that named only a response id is
-- linked through response_lookup. Requests are looked up up to 7 days before the range. The query text only
-- exists in the raw spans (otel_traces, looked up by trace id for these few requests); everything else comes
-- from low_rated_feedback (the definition of "low rated", migration 0020) and request_rollup (bloom-filter
-- index on TraceId). The Grafana "Low-rated requests" table runs this query.
-- defaults: limit=50
WITH low AS
(
    SELECT TraceId, FeedbackId, Timestamp, Kind, Thumbs, Rating, Value, Comment, Tags, UserId
    FROM low_rated_feedback(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    ORDER BY Timestamp DESC, TraceId
    LIMIT {limit:UInt32}
)
SELECT
    low.Timestamp AS feedback_time,
    low.TraceId AS trace_id,
    low.FeedbackId AS feedback_id,
    low.Kind AS kind,
    low.Thumbs AS thumbs,
    low.Rating AS rating,
    low.Value AS value,
    low.Comment AS comment,
    low.Tags AS tags,
    low.UserId AS user_id,
    r.fingerprint AS query_fingerprint,
    t.query_text AS query_text,
    r.feature AS feature,
    r.model AS model,
    r.variant AS variant,
    r.avg_relevance AS avg_relevance,
    r.cost_usd AS cost_usd,
    r.total_ms AS total_ms,
    r.has_error AS has_error
FROM low
LEFT JOIN
(
    SELECT
        TraceId,
        max(QueryFingerprint) AS fingerprint,
        max(Feature) AS feature,
        argMaxMerge(Model) AS model,
        max(Variant) AS variant,
        if(sum(RelevanceCount) > 0, sum(RelevanceSum) / sum(RelevanceCount), NULL) AS avg_relevance,
        sum(CostUSD) AS cost_usd,
        if(max(HasRoot) = 1, max(RootDurationMs), dateDiff('microsecond', min(StartTime), max(EndTime)) / 1000) AS total_ms,
        toUInt8(sum(Errors) > 0 OR max(RootError) = 1) AS has_error
    FROM request_rollup
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 7 AND Day <= toDate({to:DateTime}, 'UTC')
      AND TraceId IN (SELECT TraceId FROM low)
    GROUP BY TraceId
) AS r ON r.TraceId = low.TraceId
LEFT JOIN
(
    SELECT TraceId, anyIf(SpanAttributes['gen_ai.retrieval.query.text'], SpanAttributes['gen_ai.retrieval.query.text'] != '') AS query_text
    FROM otel_traces
    PREWHERE TraceId IN (SELECT TraceId FROM low)
    WHERE SpanName LIKE 'retrieval%' -- semconv retrieval spans ("retrieval {data source}") carry the query text
      AND Timestamp >= {from:DateTime} - INTERVAL 7 DAY AND Timestamp < {to:DateTime}
    GROUP BY TraceId
) AS t ON t.TraceId = low.TraceId
ORDER BY feedback_time DESC, trace_id
LIMIT {limit:UInt32};
