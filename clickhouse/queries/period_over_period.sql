-- Period-over-period change per feature: requests, model calls, tokens, cost and errors in the range versus
-- the period of the same length just before it, with the relative change (NULL when the previous period
-- had none). Day-granular (UTC): pass whole days. Reads usage_cost_daily.
WITH
    toDate({from:DateTime}, 'UTC') AS cur_start,
    toDate({to:DateTime} - 1, 'UTC') AS cur_end,
    cur_start - (dateDiff('day', cur_start, cur_end) + 1) AS prev_start
SELECT
    Feature AS feature,
    sumIf(Requests, Day >= cur_start) AS requests,
    sumIf(Requests, Day < cur_start) AS prev_requests,
    if(prev_requests > 0, requests / prev_requests - 1, NULL) AS requests_change,
    sumIf(Calls, Day >= cur_start AND Operation IN ('chat', 'text_completion', 'generate_content')) AS llm_calls,
    sumIf(Calls, Day < cur_start AND Operation IN ('chat', 'text_completion', 'generate_content')) AS prev_llm_calls,
    sumIf(InputTokens + OutputTokens, Day >= cur_start) AS tokens,
    sumIf(InputTokens + OutputTokens, Day < cur_start) AS prev_tokens,
    if(prev_tokens > 0, tokens / prev_tokens - 1, NULL) AS tokens_change,
    sumIf(CostUSD, Day >= cur_start) AS cost_usd,
    sumIf(CostUSD, Day < cur_start) AS prev_cost_usd,
    if(prev_cost_usd > 0, cost_usd / prev_cost_usd - 1, NULL) AS cost_change,
    sumIf(Errors, Day >= cur_start) AS errors,
    sumIf(Errors, Day < cur_start) AS prev_errors
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= prev_start AND Day <= cur_end
GROUP BY feature
ORDER BY cost_usd DESC, feature;
