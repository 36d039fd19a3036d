-- Top users by cost: the users whose requests cost the most in the range, with their request count,
-- tokens, cost per request and error count. Per-user cost needs every span of each request, so this reads
-- the per-request rollup (the `requests` view over request_rollup), selecting requests by start time.
-- defaults: limit=20
SELECT
    UserId AS user_id,
    count() AS requests,
    sum(TotalTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    sum(CostUSD) / count() AS cost_per_request_usd,
    countIf(HasError = 1) AS failed_requests,
    uniqExact(SessionId) AS sessions
FROM requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE UserId != ''
GROUP BY user_id
ORDER BY cost_usd DESC, user_id
LIMIT {limit:UInt32};
