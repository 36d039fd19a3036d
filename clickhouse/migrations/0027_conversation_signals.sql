-- Implicit-feedback signals, materialized (docs/analytics.md, "Conversations and implicit feedback").
--
-- conversation_turn_signals (0026) stays the one definition of the signals; computing it at read time costs a
-- GROUP BY TraceId and a sort per conversation over the whole window on every query. Instead the processor's
-- conversation-signals job (processor/src/derive/conversation-signals.ts) runs it in the background, with the
-- thresholds from its configuration, and stores one row per request here; the named queries read this table.
--
-- Canonical answer: the row of request R holds the signals of R as conversation_turn_signals computes them with
-- from <= R's start and to = the job's `now` (its injected clock) at the job's last pass, thresholds as
-- configured. The named queries therefore lag new data by at most one job interval.
--
-- What changed since the last pass is tracked in the store, not in the process: conversation_turns and
-- feedback get an insertion time (the store's clock), and the job keeps the highest one it has processed in
-- conversation_signals_state. A restart, or a second processor, continues from there.

-- When each partial row was inserted (max over a request's partial rows after merges). Rows stored before this
-- migration read 1970-01-01: the job's first pass computes every request anyway.
ALTER TABLE conversation_turns ADD COLUMN IF NOT EXISTS InsertedAt SimpleAggregateFunction(max, DateTime64(6, 'UTC'));

-- 0026's view plus InsertedAt. MODIFY QUERY is atomic: no window in which inserted spans bypass the rollup.
ALTER TABLE conversation_turns_mv MODIFY QUERY
WITH
    RagStage = 'request' OR ParentSpanId = '' AS is_root,
    UsageCounted = 1 AS counted,
    Operation IN ('chat', 'text_completion', 'generate_content') AS is_llm,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model
SELECT
    TenantId,
    toDate(min(Timestamp), 'UTC') AS Day,
    TraceId,
    toDateTime64(min(Timestamp), 6, 'UTC') AS StartTime,
    toDateTime64(max(fromUnixTimestamp64Micro(toInt64(round(toUnixTimestamp64Micro(Timestamp) + DurationMs * 1000)), 'UTC')), 6, 'UTC') AS EndTime,
    toUInt8(max(is_root AND (StatusCode = 'Error' OR ErrorType != ''))) AS RootError,
    max(toString(ServiceName)) AS ServiceName,
    max(UserId) AS UserId,
    max(SessionId) AS SessionId,
    max(ConversationId) AS ConversationId,
    max(toString(Feature)) AS Feature,
    max(toString(Experiment)) AS Experiment,
    max(toString(Variant)) AS Variant,
    max(QueryFingerprint) AS QueryFingerprint,
    max(QuerySketch) AS QuerySketch,
    max(toString(QueryTopic)) AS QueryTopic,
    argMaxState(if(is_llm AND counted, model, ''), if(is_llm AND counted, Timestamp, toDateTime64(0, 9))) AS Model,
    countIf(is_llm AND counted) AS LlmCalls,
    countIf((StatusCode = 'Error' OR ErrorType != '') AND counted) AS Errors,
    sumIf(ifNull(InputTokens, 0), counted) AS InputTokens,
    sumIf(ifNull(OutputTokens, 0), counted) AS OutputTokens,
    toDecimal128(sumIf(ifNull(CostUSD, 0), counted), 12) AS CostUSD,
    countIf(Operation = 'retrieval') AS Retrievals,
    countIf(Operation = 'retrieval' AND empty(DocumentIds)) AS EmptyRetrievals,
    now64(6, 'UTC') AS InsertedAt
FROM genai_spans
GROUP BY TenantId, TraceId;

-- When each feedback version was inserted (rows from before this migration: 1970-01-01).
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS InsertedAt DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC');

-- One row per request (per version: Version = when the job's pass started, store clock, microseconds): every
-- column the conversation named queries read, and the signals. Readers go through stored_turn_signals (FINAL:
-- the latest version of each request, whatever the background merges have done). A request whose start moved
-- to another UTC day (a late span with an earlier start) changes its sorting key: the job then writes its old
-- row again with IsDeleted = 1, and FINAL drops it. No query text: fingerprint and sketch only, as in 0026.
CREATE TABLE IF NOT EXISTS conversation_signals (
    TenantId LowCardinality(String),
    Day Date,
    TraceId String CODEC(ZSTD(1)),
    StartTime DateTime64(6, 'UTC'),
    EndTime DateTime64(6, 'UTC'),
    ServiceName LowCardinality(String),
    UserId String,
    SessionId String,
    ConversationId String,
    ConversationKey String,
    Feature LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    Model LowCardinality(String),
    QueryFingerprint String,
    QuerySketch Nullable(UInt64),
    QueryTopic LowCardinality(String),
    LlmCalls UInt64,
    TotalTokens UInt64,
    CostUSD Decimal(38, 12),
    HasError UInt8,
    EmptyRetrieval UInt8,
    Feedback UInt64,
    ThumbsFeedback UInt64,
    ThumbsDown UInt64,
    NextRequestId String CODEC(ZSTD(1)),
    Repeat UInt8,
    Reformulation UInt8,
    FollowUp UInt8,
    Abandoned UInt8,
    AbandonedAfterFailure UInt8,
    Open UInt8,
    EngagementMs Nullable(Int64),
    Outcome LowCardinality(String),
    Version UInt64,
    IsDeleted UInt8
) ENGINE = ReplacingMergeTree(Version, IsDeleted)
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, TraceId)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- The job's progress per tenant (one row per pass; the latest by UpdatedAt counts): the insertion marks it has
-- processed (store clock), the `now` it computed up to, the earliest start of an answer it left open, and the
-- thresholds it used (changed thresholds → every request is recomputed).
CREATE TABLE IF NOT EXISTS conversation_signals_state (
    TenantId LowCardinality(String),
    TurnsMark DateTime64(6, 'UTC'),
    FeedbackMark DateTime64(3, 'UTC'),
    ComputedTo DateTime64(6, 'UTC'),
    OpenFrom DateTime64(6, 'UTC'),
    Thresholds String,
    UpdatedAt DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree(UpdatedAt)
ORDER BY TenantId;

-- The stored signals of the requests that started in [from, to): the same columns as conversation_turn_signals
-- (without HasNext/Ended), the latest version of each request. Read this, not the table.
--   SELECT ... FROM stored_turn_signals(tenant = 'default', from = '2025-06-01 00:00:00', to = '2025-06-08 00:00:00')
CREATE VIEW IF NOT EXISTS stored_turn_signals AS
SELECT * EXCEPT (TenantId, Day, Version, IsDeleted)
FROM conversation_signals FINAL
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC')
  AND Day <= toDate({to:DateTime}, 'UTC')
  AND StartTime >= {from:DateTime} AND StartTime < {to:DateTime};
