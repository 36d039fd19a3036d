-- What "low rated" means, defined once: feedback whose latest version, given in [from, to), is negative
-- (NormalizedScore < 0.4: a thumbs down, a rating of 1-2, or a score below 0.4) and is linked to a request
-- (TraceId known directly or through response_lookup). Read by clickhouse/queries/low_rated_requests.sql and
-- by the Grafana "Low-rated ..." panels, so SQL users and dashboard users count the same rows:
--   SELECT ... FROM low_rated_feedback(tenant = 'default', from = '2025-06-01 00:00:00', to = '2025-06-08 00:00:00')
-- Same columns as feedback_in_range (0008).
CREATE VIEW IF NOT EXISTS low_rated_feedback AS
SELECT *
FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
WHERE NormalizedScore < 0.4 AND TraceId != '';
