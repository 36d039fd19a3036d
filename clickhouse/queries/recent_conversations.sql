-- Recent conversations: the conversations with the latest activity in the range, newest first, with user,
-- session, first/last time, duration, turns, requests, LLM calls, tokens, cost, failed requests, feedback,
-- thumbs down, implicit signals, how the last answer ended (last_outcome), and their requests' trace ids in
-- order (trace_ids: links to the request drill-down). One conversation = one (service, ConversationKey), with its
-- requests that started in the range, as the `conversations` view of migration 0026 groups them.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
-- defaults: limit=50
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
FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
-- The latest conversations first, from a cheap pass (one max per conversation), then every column for those
-- only: at 10 M spans the single pass built trace-id lists for every conversation of the range to keep 50.
WHERE (ServiceName, ConversationKey) IN (
    SELECT ServiceName, ConversationKey
    FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    GROUP BY ServiceName, ConversationKey
    ORDER BY max(EndTime) DESC, ServiceName, ConversationKey
    LIMIT {limit:UInt32}
)
GROUP BY service, conversation
ORDER BY last_time DESC, service, conversation
LIMIT {limit:UInt32};
