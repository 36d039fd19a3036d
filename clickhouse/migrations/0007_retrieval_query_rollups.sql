-- Retrieval quality, hourly, fed from genai_spans.
-- Retrieval metrics come from retrieval spans (Operation = 'retrieval'), rerank metrics from rerank spans,
-- citation metrics from whichever span reports them (ragscope: post_processing), context size from
-- context_assembly spans. Rates are ratios of sums, so any time range / dimension slice adds up exactly:
--   avg relevance          = RelevanceSum / RelevanceCount          (over every scored retrieved document)
--   avg top score          = TopRelevanceSum / ScoredRetrievals      (best document per retrieval)
--   documents / retrieval  = Documents / Retrievals
--   empty-retrieval rate   = EmptyRetrievals / Retrievals            (no document recorded)
--   citation usage rate    = CitedDocuments / Documents              (distinct cited / retrieved)
--   invalid citation rate  = InvalidCitations / (Citations + InvalidCitations)
-- Relevance quantiles are t-digest states (quantilesTDigestMerge(0.1, 0.25, 0.5, 0.75, 0.9)): scores live in
-- 0..1 (or any sign for some rankers), where a relative-error sketch such as DDSketch is a poor fit.
CREATE TABLE IF NOT EXISTS retrieval_quality_hourly (
    TenantId LowCardinality(String),
    Hour DateTime('UTC'),
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    DataSourceId LowCardinality(String),
    Feature LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    Retrievals SimpleAggregateFunction(sum, UInt64),
    EmptyRetrievals SimpleAggregateFunction(sum, UInt64),
    Documents SimpleAggregateFunction(sum, UInt64),
    ScoredRetrievals SimpleAggregateFunction(sum, UInt64),
    RelevanceSum SimpleAggregateFunction(sum, Float64),
    RelevanceCount SimpleAggregateFunction(sum, UInt64),
    TopRelevanceSum SimpleAggregateFunction(sum, Float64),
    RelevanceQuantiles AggregateFunction(quantilesTDigest(0.1, 0.25, 0.5, 0.75, 0.9), Float64),
    TopRelevanceQuantiles AggregateFunction(quantilesTDigest(0.1, 0.25, 0.5, 0.75, 0.9), Float64),
    RelevanceHistogram SimpleAggregateFunction(sumMap, Map(Int16, UInt64)),
    Reranks SimpleAggregateFunction(sum, UInt64),
    RerankDocuments SimpleAggregateFunction(sum, UInt64),
    RerankRelevanceSum SimpleAggregateFunction(sum, Float64),
    RerankRelevanceCount SimpleAggregateFunction(sum, UInt64),
    ContextAssemblies SimpleAggregateFunction(sum, UInt64),
    ContextChunks SimpleAggregateFunction(sum, UInt64),
    ContextChars SimpleAggregateFunction(sum, UInt64),
    CitationSpans SimpleAggregateFunction(sum, UInt64),
    Citations SimpleAggregateFunction(sum, UInt64),
    CitedDocuments SimpleAggregateFunction(sum, UInt64),
    InvalidCitations SimpleAggregateFunction(sum, UInt64),
    ResponsesWithInvalidCitations SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Hour)
ORDER BY (TenantId, Hour, ServiceName, Environment, DataSourceId, Feature, Experiment, Variant)
TTL Hour + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- RelevanceHistogram key k counts document scores s with floor(s * 10) = k (0.1-wide bins, 1.0 in bin 10).
CREATE MATERIALIZED VIEW IF NOT EXISTS retrieval_quality_hourly_mv TO retrieval_quality_hourly AS
WITH
    arrayMap(x -> assumeNotNull(x), arrayFilter(x -> x IS NOT NULL, DocumentScores)) AS scores,
    Operation = 'retrieval' AS is_retrieval,
    Operation = 'rerank' AS is_rerank,
    is_retrieval AND notEmpty(scores) AS scored
