-- Token efficiency by model: output tokens per input token, average input / output tokens per call, the
-- share of input served from the prompt cache, the share of output spent on reasoning, and cost per 1k
-- output tokens, over the model calls that reported usage. Reads usage_cost_daily.
SELECT
    Provider AS provider,
    Model AS model,
    sum(CallsWithUsage) AS calls_with_usage,
    sum(InputTokens) AS input_tokens,
    sum(OutputTokens) AS output_tokens,
    sum(OutputTokens) / sum(InputTokens) AS output_per_input,
    sum(InputTokens) / sum(CallsWithUsage) AS avg_input_tokens,
    sum(OutputTokens) / sum(CallsWithUsage) AS avg_output_tokens,
    sum(CacheReadTokens) / sum(InputTokens) AS cache_read_share,
    if(sum(OutputTokens) > 0, sum(ReasoningTokens) / sum(OutputTokens), NULL) AS reasoning_share,
    if(sum(OutputTokens) > 0 AND sum(UnpricedCalls) = 0, sum(CostUSD) * 1000 / sum(OutputTokens), NULL) AS cost_per_1k_output_usd
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
  AND Operation IN ('chat', 'text_completion', 'generate_content')
  AND Model != ''
GROUP BY provider, model
HAVING calls_with_usage > 0 AND input_tokens > 0
ORDER BY output_per_input DESC, provider, model;
