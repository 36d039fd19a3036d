-- Users with the most thumbs down or reformulations: per user, of their answers that started in the range,
-- the thumbs down given on them, the answers they reformulated or repeated, the ones they abandoned, and
-- negative_signals = thumbs_down + reformulations (the ranking). Implicit signals as defined in
-- conversation_turn_signals (migration 0026, docs/analytics.md), thresholds as parameters.
-- defaults: repeat_window_min=10, reformulation_window_min=5, reformulation_max_distance=12, session_timeout_min=30, limit=20
SELECT
    UserId AS user_id,
    count() AS answers,
    sum(ThumbsDown) AS thumbs_down,
    sum(Reformulation) AS reformulations,
    sum(Repeat) AS repeats,
    sum(Abandoned) AS abandoned,
    thumbs_down + reformulations AS negative_signals
FROM conversation_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime}, repeat_window_min = {repeat_window_min:UInt32}, reformulation_window_min = {reformulation_window_min:UInt32}, reformulation_max_distance = {reformulation_max_distance:UInt8}, session_timeout_min = {session_timeout_min:UInt32})
WHERE UserId != ''
GROUP BY user_id
ORDER BY negative_signals DESC, user_id
LIMIT {limit:UInt32};