SELECT
    TenantId,
    toStartOfHour(Timestamp, 'UTC') AS Hour,
    ServiceName,
    Environment,
    DataSourceId,
    Feature,
    Experiment,
    Variant,
    countIf(is_retrieval) AS Retrievals,
    countIf(is_retrieval AND empty(DocumentIds)) AS EmptyRetrievals,
    sumIf(length(DocumentIds), is_retrieval) AS Documents,
    countIf(scored) AS ScoredRetrievals,
    sumIf(arraySum(scores), is_retrieval) AS RelevanceSum,
    sumIf(length(scores), is_retrieval) AS RelevanceCount,
    sumIf(arrayMax(if(scored, scores, [0.])), scored) AS TopRelevanceSum,
    quantilesTDigestArrayStateIf(0.1, 0.25, 0.5, 0.75, 0.9)(scores, is_retrieval) AS RelevanceQuantiles,
    quantilesTDigestStateIf(0.1, 0.25, 0.5, 0.75, 0.9)(arrayMax(if(scored, scores, [0.])), scored) AS TopRelevanceQuantiles,
    sumMapIf(mapFromArrays(arrayMap(s -> toInt16(floor(s * 10)), scores), arrayMap(s -> toUInt64(1), scores)), is_retrieval) AS RelevanceHistogram,
    countIf(is_rerank) AS Reranks,
    sumIf(length(DocumentIds), is_rerank) AS RerankDocuments,
    sumIf(arraySum(scores), is_rerank) AS RerankRelevanceSum,
    sumIf(length(scores), is_rerank) AS RerankRelevanceCount,
    countIf(Operation = 'context_assembly') AS ContextAssemblies,
    sum(ifNull(ContextChunks, 0)) AS ContextChunks,
    sum(ifNull(ContextChars, 0)) AS ContextChars,
    countIf(CitationCount IS NOT NULL OR notEmpty(CitedDocumentIds)) AS CitationSpans,
    sum(ifNull(CitationCount, 0)) AS Citations,
    sum(length(arrayDistinct(CitedDocumentIds))) AS CitedDocuments,
    sum(ifNull(InvalidCitationCount, 0)) AS InvalidCitations,
    countIf(InvalidCitationCount > 0) AS ResponsesWithInvalidCitations
FROM genai_spans
WHERE Operation IN ('retrieval', 'rerank', 'context_assembly')
   OR CitationCount IS NOT NULL OR InvalidCitationCount IS NOT NULL OR notEmpty(CitedDocumentIds)
GROUP BY TenantId, Hour, ServiceName, Environment, DataSourceId, Feature, Experiment, Variant;

-- Query patterns, daily: one row per (tenant, day, query fingerprint) from the spans that carry the
-- fingerprint (ragscope puts it on the request root). Requests and users are uniq states (exact up to
-- 65 536 distinct values per state, then ~1% error); latency is the request root's duration.
-- Per-fingerprint tokens and cost need every span of each request, so they come from `requests`
-- (see clickhouse/queries/most_repeated_questions.sql), not from this rollup.
CREATE TABLE IF NOT EXISTS query_patterns_daily (
    TenantId LowCardinality(String),
    Day Date,
    QueryFingerprint String,
    ServiceName LowCardinality(String),
    Feature LowCardinality(String),
    Requests AggregateFunction(uniq, String),
    Users AggregateFunction(uniq, Nullable(String)),
    Sessions AggregateFunction(uniq, Nullable(String)),
    RootSpans SimpleAggregateFunction(sum, UInt64),
    RootDurationSumMs SimpleAggregateFunction(sum, Float64),
    RootErrors SimpleAggregateFunction(sum, UInt64),
    ResponseCacheHits SimpleAggregateFunction(sum, UInt64),
    QueryCharsSum SimpleAggregateFunction(sum, UInt64),
    QueryTokensEstimateSum SimpleAggregateFunction(sum, UInt64),
    FirstSeen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    LastSeen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, QueryFingerprint, ServiceName, Feature)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS query_patterns_daily_mv TO query_patterns_daily AS
WITH RagStage = 'request' OR ParentSpanId = '' AS is_root
SELECT
    TenantId,
    toDate(Timestamp, 'UTC') AS Day,
    QueryFingerprint,
    ServiceName,
    Feature,
    uniqState(TraceId) AS Requests,
    uniqState(nullIf(UserId, '')) AS Users,
    uniqState(nullIf(SessionId, '')) AS Sessions,
    countIf(is_root) AS RootSpans,
    sumIf(DurationMs, is_root) AS RootDurationSumMs,
    countIf(is_root AND (StatusCode = 'Error' OR ErrorType != '')) AS RootErrors,
    countIf(is_root AND ResponseCacheHit = true) AS ResponseCacheHits,
    sumIf(ifNull(QueryChars, 0), is_root) AS QueryCharsSum,
    sumIf(ifNull(QueryTokensEstimate, 0), is_root) AS QueryTokensEstimateSum,
    toDateTime64(min(Timestamp), 3, 'UTC') AS FirstSeen,
    toDateTime64(max(Timestamp), 3, 'UTC') AS LastSeen
FROM genai_spans
WHERE QueryFingerprint != ''
GROUP BY TenantId, Day, QueryFingerprint, ServiceName, Feature;
