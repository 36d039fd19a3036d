-- Answer confidence distribution: requests that started in the range and recorded a confidence
-- (ragscope.answer.confidence, 0..1; the latest value when several spans of a request carry one), counted in ten
-- buckets 0.1 wide ([0, 0.1), [0.1, 0.2), ..., [0.9, 1.0] with 1.0 in the last), each with its share of those
-- requests. Empty buckets are listed with 0. Requests without a confidence are left out. Reads the
-- request_confidence view (migration 0028: the requests view's start time and confidence, from request_facts).
SELECT
    bucket / 10 AS bucket_from,
    (bucket + 1) / 10 AS bucket_to,
    requests,
    if(sum(requests) OVER () > 0, requests / sum(requests) OVER (), 0) AS share
FROM
(
    SELECT least(toUInt8(floor(Confidence * 10)), 9) AS bucket, count() AS requests
    FROM request_confidence(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
    GROUP BY bucket
    ORDER BY bucket WITH FILL FROM 0 TO 10
)
ORDER BY bucket_from;
