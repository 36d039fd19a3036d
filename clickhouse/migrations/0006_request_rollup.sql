-- Per-request rollup: one logical row per trace, built from GenAI spans that arrive in any order and in
-- any number of batches. Every insert block adds a partial row per trace (the MV groups only the block it
-- sees); partial rows are combined with min/max/sum/argMax states, which are order-independent, and queries
-- GROUP BY (TenantId, TraceId) so the answer never depends on whether background merges have run (no FINAL).
-- Read it through the parameterized view `requests` below, which finalizes one row per request.
--
-- Day is the UTC day of the earliest span in the partial row. A request's spans normally share it; one
-- that crosses midnight has partial rows under two days, which is why `requests` reads Day from one day
-- before the range and filters on the merged StartTime.
-- Stage extents are epoch milliseconds (min start, max end of the spans marked with that RAG stage), so a
-- stage's latency is its wall-clock extent: retries and back-off inside a stage count, nested spans do not
-- add up twice. Tokens, cost, errors and call counts use UsageCounted = 1 rows only.
CREATE TABLE IF NOT EXISTS request_rollup (
    TenantId LowCardinality(String),
    Day Date,
    TraceId String CODEC(ZSTD(1)),
    StartTime SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    EndTime SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    Spans SimpleAggregateFunction(sum, UInt64),
    HasRoot SimpleAggregateFunction(max, UInt8),
    RootDurationMs SimpleAggregateFunction(max, Float64),
    RootError SimpleAggregateFunction(max, UInt8),
    ServiceName SimpleAggregateFunction(max, String),
    Environment SimpleAggregateFunction(max, String),
    UserId SimpleAggregateFunction(max, String),
    SessionId SimpleAggregateFunction(max, String),
    ConversationId SimpleAggregateFunction(max, String),
    Feature SimpleAggregateFunction(max, String),
    Experiment SimpleAggregateFunction(max, String),
    Variant SimpleAggregateFunction(max, String),
    QueryFingerprint SimpleAggregateFunction(max, String),
    QueryChars SimpleAggregateFunction(max, Nullable(UInt32)),
    QueryTokensEstimate SimpleAggregateFunction(max, Nullable(UInt32)),
    Provider AggregateFunction(argMax, String, DateTime64(9)),
    Model AggregateFunction(argMax, String, DateTime64(9)),
    Models SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    ResponseIds SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    EmbeddingStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    EmbeddingEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    RetrievalStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    RetrievalEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    RerankStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    RerankEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    ContextStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    ContextEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    GenerationStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    GenerationEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    PostProcessingStartMs SimpleAggregateFunction(min, Nullable(Float64)),
    PostProcessingEndMs SimpleAggregateFunction(max, Nullable(Float64)),
    FirstTokenAtMs SimpleAggregateFunction(min, Nullable(Float64)),
    LlmCalls SimpleAggregateFunction(sum, UInt64),
    StreamingCalls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    RateLimited SimpleAggregateFunction(sum, UInt64),
    ErrorTypes SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64),
    CacheReadTokens SimpleAggregateFunction(sum, UInt64),
    CacheWriteTokens SimpleAggregateFunction(sum, UInt64),
    ReasoningTokens SimpleAggregateFunction(sum, UInt64),
    CostUSD SimpleAggregateFunction(sum, Decimal(38, 12)),
    UnpricedCalls SimpleAggregateFunction(sum, UInt64),
    Retrievals SimpleAggregateFunction(sum, UInt64),
    EmptyRetrievals SimpleAggregateFunction(sum, UInt64),
    DocumentsRetrieved SimpleAggregateFunction(sum, UInt64),
    RelevanceSum SimpleAggregateFunction(sum, Float64),
    RelevanceCount SimpleAggregateFunction(sum, UInt64),
    TopRelevance SimpleAggregateFunction(max, Nullable(Float64)),
    Reranks SimpleAggregateFunction(sum, UInt64),
    ContextChunks SimpleAggregateFunction(sum, UInt64),
    ContextChars SimpleAggregateFunction(sum, UInt64),
    CitationSpans SimpleAggregateFunction(sum, UInt64),
    Citations SimpleAggregateFunction(sum, UInt64),
    InvalidCitations SimpleAggregateFunction(sum, UInt64),
    CitedDocumentIds SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    ResponseCacheHit SimpleAggregateFunction(max, UInt8)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, TraceId)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS request_rollup_mv TO request_rollup AS
