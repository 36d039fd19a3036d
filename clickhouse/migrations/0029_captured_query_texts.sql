-- Captured query texts, by trace (docs/analytics.md, "Topics"): what top_question_clusters needs to name a cluster
-- after its leading question when content capture recorded it.
--
-- The text lives only in otel_traces' SpanAttributes map. Looking it up there for a cluster's sampled requests read
-- the whole map column of every granule of retrieval spans in the range (the sampled requests are spread over the
-- week, so every granule holds one): about half of the query's time at 10 M spans. This table keeps just the
-- captured texts (one row per retrieval span that carries one, typically a small sample of the spans), sorted by
-- trace, so the same look-up reads a few granules of a small table.
--
-- Privacy: rows exist only for spans whose text the app chose to capture (content capture on), and they expire with
-- the raw spans (RAW_TTL_DAYS): nothing here that otel_traces does not already hold, for no longer.
CREATE TABLE IF NOT EXISTS captured_query_texts (
    TenantId LowCardinality(String),
    TraceId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    QueryText String CODEC(ZSTD(1)),
    -- A look-up reads one granule per part for each trace id (the day's part has its place in the order even when
    -- the trace is not there); the filter skips the granules that do not hold it.
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (TenantId, TraceId, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(${RAW_TTL_DAYS})
-- Read by point look-ups of a few trace ids: each reads one granule per part, so granules are small.
SETTINGS ttl_only_drop_parts = 1, index_granularity = 256;

-- The same spans and text as the look-up it replaces (retrieval spans with a non-empty gen_ai.retrieval.query.text).
CREATE MATERIALIZED VIEW IF NOT EXISTS captured_query_texts_mv TO captured_query_texts AS
SELECT TenantId, TraceId, Timestamp, SpanAttributes['gen_ai.retrieval.query.text'] AS QueryText
FROM otel_traces
WHERE SpanName LIKE 'retrieval%' AND QueryText != '' AND TraceId != '';

-- The texts already stored. A span inserted while this runs may be copied by both the view and this statement (or
-- twice, if the migration is re-run after a failure): harmless, the look-up takes one text per trace.
INSERT INTO captured_query_texts (TenantId, TraceId, Timestamp, QueryText) SETTINGS insert_deduplicate = 0
SELECT TenantId, TraceId, Timestamp, SpanAttributes['gen_ai.retrieval.query.text'] AS QueryText
FROM otel_traces
WHERE SpanName LIKE 'retrieval%' AND QueryText != '' AND TraceId != '';

-- Which stored requests have a captured query text. The conversation-signals job sets it on every row it writes
-- (processor/src/derive/conversation-signals.ts); top_question_clusters takes the cluster's label from one such
-- request of its question, so it looks up one trace per cluster instead of sampling every question's requests.
ALTER TABLE conversation_signals ADD COLUMN IF NOT EXISTS TextCaptured UInt8 DEFAULT 0;

-- Rows stored before this migration: a new version of each request that has a captured text (the job's later
-- passes write newer versions, with the flag). Re-running it writes the same row again: FINAL keeps one.
-- (The filter sits in a sub-query: in ClickHouse the REPLACE aliases would shadow the columns in a WHERE beside them.)
INSERT INTO conversation_signals SETTINGS insert_deduplicate = 0
SELECT * REPLACE (1 AS TextCaptured, Version + 1 AS Version)
FROM
(
    SELECT * FROM conversation_signals FINAL
    WHERE IsDeleted = 0 AND TextCaptured = 0 AND TraceId IN (SELECT TraceId FROM captured_query_texts)
);
