-- Cost per session, per user: the users whose conversations cost the most in the range, with their sessions,
-- conversations, requests, tokens, cost and cost per session (requests with a conversation or session id that
-- started in the range; tokens and cost of counted model calls, as request_rollup).
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
-- defaults: limit=20
SELECT
    UserId AS user_id,
    uniqExactIf(SessionId, SessionId != '') AS sessions,
    uniqExact(ServiceName, ConversationKey) AS conversations,
    count() AS requests,
    sum(TotalTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    if(sessions > 0, sum(CostUSD) / sessions, NULL) AS cost_per_session_usd
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE UserId != ''
GROUP BY user_id
ORDER BY cost_usd DESC, user_id
LIMIT {limit:UInt32};
