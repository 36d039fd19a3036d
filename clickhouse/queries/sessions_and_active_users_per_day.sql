-- Sessions and active users per day: per UTC day, the distinct sessions (session.id), conversations
-- (gen_ai.conversation.id, else the session id, per service), active users (user.id) and requests of the
-- requests that started that day (requests with a conversation or session id). A session active on two days
-- counts on both.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
SELECT
    toDate(StartTime, 'UTC') AS day,
    uniqExactIf(SessionId, SessionId != '') AS sessions,
    uniqExact(ServiceName, ConversationKey) AS conversations,
    uniqExactIf(UserId, UserId != '') AS active_users,
    count() AS requests
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
GROUP BY day
ORDER BY day;
