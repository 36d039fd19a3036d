-- Conversations, sessions and implicit feedback (docs/analytics.md, "Conversations and implicit feedback").
--
-- The query sketch (ragscope.query.sketch: a 64-bit SimHash of the query's words and word pairs, computed by
-- the instrumentation; never the text) and the app's topic label (ragscope.query.topic) as typed columns.
ALTER TABLE genai_spans
    ADD COLUMN IF NOT EXISTS QuerySketch Nullable(UInt64),
    ADD COLUMN IF NOT EXISTS QueryTopic LowCardinality(String);

-- One logical row per request with what session analytics reads, built like request_rollup (0006): every
-- insert block adds a partial row per trace, combined with min/max/sum/argMax states (order-independent),
-- and every reader GROUPs BY TraceId (no FINAL), so the answer does not depend on arrival order, batch
-- split or background merges. Kept apart from request_rollup so that migration stays untouched and the
-- conversation views read ~20 narrow columns. Read it through the views below.
CREATE TABLE IF NOT EXISTS conversation_turns (
    TenantId LowCardinality(String),
    Day Date,
    TraceId String CODEC(ZSTD(1)),
    StartTime SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    EndTime SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    RootError SimpleAggregateFunction(max, UInt8),
    ServiceName SimpleAggregateFunction(max, String),
    UserId SimpleAggregateFunction(max, String),
    SessionId SimpleAggregateFunction(max, String),
    ConversationId SimpleAggregateFunction(max, String),
    Feature SimpleAggregateFunction(max, String),
    Experiment SimpleAggregateFunction(max, String),
    Variant SimpleAggregateFunction(max, String),
    QueryFingerprint SimpleAggregateFunction(max, String),
    QuerySketch SimpleAggregateFunction(max, Nullable(UInt64)),
    QueryTopic SimpleAggregateFunction(max, String),
    Model AggregateFunction(argMax, String, DateTime64(9)),
    LlmCalls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64),
    CostUSD SimpleAggregateFunction(sum, Decimal(38, 12)),
    Retrievals SimpleAggregateFunction(sum, UInt64),
    EmptyRetrievals SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, TraceId)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

ALTER TABLE conversation_turns MODIFY SETTING non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS conversation_turns_mv TO conversation_turns AS
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
    countIf(Operation = 'retrieval' AND empty(DocumentIds)) AS EmptyRetrievals
FROM genai_spans
GROUP BY TenantId, TraceId;

-- One row per request of a conversation, finalized: requests that started in [from, to) and carry a
-- conversation id (gen_ai.conversation.id) or, without one, a session id (session.id). ConversationKey is
-- the unit conversation analytics group by: the conversation id, else the session id.
--   SELECT ... FROM conversation_requests(tenant = 'default', from = '2025-06-01 00:00:00', to = '2025-06-08 00:00:00')
CREATE VIEW IF NOT EXISTS conversation_requests AS
SELECT
    TraceId,
    min(c.StartTime) AS StartTime,
    max(c.EndTime) AS EndTime,
    max(c.ServiceName) AS ServiceName,
    max(c.UserId) AS UserId,
    max(c.SessionId) AS SessionId,
    max(c.ConversationId) AS ConversationId,
    if(ConversationId != '', ConversationId, SessionId) AS ConversationKey,
    max(c.Feature) AS Feature,
    max(c.Experiment) AS Experiment,
    max(c.Variant) AS Variant,
    argMaxMerge(c.Model) AS Model,
    max(c.QueryFingerprint) AS QueryFingerprint,
    max(c.QuerySketch) AS QuerySketch,
    max(c.QueryTopic) AS QueryTopic,
    sum(c.LlmCalls) AS LlmCalls,
    sum(c.InputTokens) + sum(c.OutputTokens) AS TotalTokens,
    sum(c.CostUSD) AS CostUSD,
    toUInt8(sum(c.Errors) > 0 OR max(c.RootError) = 1) AS HasError,
    toUInt8(sum(c.EmptyRetrievals) > 0) AS EmptyRetrieval
FROM conversation_turns AS c
WHERE TenantId = {tenant:String}
  AND Day >= toDate({from:DateTime}, 'UTC') - 1
  AND Day <= toDate({to:DateTime}, 'UTC')
GROUP BY TraceId
HAVING ConversationKey != '' AND StartTime >= {from:DateTime} AND StartTime < {to:DateTime};

-- Implicit feedback, one row per answer (request) that started in [from, to): what the user did next in the
-- same conversation (same service and ConversationKey), in start-time order. Computed when read, with window
-- functions over the finalized requests, so it holds for any arrival order (a late span only changes the
-- request row it belongs to). Thresholds are parameters (defaults in the named queries, justified in
-- docs/analytics.md): repeat_window_min, reformulation_window_min, reformulation_max_distance (bits of the
-- 64-bit query sketch), session_timeout_min. With `next` = the conversation's next request, if it started
-- within session_timeout_min of this answer's end:
--   Repeat         next has the same query fingerprint and started within repeat_window_min of this request's start
--   Reformulation  not a repeat; next has another fingerprint, its sketch is within reformulation_max_distance bits
--                  of this one, and it started within reformulation_window_min of this answer's end
--   FollowUp       any other next question
--   Abandoned      no next within the timeout, no feedback on this answer, and the data reaches past the timeout
--                  (Watermark = the latest request start read, at most to + timeout); AbandonedAfterFailure:
--                  abandoned after an error or an empty retrieval
--   Open           no next yet and the timeout has not passed: undecided
--   EngagementMs   this answer's end → next question (>= 0), NULL without a next
-- Feedback / ThumbsDown: feedback given in [from, to + timeout) on this request (latest version per id).
CREATE VIEW IF NOT EXISTS conversation_turn_signals AS
WITH
    toIntervalMinute({session_timeout_min:UInt32}) AS timeout,
    fb AS
    (
        SELECT TraceId, count() AS Feedback, countIf(Thumbs = 'down') AS ThumbsDown, countIf(Kind = 'thumbs') AS ThumbsFeedback
        FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime} + toIntervalMinute({session_timeout_min:UInt32}))
        WHERE TraceId != ''
        GROUP BY TraceId
    ),
    ordered AS
    (
        SELECT
            r.*,
            leadInFrame(r.TraceId) OVER w AS NextTraceId,
            leadInFrame(r.StartTime) OVER w AS NextStart,
            leadInFrame(r.QueryFingerprint) OVER w AS NextFingerprint,
            leadInFrame(r.QuerySketch) OVER w AS NextSketch,
            max(r.StartTime) OVER () AS Watermark
        FROM conversation_requests(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime} + toIntervalMinute({session_timeout_min:UInt32})) AS r
        WINDOW w AS (PARTITION BY r.ServiceName, r.ConversationKey ORDER BY r.StartTime, r.TraceId ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    )
