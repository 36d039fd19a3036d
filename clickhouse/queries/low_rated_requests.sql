-- Low-rated requests: requests whose latest feedback given in the range is negative (thumbs down, rating
-- 1-2, or score below 0.4), newest first, with the request's query fingerprint, model, relevance, cost and
-- latency, and the query text when content capture recorded it. Feedback that named only a response id is
-- linked through response_lookup. Requests are looked up up to 7 days before the range. The query text comes
-- from the captured texts (captured_query_texts, migration 0029: the retrieval spans' text, by trace id, for these
-- few requests); everything else from low_rated_feedback (the definition of "low rated", migration 0020) and
-- request_rollup (bloom-filter index on TraceId). The Grafana "Low-rated requests" table runs this query.
-- defaults: limit=50
WITH
    -- The latest low-rated feedback, evaluated once (a scalar): the CTE below is inlined at each of its three uses.
    (
        SELECT groupArray((TraceId, FeedbackId, Timestamp, Kind, Thumbs, Rating, Value, Comment, Tags, UserId))
        FROM
        (
            SELECT TraceId, FeedbackId, Timestamp, Kind, Thumbs, Rating, Value, Comment, Tags, UserId
            FROM low_rated_feedback(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
            ORDER BY Timestamp DESC, TraceId
            LIMIT {limit:UInt32}
        )
    ) AS latest_low,
    low AS
    (
        SELECT x.1 AS TraceId, x.2 AS FeedbackId, x.3 AS Timestamp, x.4 AS Kind, x.5 AS Thumbs, x.6 AS Rating, x.7 AS Value,
               x.8 AS Comment, x.9 AS Tags, x.10 AS UserId
        FROM (SELECT arrayJoin(latest_low) AS x)
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
    SELECT TraceId, any(QueryText) AS query_text
    FROM captured_query_texts
    WHERE TenantId = {tenant:String} AND TraceId IN (SELECT TraceId FROM low)
    GROUP BY TraceId
) AS t ON t.TraceId = low.TraceId
ORDER BY feedback_time DESC, trace_id
LIMIT {limit:UInt32};
