-- Response-cache hit rate and savings per feature: requests served from the application's response cache
-- (ragscope.response_cache.hit on the request root), the hit rate, the cost per answered (non-cached)
-- request, and the estimated savings = hits × cost per answered request (what the cached requests would
-- have cost had they been answered; the small embedding cost of a cache lookup stays in the total).
-- Reads usage_cost_daily.
SELECT
    Feature AS feature,
    sum(Requests) AS requests,
    sum(ResponseCacheHits) AS cache_hits,
    if(sum(Requests) > 0, sum(ResponseCacheHits) / sum(Requests), NULL) AS hit_rate,
    sum(CostUSD) AS cost_usd,
    if(sum(Requests) > sum(ResponseCacheHits), sum(CostUSD) / (sum(Requests) - sum(ResponseCacheHits)), NULL) AS cost_per_answered_request_usd,
    if(sum(Requests) > sum(ResponseCacheHits), sum(ResponseCacheHits) * sum(CostUSD) / (sum(Requests) - sum(ResponseCacheHits)), NULL) AS estimated_savings_usd
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
GROUP BY feature
HAVING requests > 0
ORDER BY estimated_savings_usd DESC, feature;
