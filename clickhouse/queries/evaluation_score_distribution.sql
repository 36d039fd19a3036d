-- Evaluation score distribution per evaluation name: how many results, the mean, min, max and p10 / p25 /
-- p50 / p75 / p90 of the score, a histogram of scores (key k = scores in [k/10, (k+1)/10), 1.0 in bin 10)
-- and the count of each label. Reads evaluations_daily.
SELECT
    name,
    evaluations,
    scored,
    mean_score,
    min_score,
    max_score,
    q[1] AS p10,
    q[2] AS p25,
    q[3] AS p50,
    q[4] AS p75,
    q[5] AS p90,
    histogram,
    labels
FROM
(
    SELECT
        Name AS name,
        sum(Evaluations) AS evaluations,
        sum(Scored) AS scored,
        if(sum(Scored) > 0, sum(ValueSum) / sum(Scored), NULL) AS mean_score,
        min(ValueMin) AS min_score,
        max(ValueMax) AS max_score,
        quantilesMerge(0.1, 0.25, 0.5, 0.75, 0.9)(ValueQuantiles) AS q,
        sumMap(ValueHistogram) AS histogram,
        sumMap(Labels) AS labels
    FROM evaluations_daily
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
    GROUP BY name
)
ORDER BY name;
