-- Implicit feedback per day, feature, model and variant: of the answers that started that UTC day, the
-- repeat, reformulation, follow-up and abandonment rates, the answers abandoned after an error or an empty
-- retrieval, the average engagement time (answer end to next question) and the thumbs-down rate of thumbs
-- feedback on them. Signals as defined in conversation_turn_signals (migration 0026, docs/analytics.md).
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
SELECT
    toDate(StartTime, 'UTC') AS day,
    Feature AS feature,
    Model AS model,
    Experiment AS experiment,
    Variant AS variant,
    count() AS answers,
    sum(Repeat) / answers AS repeat_rate,
    sum(Reformulation) / answers AS reformulation_rate,
    sum(FollowUp) / answers AS follow_up_rate,
    sum(Abandoned) / answers AS abandonment_rate,
    sum(AbandonedAfterFailure) AS abandoned_after_failure,
    avg(EngagementMs) / 1000 AS avg_engagement_s,
    if(sum(ThumbsFeedback) > 0, sum(ThumbsDown) / sum(ThumbsFeedback), NULL) AS thumbs_down_rate
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
GROUP BY day, feature, model, experiment, variant
ORDER BY day, feature, model, experiment, variant;
