-- Most repeated questions: the query fingerprints (hash of the normalized question) asked most often in the
-- range, with distinct users, average end-to-end latency, response-cache hits, first and last time seen,
-- and the average tokens and cost of a request asking it. Counts, users and latency come from
-- query_patterns_daily; per-request tokens and cost need every span of each request, so they come from
-- request_rollup, merged per request for the top fingerprints only, over a deterministic hash sample of at
-- most ~20 000 of their requests (cost_sample_stride = 1: every request, exact; n: one request in n).
-- defaults: limit=20
WITH top_fp AS
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
),
(
    SELECT greatest(1, intDiv(count(), 20000))
    FROM request_rollup
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') - 1 AND Day <= toDate({to:DateTime}, 'UTC')
      AND QueryFingerprint IN (SELECT fingerprint FROM top_fp)
) AS stride
SELECT
    top_fp.fingerprint AS fingerprint,
    top_fp.requests AS requests,
    top_fp.users AS users,
    top_fp.avg_latency_ms AS avg_latency_ms,
    top_fp.cache_hits AS cache_hits,
    top_fp.first_seen AS first_seen,
    top_fp.last_seen AS last_seen,
    c.avg_tokens AS avg_tokens,
    c.avg_cost_usd AS avg_cost_usd,
    stride AS cost_sample_stride
FROM top_fp
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
          AND cityHash64(TraceId) % stride = 0
          AND TraceId IN
          (
              -- only the requests asking a top question (the fingerprint sits on the request root's partial row)
              SELECT TraceId FROM request_rollup
              WHERE TenantId = {tenant:String}
                AND Day >= toDate({from:DateTime}, 'UTC') - 1 AND Day <= toDate({to:DateTime}, 'UTC')
                AND QueryFingerprint IN (SELECT fingerprint FROM top_fp)
                AND cityHash64(TraceId) % stride = 0
          )
        GROUP BY TraceId
        HAVING fp IN (SELECT fingerprint FROM top_fp)
           AND started >= toStartOfDay({from:DateTime}, 'UTC')
           AND started < toStartOfDay({to:DateTime} - 1, 'UTC') + INTERVAL 1 DAY
    )
    GROUP BY fp
) AS c ON c.fp = top_fp.fingerprint
ORDER BY requests DESC, fingerprint;
