-- Cost per model per day: calls, tokens by type and exact USD cost (Decimal) of each model, per UTC day.
-- Model = response model when reported, else request model. unpriced_calls = calls with usage but no price
-- in the price book (their cost is missing, not zero). Reads usage_cost_daily.
SELECT
    Day AS day,
    Provider AS provider,
    Model AS model,
    sum(Calls) AS calls,
    sum(CallsWithUsage) AS calls_with_usage,
    sum(InputTokens) AS input_tokens,
    sum(OutputTokens) AS output_tokens,
    sum(CacheReadTokens) AS cache_read_tokens,
    sum(CacheWriteTokens) AS cache_write_tokens,
    sum(ReasoningTokens) AS reasoning_tokens,
    sum(CostUSD) AS cost_usd,
    sum(UnpricedCalls) AS unpriced_calls
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
  AND Operation IN ('chat', 'text_completion', 'generate_content', 'embeddings')
  AND Model != ''
GROUP BY day, provider, model
ORDER BY day, cost_usd DESC, provider, model;
