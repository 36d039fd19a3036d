-- Sessions and active users per day: per UTC day, the distinct sessions (session.id), conversations
-- (gen_ai.conversation.id, else the session id, per service), active users (user.id) and requests of the
-- requests that started that day. A session active on two days counts on both. Reads conversation_requests
-- (migration 0026: requests with a conversation or session id).
SELECT
    toDate(StartTime, 'UTC') AS day,
    uniqExactIf(SessionId, SessionId != '') AS sessions,
    uniqExact(ServiceName, ConversationKey) AS conversations,
    uniqExactIf(UserId, UserId != '') AS active_users,
    count() AS requests
FROM conversation_requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
GROUP BY day
ORDER BY day;
