-- Top users by cost: the users whose requests cost the most in the range, with their requests, failed
-- requests, model calls, tokens, cost per request and distinct sessions. Reads user_usage_daily (user.id
-- is on every span of a request, so per-user totals need no per-request merge). Day-granular (UTC).
-- defaults: limit=20
SELECT
    UserId AS user_id,
    sum(Requests) AS requests,
    sum(InputTokens) + sum(OutputTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    if(sum(Requests) > 0, sum(CostUSD) / sum(Requests), NULL) AS cost_per_request_usd,
    sum(FailedRequests) AS failed_requests,
    sum(LlmCalls) AS llm_calls,
    uniqMerge(Sessions) AS sessions
FROM user_usage_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
GROUP BY user_id
ORDER BY cost_usd DESC, user_id
LIMIT {limit:UInt32};
