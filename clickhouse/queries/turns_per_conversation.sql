-- Turns per conversation: how many conversations had 1, 2, 3, ... turns (requests carrying a query
-- fingerprint) among their requests that started in the range, and each count's share of conversations.
-- A conversation is a gen_ai.conversation.id (else a session.id) within one service.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
SELECT
    turns,
    count() AS conversations,
    conversations / sum(conversations) OVER () AS share
FROM
(
    SELECT ServiceName, ConversationKey, countIf(QueryFingerprint != '') AS turns
    FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    GROUP BY ServiceName, ConversationKey
)
GROUP BY turns
ORDER BY turns;
