-- Where a request's time and money go, per feature: requests, average and p95 end-to-end latency, average
-- wall-clock time of each RAG stage (over the requests that ran it), average tokens and cost per request,
-- documents retrieved and cited, citation usage, invalid citations, response-cache hit rate and failure
-- rate. Reads the per-request rollup through the `requests` view (one merged row per request).
SELECT
    Feature AS feature,
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
GROUP BY feature
ORDER BY requests DESC, feature;
