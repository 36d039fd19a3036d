-- Answer confidence (ragscope.answer.confidence, docs/analytics.md#answer-confidence): the app's own 0..1 score
-- for an answer, stored per span in genai_spans.AnswerConfidence (NULL when not recorded; values outside [0, 1]
-- are refused by the processor and never reach the table) and carried into the per-request rollup.
--
-- Per request: the confidence of the latest span (by start time) that carries one, as an argMax state keyed on
-- (Timestamp, value) so that ties resolve the same way in any arrival order; ConfidenceSpans counts the spans
-- that carried one (0 = the request recorded none: Confidence is NULL in `requests`). Rows written before this
-- migration have ConfidenceSpans = 0 and an empty state, so old requests read as "no confidence".
--
-- The materialized view is changed in place with MODIFY QUERY (atomic: no window in which inserted spans
-- bypass the rollup); its text is 0006's plus the two new columns. The `requests` view is 0006's plus Confidence.
ALTER TABLE genai_spans ADD COLUMN IF NOT EXISTS AnswerConfidence Nullable(Float64);

ALTER TABLE request_rollup
    ADD COLUMN IF NOT EXISTS ConfidenceSpans SimpleAggregateFunction(sum, UInt64),
    ADD COLUMN IF NOT EXISTS Confidence AggregateFunction(argMax, Float64, Tuple(DateTime64(9), Float64));

ALTER TABLE request_rollup_mv MODIFY QUERY
WITH
    RagStage = 'request' OR ParentSpanId = '' AS is_root,
    UsageCounted = 1 AS counted,
    Operation IN ('chat', 'text_completion', 'generate_content') AS is_llm,
    toUnixTimestamp64Micro(Timestamp) / 1000 AS start_ms,
    toUnixTimestamp64Micro(Timestamp) / 1000 + DurationMs AS end_ms,
    arrayMap(x -> assumeNotNull(x), arrayFilter(x -> x IS NOT NULL, DocumentScores)) AS scores,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model,
    AnswerConfidence IS NOT NULL AS has_confidence
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
    toUInt8(max(ifNull(s.ResponseCacheHit, false))) AS ResponseCacheHit,
    countIf(has_confidence) AS ConfidenceSpans,
    argMaxState(if(has_confidence, assumeNotNull(AnswerConfidence), 0.), if(has_confidence, tuple(Timestamp, assumeNotNull(AnswerConfidence)), tuple(toDateTime64(0, 9), 0.))) AS Confidence
FROM genai_spans AS s
GROUP BY TenantId, TraceId;

CREATE OR REPLACE VIEW requests AS
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
    toUInt8(sum(r.Errors) > 0 OR max(r.RootError) = 1) AS HasError,
    if(sum(r.ConfidenceSpans) > 0, argMaxMerge(r.Confidence), NULL) AS Confidence
FROM request_rollup AS r
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') - 1
  AND Day <= toDate({to:DateTime}, 'UTC')
GROUP BY TenantId, TraceId
HAVING StartTime >= {from:DateTime} AND StartTime < {to:DateTime};
