-- Session duration: sessions (session.id) by duration, first request start to last request end, in
-- buckets (< 1 min, 1-5, 5-15, 15-30, 30-60 min, >= 60 min), with each bucket's share of sessions, average
-- duration and average requests per session. Only the session's requests that started in the range count.
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
SELECT
    multiIf(duration_s < 60, 0, duration_s < 300, 1, duration_s < 900, 2, duration_s < 1800, 3, duration_s < 3600, 4, 5) AS bucket_order,
    ['< 1 min', '1-5 min', '5-15 min', '15-30 min', '30-60 min', '>= 60 min'][bucket_order + 1] AS bucket,
    count() AS sessions,
    sessions / sum(sessions) OVER () AS share,
    avg(duration_s) AS avg_duration_s,
    avg(requests) AS avg_requests
FROM
(
    SELECT SessionId, dateDiff('microsecond', min(StartTime), max(EndTime)) / 1e6 AS duration_s, count() AS requests
    FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    WHERE SessionId != ''
    GROUP BY SessionId
)
GROUP BY bucket_order
ORDER BY bucket_order;
