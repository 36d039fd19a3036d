-- Implicit versus explicit feedback per experiment variant: of the answers (requests in a conversation) that
-- started in the range, the share the user repeated, reformulated, followed up or abandoned (implicit,
-- conversation_turn_signals, migration 0026) next to the thumbs-down rate of the thumbs feedback given on
-- those same answers (explicit). A variant with worse answers shows both rates higher. Open answers (the
-- session may still continue) count in answers but in no signal. Thresholds: docs/analytics.md.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
SELECT
    Experiment AS experiment,
    Variant AS variant,
    count() AS answers,
    sum(Repeat) AS repeats,
    sum(Reformulation) AS reformulations,
    sum(FollowUp) AS follow_ups,
    sum(Abandoned) AS abandoned,
    sum(AbandonedAfterFailure) AS abandoned_after_failure,
    repeats / answers AS repeat_rate,
    reformulations / answers AS reformulation_rate,
    abandoned / answers AS abandonment_rate,
    avg(EngagementMs) / 1000 AS avg_engagement_s,
    sum(ThumbsFeedback) AS thumbs_feedback,
    sum(ThumbsDown) AS thumbs_down,
    if(thumbs_feedback > 0, thumbs_down / thumbs_feedback, NULL) AS thumbs_down_rate
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE Experiment != ''
GROUP BY experiment, variant
ORDER BY experiment, variant;
