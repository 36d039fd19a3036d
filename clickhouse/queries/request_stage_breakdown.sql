-- Where a request's time and money go, per feature: requests, average and p95 end-to-end latency, average
-- wall-clock time of each RAG stage (over the requests that ran it), average tokens and cost per request,
-- documents retrieved and cited, citation usage, invalid citations, response-cache hit rate and failure
-- rate. Reads the per-request rollup through the `requests` view (one merged row per request). Merging every
-- request of a long range is the costly part, so averages are taken over a deterministic hash sample of at
-- most ~20 000 requests: sample_stride = 1 means every request (exact); n means about one request in n (those
-- with cityHash64(TraceId) <= 2^64 / n), and `requests` counts the sample (multiply by sample_stride for an
-- estimate of the total). The sample is one key range per day of request_rollup's by_trace_hash projection
-- (migration 0030), so only its granules are read.
WITH
(
    SELECT greatest(1, intDiv(count(), 20000))
    FROM request_rollup
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime}, 'UTC')
) AS stride
SELECT
    Feature AS feature,
    stride AS sample_stride,
    count() AS requests,
    avg(TotalMs) AS avg_total_ms,
    quantileExact(0.95)(TotalMs) AS p95_total_ms,
    avg(EmbeddingMs) AS avg_embedding_ms,
    avg(RetrievalMs) AS avg_retrieval_ms,
    avg(RerankMs) AS avg_rerank_ms,
    avg(ContextMs) AS avg_context_ms,
    avg(GenerationMs) AS avg_generation_ms,
    avg(PostProcessingMs) AS avg_post_processing_ms,
    avg(TimeToFirstTokenMs) AS avg_time_to_first_token_ms,
    avg(TotalTokens) AS avg_tokens,
    sum(CostUSD) / count() AS avg_cost_usd,
    avg(DocumentsRetrieved) AS avg_documents_retrieved,
    avg(DocumentsCited) AS avg_documents_cited,
    avg(CitationUsage) AS avg_citation_usage,
    sum(InvalidCitations) AS invalid_citations,
    avg(ResponseCacheHit) AS cache_hit_rate,
    avg(HasError) AS failure_rate
FROM requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE cityHash64(TraceId) <= intDiv(18446744073709551615, stride)
GROUP BY feature
ORDER BY requests DESC, feature;
