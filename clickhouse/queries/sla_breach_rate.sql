-- SLA breach rate: share of calls slower than a latency threshold (sla_ms), per RAG stage and UTC day.
-- Breaches are counted exactly from the latency histogram in latency_hourly when sla_ms is one of its
-- bucket boundaries (10, 20, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500,
-- 3000, 4000, 5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000, 30000, 45000, 60000, 90000, 120000,
-- 180000, 300000, 600000 ms); another value is rounded up to the next boundary, reported as sla_ms_used.
-- defaults: sla_ms=2000
WITH
    [0, 10, 20, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000,
     5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000, 30000, 45000, 60000, 90000, 120000, 180000, 300000,
     600000, 4294967295] AS ladder,
    arrayFirst(b -> b >= {sla_ms:UInt32}, ladder) AS threshold
SELECT
    toDate(Hour, 'UTC') AS day,
    RagStage AS stage,
    sum(Calls) AS calls,
    arraySum(mapValues(mapFilter((b, n) -> b >= threshold, sumMap(DurationHistogram)))) AS breaches,
    breaches / calls AS breach_rate,
    threshold AS sla_ms_used
FROM latency_hourly
WHERE TenantId = {tenant:String}
  AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
  AND RagStage != ''
GROUP BY day, stage
ORDER BY day, stage;
