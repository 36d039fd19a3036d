-- Recent conversations: the conversations with the latest activity in the range, newest first, with user,
-- session, first/last time, duration, turns, requests, LLM calls, tokens, cost, failed requests, feedback,
-- thumbs down, implicit signals, how the last answer ended (last_outcome), and their requests' trace ids in
-- order (trace_ids: links to the request drill-down). One conversation = one (service, ConversationKey), with its
-- requests that started in the range, as the `conversations` view of migration 0026 groups them.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
-- defaults: limit=50
-- Two passes: the latest conversations from a cheap one (one max per conversation over the range), then every
-- column for their requests only, read from the day of their first request in the range on (at 10 M spans, reading
-- every column of the whole range to keep 50 conversations cost most of the query).
WITH
    -- The latest conversations (one max per conversation, a cheap pass over the range) and the earliest start of
    -- their requests in the range.
    (
        SELECT (groupArray((ServiceName, ConversationKey)), min(first_start))
        FROM
        (
            SELECT ServiceName, ConversationKey, min(StartTime) AS first_start
            FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
            GROUP BY ServiceName, ConversationKey
            ORDER BY max(EndTime) DESC, ServiceName, ConversationKey
            LIMIT {limit:UInt32}
        )
    ) AS latest
SELECT
    ServiceName AS service,
    ConversationKey AS conversation,
    max(UserId) AS user_id,
    max(SessionId) AS session_id,
    min(StartTime) AS first_time,
    max(EndTime) AS last_time,
    dateDiff('millisecond', first_time, last_time) / 1000 AS duration_s,
    countIf(QueryFingerprint != '') AS turns,
    count() AS requests,
    sum(LlmCalls) AS llm_calls,
    sum(TotalTokens) AS total_tokens,
    sum(CostUSD) AS cost_usd,
    sum(HasError) AS failed_requests,
    sum(Feedback) AS feedback,
    sum(ThumbsDown) AS thumbs_down,
    sum(Repeat) AS repeats,
    sum(Reformulation) AS reformulations,
    sum(FollowUp) AS follow_ups,
    sum(Abandoned) AS abandoned,
    argMax(Outcome, (StartTime, TraceId)) AS last_outcome,
    arrayMap(x -> x.2, arraySort(groupArray((StartTime, TraceId)))) AS trace_ids
-- stored_turn_signals' rows (its table and conditions, FINAL), for the latest conversations, from the day of their
-- first request in the range on (Day is the day of StartTime).
FROM conversation_signals FINAL
WHERE TenantId = {tenant:String}
  AND Day >= toDate(latest.2, 'UTC') AND Day <= toDate({to:DateTime}, 'UTC')
  AND StartTime >= {from:DateTime} AND StartTime < {to:DateTime}
  AND (ServiceName, ConversationKey) IN (SELECT tupleElement(c, 1), tupleElement(c, 2) FROM (SELECT arrayJoin(latest.1) AS c))
GROUP BY service, conversation
ORDER BY last_time DESC, service, conversation
LIMIT {limit:UInt32};