WITH
    RagStage = 'request' OR ParentSpanId = '' AS is_root,
    UsageCounted = 1 AS counted,
    Operation IN ('chat', 'text_completion', 'generate_content') AS is_llm,
    toUnixTimestamp64Micro(Timestamp) / 1000 AS start_ms,
    toUnixTimestamp64Micro(Timestamp) / 1000 + DurationMs AS end_ms,
    arrayMap(x -> assumeNotNull(x), arrayFilter(x -> x IS NOT NULL, DocumentScores)) AS scores,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model
SELECT
    TenantId,
    toDate(min(Timestamp), 'UTC') AS Day,
    TraceId,
    toDateTime64(min(Timestamp), 6, 'UTC') AS StartTime,
    toDateTime64(max(fromUnixTimestamp64Micro(toInt64(round(end_ms * 1000)), 'UTC')), 6, 'UTC') AS EndTime,
    count() AS Spans,
    toUInt8(max(is_root)) AS HasRoot,
    maxIf(DurationMs, is_root) AS RootDurationMs,
    toUInt8(max(is_root AND (StatusCode = 'Error' OR ErrorType != ''))) AS RootError,
    max(toString(ServiceName)) AS ServiceName,
    max(toString(Environment)) AS Environment,
    max(UserId) AS UserId,
    max(SessionId) AS SessionId,
    max(ConversationId) AS ConversationId,
    max(toString(Feature)) AS Feature,
    max(toString(Experiment)) AS Experiment,
    max(toString(Variant)) AS Variant,
    max(QueryFingerprint) AS QueryFingerprint,
    max(QueryChars) AS QueryChars,
    max(QueryTokensEstimate) AS QueryTokensEstimate,
    argMaxState(if(is_llm AND counted, toString(Provider), ''), if(is_llm AND counted, Timestamp, toDateTime64(0, 9))) AS Provider,
    argMaxState(if(is_llm AND counted, model, ''), if(is_llm AND counted, Timestamp, toDateTime64(0, 9))) AS Model,
    groupUniqArrayArray(if(is_llm AND counted AND model != '', [model], [])) AS Models,
    groupUniqArrayArray(if(ResponseId != '', [ResponseId], [])) AS ResponseIds,
    minIfOrNull(start_ms, RagStage = 'embedding') AS EmbeddingStartMs,
    maxIfOrNull(end_ms, RagStage = 'embedding') AS EmbeddingEndMs,
    minIfOrNull(start_ms, RagStage = 'retrieval') AS RetrievalStartMs,
    maxIfOrNull(end_ms, RagStage = 'retrieval') AS RetrievalEndMs,
    minIfOrNull(start_ms, RagStage = 'rerank') AS RerankStartMs,
    maxIfOrNull(end_ms, RagStage = 'rerank') AS RerankEndMs,
    minIfOrNull(start_ms, RagStage = 'context_assembly') AS ContextStartMs,
    maxIfOrNull(end_ms, RagStage = 'context_assembly') AS ContextEndMs,
    minIfOrNull(start_ms, RagStage = 'generation') AS GenerationStartMs,
    maxIfOrNull(end_ms, RagStage = 'generation') AS GenerationEndMs,
    minIfOrNull(start_ms, RagStage = 'post_processing') AS PostProcessingStartMs,
    maxIfOrNull(end_ms, RagStage = 'post_processing') AS PostProcessingEndMs,
    minIfOrNull(start_ms + assumeNotNull(TtftMs), TtftMs IS NOT NULL AND counted) AS FirstTokenAtMs,
    countIf(is_llm AND counted) AS LlmCalls,
    countIf(Streaming = true AND counted) AS StreamingCalls,
    countIf((StatusCode = 'Error' OR ErrorType != '') AND counted) AS Errors,
    countIf(match(ErrorType, '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted') AND counted) AS RateLimited,
    groupUniqArrayArray(if(ErrorType != '' AND counted, [toString(ErrorType)], [])) AS ErrorTypes,
    sumIf(ifNull(InputTokens, 0), counted) AS InputTokens,
    sumIf(ifNull(OutputTokens, 0), counted) AS OutputTokens,
    sumIf(ifNull(CacheReadTokens, 0), counted) AS CacheReadTokens,
    sumIf(ifNull(CacheWriteTokens, 0), counted) AS CacheWriteTokens,
    sumIf(ifNull(ReasoningTokens, 0), counted) AS ReasoningTokens,
    toDecimal128(sumIf(ifNull(CostUSD, 0), counted), 12) AS CostUSD,
    countIf(CostSource = 'unpriced' AND counted) AS UnpricedCalls,
    countIf(Operation = 'retrieval') AS Retrievals,
    countIf(Operation = 'retrieval' AND empty(DocumentIds)) AS EmptyRetrievals,
    sumIf(length(DocumentIds), Operation = 'retrieval') AS DocumentsRetrieved,
    sumIf(arraySum(scores), Operation = 'retrieval') AS RelevanceSum,
    sumIf(length(scores), Operation = 'retrieval') AS RelevanceCount,
    maxIfOrNull(arrayMax(scores), Operation = 'retrieval' AND notEmpty(scores)) AS TopRelevance,
    countIf(Operation = 'rerank') AS Reranks,
    sum(ifNull(ContextChunks, 0)) AS ContextChunks,
    sum(ifNull(ContextChars, 0)) AS ContextChars,
    countIf(s.CitationCount IS NOT NULL OR notEmpty(s.CitedDocumentIds)) AS CitationSpans,
    sum(ifNull(CitationCount, 0)) AS Citations,
    sum(ifNull(InvalidCitationCount, 0)) AS InvalidCitations,
    groupUniqArrayArray(CitedDocumentIds) AS CitedDocumentIds,
    toUInt8(max(ifNull(s.ResponseCacheHit, false))) AS ResponseCacheHit
