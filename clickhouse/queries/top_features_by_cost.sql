-- Top features by cost: USD cost, requests, model calls and tokens per product feature (ragscope.feature),
-- with cost per request. Reads usage_cost_daily.
SELECT
    Feature AS feature,
    sum(Requests) AS requests,
    sumIf(Calls, Operation IN ('chat', 'text_completion', 'generate_content')) AS llm_calls,
    sum(InputTokens) + sum(OutputTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    if(sum(Requests) > 0, sum(CostUSD) / sum(Requests), NULL) AS cost_per_request_usd,
    sum(UnpricedCalls) AS unpriced_calls
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
GROUP BY feature
ORDER BY cost_usd DESC, feature;
