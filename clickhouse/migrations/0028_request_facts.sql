-- request_facts: a narrow per-request table for the questions that finalize every request of a range (answer
-- confidence) or look requests up by trace id from feedback (variant, model, confidence of rated requests).
-- Measured at 10 M spans (docs/benchmarks.md and docs/analytics.md, "request_facts"): those queries spent their time
-- grouping ~0.5 M String trace ids per week and merging request_rollup's argMax(Float64, Tuple) Confidence state
-- (~140 bytes a row), not reading request_rollup's other columns (the requests view already pruned them). Here:
--   * TraceKey UInt128 = sipHash128 of the trace id: a fixed-width key that groups and matches (IN) several
--     times faster than the String. Two trace ids share a key with probability ~n²/2^129 (≈ 1e-21 at a billion
--     requests): treated as exact. Feedback is matched on the same expression of its TraceId.
--   * ConfidenceKey UInt128 = (span Timestamp in ns) << 64 | (bits of the confidence as Float64), max over the
--     spans that carry one. A non-negative Float64's bits sort like its value, so the max is request_rollup's
--     argMax keyed on (Timestamp, value): the latest value, ties by the larger one. A plain integer max costs a
--     fraction of the argMax state's merge (max over a Tuple(time, value) measured several times slower too). The value is the low 64
--     bits: reinterpretAsFloat64(toUInt64(bitAnd(ConfidenceKey, 0xFFFFFFFFFFFFFFFF))), done once in the
--     request_confidence view below. ConfidenceKey = 0: no span of the request carried one (a span that did has a
--     time after 1970: spans that old never stay in genai_spans, the raw retention drops them).
--   * LastModel = max of (span Timestamp, model) over counted LLM calls: request_rollup.Model's value (the
--     last call's model; '' when none), ties by the larger name.
--   * TraceId is kept (any: every partial row of a key holds the same id) to name the few requests a query lists.
--
-- Same shape as request_rollup (0006): the materialized view adds a partial row per insert block and trace,
-- queries GROUP BY the key, so answers never depend on background merges or on arrival order. Every aggregate
-- here is idempotent (min, max, any): a partial row written twice changes nothing. That is what makes the
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
    LastModel SimpleAggregateFunction(max, Tuple(DateTime64(9), String)),
    ConfidenceKey SimpleAggregateFunction(max, UInt128)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, TraceKey)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- Day, StartTime, Experiment, Variant and the model as request_rollup_mv computes them (0006/0022).
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
    max(if(is_counted_llm, tuple(Timestamp, model), tuple(toDateTime64(0, 9), ''))) AS LastModel,
    -- + 0. turns -0. into 0. (its bits would sort above every other value)
    max(if(has_confidence, bitOr(bitShiftLeft(toUInt128(toUnixTimestamp64Nano(Timestamp)), 64), toUInt128(reinterpretAsUInt64(assumeNotNull(AnswerConfidence) + 0.))), toUInt128(0))) AS ConfidenceKey
FROM genai_spans
GROUP BY TenantId, TraceId;

-- Backfill 1: every request whose spans are still stored (RAW_TTL_DAYS), computed exactly as the view does.
-- insert_deduplicate = 0: the embedded engine keeps the last insert's deduplication token for the session, and a
-- backfill block taken for a duplicate of some earlier block would be dropped silently (its rows are idempotent
-- anyway, so writing them again never hurts).
INSERT INTO request_facts SETTINGS insert_deduplicate = 0
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
    max(if(is_counted_llm, tuple(Timestamp, model), tuple(toDateTime64(0, 9), ''))) AS LastModel,
    -- + 0. turns -0. into 0. (its bits would sort above every other value)
    max(if(has_confidence, bitOr(bitShiftLeft(toUInt128(toUnixTimestamp64Nano(Timestamp)), 64), toUInt128(reinterpretAsUInt64(assumeNotNull(AnswerConfidence) + 0.))), toUInt128(0))) AS ConfidenceKey
FROM genai_spans
GROUP BY TenantId, TraceId;

-- Backfill 2: older requests whose spans are gone but whose request_rollup rows remain (ROLLUP_TTL_DAYS), from
-- the days before the oldest stored span. request_rollup keeps only the latest confidence value and model, not
-- their span's time, so their time is the request's end (no span of the request starts later); one row per request
-- (its partial rows merged here first), so the values are the latest even with several partial rows.
INSERT INTO request_facts SETTINGS insert_deduplicate = 0
SELECT
    r.TenantId AS TenantId,
    min(r.Day) AS Day,
    reinterpretAsUInt128(sipHash128(r.TraceId)) AS TraceKey,
    r.TraceId AS TraceId,
    min(r.StartTime) AS StartTime,
    max(r.Experiment) AS Experiment,
    max(r.Variant) AS Variant,
    if(sum(r.LlmCalls) > 0, tuple(toDateTime64(max(r.EndTime), 9), argMaxMerge(r.Model)), tuple(toDateTime64(0, 9), '')) AS LastModel,
    if(sum(r.ConfidenceSpans) > 0, bitOr(bitShiftLeft(toUInt128(toUnixTimestamp64Nano(toDateTime64(max(r.EndTime), 9))), 64), toUInt128(reinterpretAsUInt64(argMaxMerge(r.Confidence) + 0.))), toUInt128(0)) AS ConfidenceKey
FROM request_rollup AS r
WHERE r.Day < (SELECT toDate(min(Timestamp), 'UTC') FROM genai_spans)
GROUP BY r.TenantId, r.TraceId;

-- Exactly-once like every table fed from genai_spans (0011, 0026): a replayed insert block is dropped here too.
-- Set after the backfills, which must never be taken for replays.
ALTER TABLE request_facts MODIFY SETTING non_replicated_deduplication_window = 1000;

-- Per request that started in [from, to) and recorded a confidence: its start time and latest confidence, the
-- same values as the requests view's StartTime and Confidence. SELECT ... FROM request_confidence(tenant = 'default',
-- from = '2025-06-01 00:00:00', to = '2025-06-08 00:00:00'). Read by the confidence queries (clickhouse/queries).
CREATE VIEW IF NOT EXISTS request_confidence AS
SELECT
    f.TraceKey AS TraceKey,
    min(f.StartTime) AS StartTime,
    reinterpretAsFloat64(toUInt64(bitAnd(max(f.ConfidenceKey), toUInt128('18446744073709551615')))) AS Confidence
FROM request_facts AS f
WHERE f.TenantId = {tenant:String}
  AND f.Day >= toDate({from:DateTime}, 'UTC') - 1
  AND f.Day <= toDate({to:DateTime}, 'UTC')
-- One grouping key: grouping by (TenantId, TraceKey) measured twice the CPU (a composite key hashes slower).
GROUP BY f.TraceKey
HAVING StartTime >= {from:DateTime} AND StartTime < {to:DateTime} AND max(f.ConfidenceKey) > 0;