FROM genai_spans AS s
GROUP BY TenantId, TraceId;

-- One row per request, finalized: SELECT ... FROM requests(tenant = 'default', from = '2025-01-01 00:00:00',
-- to = '2025-01-08 00:00:00'). Requests are selected by their start time, half-open [from, to).
CREATE VIEW IF NOT EXISTS requests AS
SELECT
    TenantId,
    TraceId,
    min(r.StartTime) AS StartTime,
    max(r.EndTime) AS EndTime,
    max(r.HasRoot) AS HasRoot,
    if(max(r.HasRoot) = 1, max(r.RootDurationMs), dateDiff('microsecond', min(r.StartTime), max(r.EndTime)) / 1000) AS TotalMs,
    max(r.EmbeddingEndMs) - min(r.EmbeddingStartMs) AS EmbeddingMs,
    max(r.RetrievalEndMs) - min(r.RetrievalStartMs) AS RetrievalMs,
    max(r.RerankEndMs) - min(r.RerankStartMs) AS RerankMs,
    max(r.ContextEndMs) - min(r.ContextStartMs) AS ContextMs,
    max(r.GenerationEndMs) - min(r.GenerationStartMs) AS GenerationMs,
    max(r.PostProcessingEndMs) - min(r.PostProcessingStartMs) AS PostProcessingMs,
    min(r.FirstTokenAtMs) - toUnixTimestamp64Micro(min(r.StartTime)) / 1000 AS TimeToFirstTokenMs,
    sum(r.Spans) AS Spans,
    max(r.RootError) AS RootError,
    max(r.ServiceName) AS ServiceName,
    max(r.Environment) AS Environment,
    max(r.UserId) AS UserId,
    max(r.SessionId) AS SessionId,
    max(r.ConversationId) AS ConversationId,
    max(r.Feature) AS Feature,
    max(r.Experiment) AS Experiment,
    max(r.Variant) AS Variant,
    max(r.QueryFingerprint) AS QueryFingerprint,
    max(r.QueryChars) AS QueryChars,
    max(r.QueryTokensEstimate) AS QueryTokensEstimate,
    argMaxMerge(r.Provider) AS Provider,
    argMaxMerge(r.Model) AS Model,
    groupUniqArrayArray(r.Models) AS Models,
    groupUniqArrayArray(r.ResponseIds) AS ResponseIds,
    sum(r.LlmCalls) AS LlmCalls,
    sum(r.StreamingCalls) AS StreamingCalls,
    sum(r.Errors) AS Errors,
    sum(r.RateLimited) AS RateLimited,
    groupUniqArrayArray(r.ErrorTypes) AS ErrorTypes,
    sum(r.InputTokens) AS InputTokens,
    sum(r.OutputTokens) AS OutputTokens,
    sum(r.CacheReadTokens) AS CacheReadTokens,
    sum(r.CacheWriteTokens) AS CacheWriteTokens,
    sum(r.ReasoningTokens) AS ReasoningTokens,
    sum(r.InputTokens) + sum(r.OutputTokens) AS TotalTokens,
    sum(r.CostUSD) AS CostUSD,
    sum(r.UnpricedCalls) AS UnpricedCalls,
    sum(r.Retrievals) AS Retrievals,
    sum(r.EmptyRetrievals) AS EmptyRetrievals,
    sum(r.DocumentsRetrieved) AS DocumentsRetrieved,
    if(sum(r.RelevanceCount) > 0, sum(r.RelevanceSum) / sum(r.RelevanceCount), NULL) AS AvgRelevance,
    max(r.TopRelevance) AS TopRelevance,
    sum(r.Reranks) AS Reranks,
    sum(r.ContextChunks) AS ContextChunks,
    sum(r.ContextChars) AS ContextChars,
    sum(r.CitationSpans) AS CitationSpans,
    sum(r.Citations) AS Citations,
    sum(r.InvalidCitations) AS InvalidCitations,
    length(groupUniqArrayArray(r.CitedDocumentIds)) AS DocumentsCited,
    if(sum(r.DocumentsRetrieved) > 0, least(1, length(groupUniqArrayArray(r.CitedDocumentIds)) / sum(r.DocumentsRetrieved)), NULL) AS CitationUsage,
    max(r.ResponseCacheHit) AS ResponseCacheHit,
    toUInt8(sum(r.Errors) > 0 OR max(r.RootError) = 1) AS HasError
FROM request_rollup AS r
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') - 1
  AND Day <= toDate({to:DateTime}, 'UTC')
GROUP BY TenantId, TraceId
HAVING StartTime >= {from:DateTime} AND StartTime < {to:DateTime};

-- Response id → the span that produced it. Feedback and evaluations may name only a response id and may
-- arrive before that span: they are linked at query time through this small index.
CREATE TABLE IF NOT EXISTS response_index (
    TenantId LowCardinality(String),
    ResponseId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9, 'UTC'),
    Provider LowCardinality(String),
    Model LowCardinality(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (TenantId, ResponseId)
TTL toDateTime(Timestamp) + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS response_index_mv TO response_index AS
SELECT
    TenantId,
    ResponseId,
    TraceId,
    SpanId,
    Timestamp,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model
FROM genai_spans
WHERE ResponseId != '';
