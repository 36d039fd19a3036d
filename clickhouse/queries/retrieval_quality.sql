-- Retrieval quality per feature and UTC day: average relevance of retrieved documents, average best score,
-- documents per retrieval, empty-retrieval rate (retrievals that returned nothing), citation usage rate
-- (distinct documents cited / documents retrieved) and invalid-citation rate. Rates are ratios of sums.
-- Reads retrieval_quality_hourly (feature rather than data source: citations are recorded on
-- post-processing spans, which carry the feature but not the data source).
SELECT
    toDate(Hour, 'UTC') AS day,
    Feature AS feature,
    sum(Retrievals) AS retrievals,
    sum(Documents) / sum(Retrievals) AS documents_per_retrieval,
    if(sum(RelevanceCount) > 0, sum(RelevanceSum) / sum(RelevanceCount), NULL) AS avg_relevance,
    if(sum(ScoredRetrievals) > 0, sum(TopRelevanceSum) / sum(ScoredRetrievals), NULL) AS avg_top_relevance,
    sum(EmptyRetrievals) / sum(Retrievals) AS empty_retrieval_rate,
    if(sum(Documents) > 0, sum(CitedDocuments) / sum(Documents), NULL) AS citation_usage_rate,
    if(sum(Citations) + sum(InvalidCitations) > 0, sum(InvalidCitations) / (sum(Citations) + sum(InvalidCitations)), NULL) AS invalid_citation_rate,
    sum(Reranks) AS reranks
FROM retrieval_quality_hourly
WHERE TenantId = {tenant:String}
  AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
GROUP BY day, feature
HAVING retrievals > 0
ORDER BY day, feature;
