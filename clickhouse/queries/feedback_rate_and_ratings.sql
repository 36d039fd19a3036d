-- Feedback rate and rating distribution per UTC day: requests, feedback received (latest version of each
-- feedback id, by the day it was given), feedback rate = feedback / requests, thumbs up / down, the count of
-- each rating 1-5, average rating and average normalized score (0..1 across all kinds). Reads
-- usage_cost_daily (requests) and the feedback_daily view (feedback deduplicated at read time).
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
        Day AS day,
        Feedback AS feedback,
        ThumbsUp AS thumbs_up,
        ThumbsDown AS thumbs_down,
        Rating1 AS rating_1,
        Rating2 AS rating_2,
        Rating3 AS rating_3,
        Rating4 AS rating_4,
        Rating5 AS rating_5,
        AvgRating AS avg_rating,
        AvgNormalizedScore AS avg_normalized_score
    FROM feedback_daily
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
) AS f USING (day)
ORDER BY day;
