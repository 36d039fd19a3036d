-- Prompt-cache hit rate and savings per model: the share of input tokens read from the provider's prompt
-- cache, what those reads cost, and the savings versus paying the normal input price for them:
-- savings = cache-read tokens × (input cost / uncached input tokens) − cache-read cost. Exact when the model
-- had one price in the range. Cache writes (Anthropic) cost extra and are reported separately.
-- Reads usage_cost_daily.
SELECT
    Provider AS provider,
    Model AS model,
    sum(InputTokens) AS input_tokens,
    sum(CacheReadTokens) AS cache_read_tokens,
    sum(CacheWriteTokens) AS cache_write_tokens,
    sum(CacheReadTokens) / sum(InputTokens) AS cache_read_share,
    sum(CostCacheReadUSD) AS cache_read_cost_usd,
    sum(CostCacheWriteUSD) AS cache_write_cost_usd,
    if(sum(InputTokens) - sum(CacheReadTokens) - sum(CacheWriteTokens) > 0,
       sum(CacheReadTokens) * sum(CostInputUSD) / (sum(InputTokens) - sum(CacheReadTokens) - sum(CacheWriteTokens)) - sum(CostCacheReadUSD),
       NULL) AS estimated_savings_usd
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
  AND Operation IN ('chat', 'text_completion', 'generate_content')
  AND Model != ''
GROUP BY provider, model
HAVING input_tokens > 0 AND sum(UnpricedCalls) = 0
ORDER BY estimated_savings_usd DESC, provider, model;
