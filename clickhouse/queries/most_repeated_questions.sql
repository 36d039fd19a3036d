-- Most repeated questions: the query fingerprints (hash of the normalized question) asked most often in the
-- range, with distinct users, average end-to-end latency, response-cache hits, first and last time seen,
-- and the average tokens and cost of a request asking it. Counts, users and latency come from
-- query_patterns_daily; per-request tokens and cost need every span of each request, so they come from
-- request_rollup, merged per request over a deterministic hash sample of at most ~20 000 requests of the
-- range (cost_sample_stride = 1: every request, exact; n: about one request in n, those with cityHash64(TraceId) <= 2^64 / n, read from
-- request_rollup's by_trace_hash projection (migration 0030); all partial rows of a request
-- in or out together). Frequent questions get many sampled requests; rare ones may get none (NULL).
-- defaults: limit=20
WITH
(
    SELECT greatest(1, intDiv(count(), 20000))
    FROM request_rollup
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
) AS stride
SELECT
    t.fingerprint AS fingerprint,
    t.requests AS requests,
    t.users AS users,
    t.avg_latency_ms AS avg_latency_ms,
    t.cache_hits AS cache_hits,
    t.first_seen AS first_seen,
    t.last_seen AS last_seen,
    c.avg_tokens AS avg_tokens,
    c.avg_cost_usd AS avg_cost_usd,
    stride AS cost_sample_stride
FROM
(
    SELECT
        QueryFingerprint AS fingerprint,
        uniqMerge(Requests) AS requests,
        uniqMerge(Users) AS users,
        if(sum(RootSpans) > 0, sum(RootDurationSumMs) / sum(RootSpans), NULL) AS avg_latency_ms,
        sum(ResponseCacheHits) AS cache_hits,
        min(FirstSeen) AS first_seen,
        max(LastSeen) AS last_seen
    FROM query_patterns_daily
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
    GROUP BY fingerprint
    ORDER BY requests DESC, fingerprint
    LIMIT {limit:UInt32}
) AS t
LEFT JOIN
(
    SELECT fp, avg(tokens) AS avg_tokens, avg(cost) AS avg_cost_usd
    FROM
    (
        SELECT
            TraceId,
            max(QueryFingerprint) AS fp,
            sum(InputTokens) + sum(OutputTokens) AS tokens,
            sum(CostUSD) AS cost,
            min(StartTime) AS started
        FROM request_rollup
        WHERE TenantId = {tenant:String}
          AND Day >= toDate({from:DateTime}, 'UTC') - 1 AND Day <= toDate({to:DateTime}, 'UTC')
          AND cityHash64(TraceId) <= intDiv(18446744073709551615, stride)
        GROUP BY TraceId
        HAVING fp != ''
           AND started >= toStartOfDay({from:DateTime}, 'UTC')
           AND started < toStartOfDay({to:DateTime} - 1, 'UTC') + INTERVAL 1 DAY
    )
    GROUP BY fp
) AS c ON c.fp = t.fingerprint
ORDER BY requests DESC, fingerprint;
