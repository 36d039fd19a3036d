-- A/B comparison of experiment variants: per experiment and variant, requests, cost per request, request
-- latency p50 / p95 and failure rate, average retrieval relevance and citation usage, and feedback (count,
-- positive share, average normalized score, thumbs-down rate). Reads usage_cost_daily, latency_hourly (the
-- request root stage), retrieval_quality_hourly, and feedback_in_range joined to request_facts (migration 0028;
-- feedback given in the range, about requests that started at most 2 days before it).
-- The feedback is the join's build side (a few thousand rows), request_facts the probe side: the engine turns
-- the build side's keys into a filter on the request_facts scan, and the join runs beside the other three
-- reads. (Evaluating the feedback first as a scalar, to filter request_facts with IN, serialized it: ~10 ms more
-- at 10 M spans, docs/benchmarks.md.) Partial request_facts rows are merged per feedback id, so a feedback
-- counts once whatever number of partial rows its request has.
SELECT
    u.experiment AS experiment,
    u.variant AS variant,
    u.requests AS requests,
    u.cost_usd AS cost_usd,
    if(u.requests > 0, u.cost_usd / u.requests, NULL) AS cost_per_request_usd,
    l.p50_ms AS p50_latency_ms,
    l.p95_ms AS p95_latency_ms,
    l.failure_rate AS failure_rate,
    q.avg_relevance AS avg_relevance,
    q.citation_usage_rate AS citation_usage_rate,
    f.feedback AS feedback,
    f.positive_rate AS positive_rate,
    f.avg_normalized_score AS avg_normalized_score,
    f.thumbs_down_rate AS thumbs_down_rate
FROM
(
    SELECT Experiment AS experiment, Variant AS variant, sum(Requests) AS requests, sum(CostUSD) AS cost_usd
    FROM usage_cost_daily
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
      AND Experiment != ''
    GROUP BY experiment, variant
) AS u
LEFT JOIN
(
    SELECT experiment, variant, q[1] AS p50_ms, q[3] AS p95_ms, failure_rate
    FROM
    (
        SELECT
            Experiment AS experiment,
            Variant AS variant,
            quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(DurationQuantiles) AS q,
            sum(Errors) / sum(Calls) AS failure_rate
        FROM latency_hourly
        WHERE TenantId = {tenant:String}
          AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
          AND RagStage = 'request' AND Experiment != ''
        GROUP BY experiment, variant
    )
) AS l ON l.experiment = u.experiment AND l.variant = u.variant
LEFT JOIN
(
    SELECT
        Experiment AS experiment,
        Variant AS variant,
        if(sum(RelevanceCount) > 0, sum(RelevanceSum) / sum(RelevanceCount), NULL) AS avg_relevance,
        if(sum(Documents) > 0, sum(CitedDocuments) / sum(Documents), NULL) AS citation_usage_rate
    FROM retrieval_quality_hourly
    WHERE TenantId = {tenant:String}
      AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
      AND Experiment != ''
    GROUP BY experiment, variant
) AS q ON q.experiment = u.experiment AND q.variant = u.variant
LEFT JOIN
(
    SELECT
        experiment,
        variant,
        count() AS feedback,
        countIf(NormalizedScore >= 0.5) / count() AS positive_rate,
        avg(NormalizedScore) AS avg_normalized_score,
        if(countIf(Kind = 'thumbs') > 0, countIf(Thumbs = 'down') / countIf(Kind = 'thumbs'), NULL) AS thumbs_down_rate
    FROM
    (
        SELECT
            fb.FeedbackId AS FeedbackId,
            any(fb.Kind) AS Kind,
            any(fb.Thumbs) AS Thumbs,
            any(fb.NormalizedScore) AS NormalizedScore,
            max(rf.Experiment) AS experiment,
            max(rf.Variant) AS variant
        FROM request_facts AS rf
        INNER JOIN
        (
            SELECT FeedbackId, reinterpretAsUInt128(sipHash128(TraceId)) AS TraceKey, Kind, Thumbs, NormalizedScore
            FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
            WHERE TraceId != ''
        ) AS fb ON rf.TraceKey = fb.TraceKey
        WHERE rf.TenantId = {tenant:String}
          AND rf.Day >= toDate({from:DateTime}, 'UTC') - 2 AND rf.Day <= toDate({to:DateTime}, 'UTC')
        GROUP BY fb.FeedbackId
    )
    GROUP BY experiment, variant
) AS f ON f.experiment = u.experiment AND f.variant = u.variant
ORDER BY experiment, variant;
