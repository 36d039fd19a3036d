-- Thumbs-down rate by experiment variant: of the thumbs feedback given in the range (latest version per
-- feedback id), the share that is thumbs down, per experiment and variant of the request
-- (ragscope.experiment / ragscope.variant). negative_rate = the low-rated share over all feedback kinds
-- (thumbs down, ratings 1-2, scores below 0.4: the low_rated_feedback view, migration 0020). Reads
-- feedback_in_range, low_rated_feedback and request_facts (migration 0028, matched on a fixed-width trace key; requests that started at most 2 days before the range).
WITH
    -- The feedback of the range, evaluated once (a scalar): the CTE below is inlined at each of its uses.
    (
        SELECT groupArray((FeedbackId, reinterpretAsUInt128(sipHash128(TraceId)), Kind, Thumbs))
        FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
        WHERE TraceId != ''
    ) AS feedback_rows,
    fb AS
    (
        SELECT x.1 AS FeedbackId, x.2 AS TraceKey, x.3 AS Kind, x.4 AS Thumbs
        FROM (SELECT arrayJoin(feedback_rows) AS x)
    )
SELECT
    r.experiment AS experiment,
    r.variant AS variant,
    count() AS feedback,
    countIf(fb.Kind = 'thumbs') AS thumbs_feedback,
    countIf(fb.Thumbs = 'down') AS thumbs_down,
    if(thumbs_feedback > 0, thumbs_down / thumbs_feedback, NULL) AS thumbs_down_rate,
    countIf(fb.FeedbackId IN (
        SELECT FeedbackId FROM low_rated_feedback(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    )) / count() AS negative_rate
FROM fb
INNER JOIN
(
    SELECT TraceKey, max(Experiment) AS experiment, max(Variant) AS variant
    FROM request_facts
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 2 AND Day <= toDate({to:DateTime}, 'UTC')
      AND TraceKey IN (SELECT TraceKey FROM fb)
    GROUP BY TraceKey
) AS r ON r.TraceKey = fb.TraceKey
WHERE r.experiment != ''
GROUP BY experiment, variant
ORDER BY experiment, variant;