SELECT
    o.* EXCEPT (NextTraceId, NextStart, NextFingerprint, NextSketch, Watermark),
    ifNull(fb.Feedback, 0) AS Feedback,
    ifNull(fb.ThumbsFeedback, 0) AS ThumbsFeedback,
    ifNull(fb.ThumbsDown, 0) AS ThumbsDown,
    o.NextTraceId != '' AND o.NextStart <= o.EndTime + timeout AS HasNext,
    if(HasNext, o.NextTraceId, '') AS NextRequestId,
    toUInt8(HasNext AND o.QueryFingerprint != '' AND o.NextFingerprint = o.QueryFingerprint
        AND o.NextStart <= o.StartTime + toIntervalMinute({repeat_window_min:UInt32})) AS Repeat,
    toUInt8(HasNext AND NOT Repeat AND o.NextFingerprint != o.QueryFingerprint
        AND o.QuerySketch IS NOT NULL AND o.NextSketch IS NOT NULL
        AND bitCount(bitXor(assumeNotNull(o.QuerySketch), assumeNotNull(o.NextSketch))) <= {reformulation_max_distance:UInt8}
        AND o.NextStart <= o.EndTime + toIntervalMinute({reformulation_window_min:UInt32})) AS Reformulation,
    toUInt8(HasNext AND NOT Repeat AND NOT Reformulation) AS FollowUp,
    NOT HasNext AND o.EndTime + timeout <= o.Watermark AS Ended,
    toUInt8(Ended AND Feedback = 0) AS Abandoned,
    toUInt8(Abandoned AND (o.HasError = 1 OR o.EmptyRetrieval = 1)) AS AbandonedAfterFailure,
    toUInt8(NOT HasNext AND NOT Ended) AS Open,
    if(HasNext, greatest(0, dateDiff('millisecond', o.EndTime, o.NextStart)), NULL) AS EngagementMs,
    multiIf(Repeat = 1, 'repeat', Reformulation = 1, 'reformulation', FollowUp = 1, 'follow_up', Abandoned = 1, 'abandoned',
            Ended, 'ended_with_feedback', 'open') AS Outcome
FROM ordered AS o
LEFT JOIN fb ON fb.TraceId = o.TraceId
WHERE o.StartTime < {to:DateTime}
SETTINGS join_use_nulls = 1;

-- One row per conversation (service, ConversationKey) with its requests that started in [from, to): ids, user,
-- first/last time, turns (requests with a query), requests, LLM calls, tokens, cost, failed requests, feedback,
-- thumbs down, and the implicit signals of its answers (conversation_turn_signals, same parameters).
-- TraceIds lists its requests in start order (links to the request drill-down).
CREATE VIEW IF NOT EXISTS conversations AS
SELECT
    s.ServiceName AS ServiceName,
    s.ConversationKey AS ConversationKey,
    max(s.ConversationId) AS ConversationId,
    max(s.SessionId) AS SessionId,
    max(s.UserId) AS UserId,
    min(s.StartTime) AS FirstTime,
    max(s.EndTime) AS LastTime,
    dateDiff('millisecond', FirstTime, LastTime) / 1000 AS DurationS,
    countIf(s.QueryFingerprint != '') AS Turns,
    count() AS Requests,
    sum(s.LlmCalls) AS LlmCalls,
    sum(s.TotalTokens) AS TotalTokens,
    sum(s.CostUSD) AS CostUSD,
    sum(s.HasError) AS FailedRequests,
    sum(s.Feedback) AS Feedback,
    sum(s.ThumbsDown) AS ThumbsDown,
    sum(s.Repeat) AS Repeats,
    sum(s.Reformulation) AS Reformulations,
    sum(s.FollowUp) AS FollowUps,
    sum(s.Abandoned) AS Abandoned,
    sum(s.AbandonedAfterFailure) AS AbandonedAfterFailure,
    avg(s.EngagementMs) AS AvgEngagementMs,
    argMax(s.Outcome, (s.StartTime, s.TraceId)) AS LastOutcome,
    arrayMap(x -> x.2, arraySort(groupArray((s.StartTime, s.TraceId)))) AS TraceIds
FROM conversation_turn_signals(
    tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime},
    repeat_window_min = {repeat_window_min:UInt32}, reformulation_window_min = {reformulation_window_min:UInt32},
    reformulation_max_distance = {reformulation_max_distance:UInt8}, session_timeout_min = {session_timeout_min:UInt32}) AS s
GROUP BY ServiceName, ConversationKey;
