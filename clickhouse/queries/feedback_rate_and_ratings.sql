-- Feedback rate and rating distribution per UTC day: requests, feedback received (latest version of each
-- feedback id, by the day it was given), feedback rate = feedback / requests, thumbs up / down, the count of
-- each rating 1-5, average rating and average normalized score (0..1 across all kinds). Reads
-- usage_cost_daily (requests) and feedback_in_range (feedback deduplicated at read time, latest version wins).
SELECT
    day,
    requests,
    feedback,
    if(requests > 0, feedback / requests, NULL) AS feedback_rate,
    thumbs_up,
    thumbs_down,
    rating_1,
    rating_2,
    rating_3,
    rating_4,
    rating_5,
    avg_rating,
    avg_normalized_score
FROM
(
    SELECT Day AS day, sum(Requests) AS requests
    FROM usage_cost_daily
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
    GROUP BY day
) AS u
FULL OUTER JOIN
(
    SELECT
        toDate(Timestamp, 'UTC') AS day,
        count() AS feedback,
        countIf(Thumbs = 'up') AS thumbs_up,
        countIf(Thumbs = 'down') AS thumbs_down,
        countIf(Rating = 1) AS rating_1,
        countIf(Rating = 2) AS rating_2,
        countIf(Rating = 3) AS rating_3,
        countIf(Rating = 4) AS rating_4,
        countIf(Rating = 5) AS rating_5,
        avgIf(Rating, Kind = 'rating') AS avg_rating,
        avg(NormalizedScore) AS avg_normalized_score
    FROM feedback_in_range(tenant = {tenant:String}, from = toStartOfDay({from:DateTime}, 'UTC'),
                           to = toStartOfDay({to:DateTime} - 1, 'UTC') + INTERVAL 1 DAY)
    GROUP BY day
) AS f USING (day)
ORDER BY day;
