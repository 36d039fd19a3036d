-- Recent conversations: the conversations with the latest activity in the range, newest first, with user,
-- session, first/last time, duration, turns, requests, LLM calls, tokens, cost, failed requests, feedback,
-- thumbs down, implicit signals, how the last answer ended (last_outcome), and their requests' trace ids in
-- order (trace_ids: links to the request drill-down). Reads the conversations view (migration 0026).
-- defaults: repeat_window_min=10, reformulation_window_min=5, reformulation_max_distance=12, session_timeout_min=30, limit=50
SELECT
    ServiceName AS service,
    ConversationKey AS conversation,
    UserId AS user_id,
    SessionId AS session_id,
    FirstTime AS first_time,
    LastTime AS last_time,
    DurationS AS duration_s,
    Turns AS turns,
    Requests AS requests,
    LlmCalls AS llm_calls,
    TotalTokens AS total_tokens,
    CostUSD AS cost_usd,
    FailedRequests AS failed_requests,
    Feedback AS feedback,
    ThumbsDown AS thumbs_down,
    Repeats AS repeats,
    Reformulations AS reformulations,
    FollowUps AS follow_ups,
    Abandoned AS abandoned,
    LastOutcome AS last_outcome,
    TraceIds AS trace_ids
FROM conversations(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime}, repeat_window_min = {repeat_window_min:UInt32}, reformulation_window_min = {reformulation_window_min:UInt32}, reformulation_max_distance = {reformulation_max_distance:UInt8}, session_timeout_min = {session_timeout_min:UInt32})
ORDER BY last_time DESC, service, conversation
LIMIT {limit:UInt32};
