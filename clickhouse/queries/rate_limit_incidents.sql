-- Rate-limit incidents: the hours in which a provider / model answered calls with rate-limit errors (HTTP
-- 429, RateLimitError, ThrottlingException, RESOURCE_EXHAUSTED: see 0004_usage_cost_rollups.sql), with the
-- number of rate-limited calls and their share of that hour's calls. Reads usage_cost_hourly.
-- defaults: min_rate_limited=1
SELECT
    Hour AS hour,
    Provider AS provider,
    Model AS model,
    sum(RateLimited) AS rate_limited_calls,
    sum(Calls) AS calls,
    sum(RateLimited) / sum(Calls) AS rate_limited_share
FROM usage_cost_hourly
WHERE TenantId = {tenant:String}
  AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
  AND Operation IN ('chat', 'text_completion', 'generate_content', 'embeddings')
GROUP BY hour, provider, model
HAVING rate_limited_calls >= {min_rate_limited:UInt32}
ORDER BY hour, provider, model;
