-- Cost per session, per user: the users whose conversations cost the most in the range, with their sessions,
-- conversations, requests, tokens, cost and cost per session (requests with a conversation or session id that
-- started in the range; tokens and cost of counted model calls, as request_rollup). Reads conversation_requests.
-- defaults: limit=20
SELECT
    UserId AS user_id,
    uniqExactIf(SessionId, SessionId != '') AS sessions,
    uniqExact(ServiceName, ConversationKey) AS conversations,
    count() AS requests,
    sum(TotalTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    if(sessions > 0, sum(CostUSD) / sessions, NULL) AS cost_per_session_usd
FROM conversation_requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE UserId != ''
GROUP BY user_id
ORDER BY cost_usd DESC, user_id
LIMIT {limit:UInt32};
