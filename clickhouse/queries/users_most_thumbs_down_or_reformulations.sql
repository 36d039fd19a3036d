-- Users with the most thumbs down or reformulations: per user, of their answers that started in the range,
-- the thumbs down given on them, the answers they reformulated or repeated, the ones they abandoned, and
-- negative_signals = thumbs_down + reformulations (the ranking). Implicit signals as defined in
-- conversation_turn_signals (migration 0026, docs/analytics.md).
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
-- defaults: limit=20
SELECT
    UserId AS user_id,
    count() AS answers,
    sum(ThumbsDown) AS thumbs_down,
    sum(Reformulation) AS reformulations,
    sum(Repeat) AS repeats,
    sum(Abandoned) AS abandoned,
    thumbs_down + reformulations AS negative_signals
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE UserId != ''
GROUP BY user_id
ORDER BY negative_signals DESC, user_id
LIMIT {limit:UInt32};
