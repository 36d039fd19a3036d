-- Model-call usage counted twice: a span that carries usage and is counted (UsageCounted = 1) whose direct
-- child also carries usage and is counted. One processor marks such a wrapper UsageCounted = 0 (usage
-- de-duplication, docs/normalization.md); when a trace's spans reach two processors (no trace-id routing in
-- front of several processors, docs/scaling.md) neither sees both spans, and the wrapper's usage is counted on
-- top of the call's in every rollup. Expect 0; anything else is that call's usage and cost counted twice.
-- Only direct parent-child pairs of GenAI spans are seen (not a wrapper above a non-GenAI span).
-- Parameters: {tenant:String}, {from:DateTime}, {to:DateTime} (wrapper span start, UTC, to exclusive).
SELECT
    count() AS calls_counted_twice,
    uniqExact(p.TraceId) AS traces,
    sum(ifNull(p.InputTokens, 0) + ifNull(p.OutputTokens, 0)) AS tokens_counted_twice,
    sum(ifNull(p.CostUSD, 0)) AS cost_counted_twice_usd
FROM genai_spans AS p
INNER JOIN
(
    SELECT TraceId, ParentSpanId
    FROM genai_spans
    WHERE TenantId = {tenant:String}
      AND Timestamp >= {from:DateTime} - INTERVAL 1 DAY AND Timestamp < {to:DateTime} + INTERVAL 1 DAY
      AND UsageCounted = 1 AND ParentSpanId != ''
      AND (InputTokens IS NOT NULL OR OutputTokens IS NOT NULL OR CostUSD IS NOT NULL)
) AS c ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
WHERE p.TenantId = {tenant:String}
  AND p.Timestamp >= {from:DateTime} AND p.Timestamp < {to:DateTime}
  AND p.UsageCounted = 1
  AND (p.InputTokens IS NOT NULL OR p.OutputTokens IS NOT NULL OR p.CostUSD IS NOT NULL)
