-- Feedback summary with answer confidence: for the feedback given in the range (latest version per feedback id,
-- linked to a request), per kind and value (thumbs up/down; rating 1-5; score in 0.1 buckets, labelled by the
-- lower bound, 0.9 holding 1.0), the feedback count, how many of the rated answers recorded a confidence, their
-- average confidence and the share below {threshold} (default 0.6). A confidence that tracks feedback is high
-- for thumbs up and low for thumbs down. Reads feedback_in_range and request_facts (migration 0028, matched on a fixed-width trace key; requests that started at
-- most 2 days before the range).
-- defaults: threshold=0.6
WITH
    -- The feedback of the range, evaluated once (a scalar): the CTE below is inlined at each of its uses.
    (
        SELECT groupArray((reinterpretAsUInt128(sipHash128(TraceId)), Kind, Thumbs, Rating, Value))
        FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
        WHERE TraceId != ''
    ) AS feedback_rows,
    fb AS
    (
        SELECT x.1 AS TraceKey, x.2 AS Kind, x.3 AS Thumbs, x.4 AS Rating, x.5 AS Value
        FROM (SELECT arrayJoin(feedback_rows) AS x)
    )
SELECT
    fb.Kind AS kind,
    multiIf(fb.Kind = 'thumbs', fb.Thumbs, fb.Kind = 'rating', toString(fb.Rating), toString(least(floor(fb.Value * 10), 9) / 10)) AS value,
    count() AS feedback,
    countIf(r.confidence IS NOT NULL) AS with_confidence,
    avg(r.confidence) AS avg_confidence,
    if(with_confidence > 0, countIf(r.confidence < {threshold:Float64}) / with_confidence, NULL) AS low_confidence_share
FROM fb
LEFT JOIN
(
    -- the latest confidence, decoded as in the request_confidence view (migration 0028)
    SELECT TraceKey, if(max(ConfidenceKey) > 0, reinterpretAsFloat64(toUInt64(bitAnd(max(ConfidenceKey), toUInt128('18446744073709551615')))), NULL) AS confidence
    FROM request_facts
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 2 AND Day <= toDate({to:DateTime}, 'UTC')
      AND TraceKey IN (SELECT TraceKey FROM fb)
    GROUP BY TraceKey
) AS r ON r.TraceKey = fb.TraceKey
GROUP BY kind, value
ORDER BY kind, value;
