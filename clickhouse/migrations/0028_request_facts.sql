-- request_facts: a narrow per-request table for the questions that finalize every request of a range (answer
-- confidence) or look requests up by trace id from feedback (variant, model, confidence of rated requests).
-- Measured at 10 M spans (docs/benchmarks.md, docs/analytics.md#request-facts): those queries spent their time
-- grouping ~0.5 M String trace ids per week and merging the argMax(Float64, Tuple) state of Confidence
-- (~140 bytes a row), not reading request_rollup's other columns (the view already pruned them). Here:
--   * TraceKey UInt128 = sipHash128 of the trace id: a fixed-width key that groups and matches (IN) several
--     times faster than the String. Two trace ids share a key with probability ~n²/2^129 (≈ 1e-27 at a billion
--     requests): treated as exact. Feedback is matched on the same expression of its TraceId.
--   * LatestConfidence = max of (span Timestamp, confidence) over the spans that carry one: a plain tuple, read
--     as 16 bytes, with exactly the meaning of request_rollup.Confidence (argMax keyed on (Timestamp, value):
--     the latest value, ties by the larger value); HasConfidence says whether any span carried one.
--   * TraceId is kept (any: every partial row of a key holds the same id) to name the few requests a query lists.
--
-- Same shape as request_rollup (0006): the materialized view adds a partial row per insert block and trace,
-- queries GROUP BY the key, so answers never depend on background merges or on arrival order. Every aggregate
-- here is idempotent (min, max, any, argMax): a partial row written twice changes nothing. That is what makes the
-- backfill below safe to run again (an interrupted migration is re-applied) and safe to overlap with live
-- inserts (the view exists before the backfill reads, so a block inserted in between lands in both: harmless).
-- A per-day additive rollup (Day x confidence bucket counts) was not an option: a request's latest confidence
-- changes when a later span arrives, and a materialized view cannot take back the count it gave the old value.
CREATE TABLE IF NOT EXISTS request_facts (
    TenantId LowCardinality(String),
    Day Date,
    TraceKey UInt128,
    TraceId SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    StartTime SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    Experiment SimpleAggregateFunction(max, String),
    Variant SimpleAggregateFunction(max, String),
    Model AggregateFunction(argMax, String, DateTime64(9)),
    HasConfidence SimpleAggregateFunction(max, UInt8),
    LatestConfidence SimpleAggregateFunction(max, Tuple(DateTime64(9), Float64))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, TraceKey)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- Day, StartTime, Experiment, Variant and Model as request_rollup_mv computes them (0006/0022).
CREATE MATERIALIZED VIEW IF NOT EXISTS request_facts_mv TO request_facts AS
WITH
    UsageCounted = 1 AND Operation IN ('chat', 'text_completion', 'generate_content') AS is_counted_llm,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model,
    AnswerConfidence IS NOT NULL AS has_confidence
SELECT
    TenantId,
    toDate(min(Timestamp), 'UTC') AS Day,
    reinterpretAsUInt128(sipHash128(TraceId)) AS TraceKey,
    TraceId,
    toDateTime64(min(Timestamp), 6, 'UTC') AS StartTime,
    max(toString(Experiment)) AS Experiment,
    max(toString(Variant)) AS Variant,
    argMaxState(if(is_counted_llm, model, ''), if(is_counted_llm, Timestamp, toDateTime64(0, 9))) AS Model,
    toUInt8(max(has_confidence)) AS HasConfidence,
    max(if(has_confidence, tuple(Timestamp, assumeNotNull(AnswerConfidence)), tuple(toDateTime64(0, 9), 0.))) AS LatestConfidence
FROM genai_spans
GROUP BY TenantId, TraceId;

-- Backfill 1: every request whose spans are still stored (RAW_TTL_DAYS), computed exactly as the view does.
INSERT INTO request_facts
WITH
    UsageCounted = 1 AND Operation IN ('chat', 'text_completion', 'generate_content') AS is_counted_llm,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model,
    AnswerConfidence IS NOT NULL AS has_confidence
SELECT
    TenantId,
    toDate(min(Timestamp), 'UTC') AS Day,
    reinterpretAsUInt128(sipHash128(TraceId)) AS TraceKey,
    TraceId,
    toDateTime64(min(Timestamp), 6, 'UTC') AS StartTime,
    max(toString(Experiment)) AS Experiment,
    max(toString(Variant)) AS Variant,
    argMaxState(if(is_counted_llm, model, ''), if(is_counted_llm, Timestamp, toDateTime64(0, 9))) AS Model,
    toUInt8(max(has_confidence)) AS HasConfidence,
    max(if(has_confidence, tuple(Timestamp, assumeNotNull(AnswerConfidence)), tuple(toDateTime64(0, 9), 0.))) AS LatestConfidence
FROM genai_spans
GROUP BY TenantId, TraceId;

-- Backfill 2: older requests whose spans are gone but whose request_rollup rows remain (ROLLUP_TTL_DAYS), from
-- the days before the oldest stored span. request_rollup keeps only the latest confidence value, not its span's
-- time, so the key is the request's end (no span of the request starts later); one row per request (its partial
-- rows merged here first), so the value is the latest even with several partial rows.
INSERT INTO request_facts
SELECT
    r.TenantId AS TenantId,
    min(r.Day) AS Day,
    reinterpretAsUInt128(sipHash128(r.TraceId)) AS TraceKey,
    r.TraceId AS TraceId,
    min(r.StartTime) AS StartTime,
    max(r.Experiment) AS Experiment,
    max(r.Variant) AS Variant,
    argMaxMergeState(r.Model) AS Model,
    toUInt8(sum(r.ConfidenceSpans) > 0) AS HasConfidence,
    if(sum(r.ConfidenceSpans) > 0, tuple(toDateTime64(max(r.EndTime), 9), argMaxMerge(r.Confidence)), tuple(toDateTime64(0, 9), 0.)) AS LatestConfidence
FROM request_rollup AS r
WHERE r.Day < (SELECT toDate(min(Timestamp), 'UTC') FROM genai_spans)
GROUP BY r.TenantId, r.TraceId;
