-- Precision and recall of predictions: for evaluations that carry a predicted and an actual label
-- (prediction-outcome tracking), per evaluation name, model and label: true positives, how often the label
-- was predicted and how often it was the actual outcome, precision = tp / predicted, recall = tp / actual,
-- F1, and the model's overall accuracy for that evaluation. Reads prediction_outcomes_daily.
SELECT
    name,
    model,
    label,
    tp,
    predicted,
    actual,
    if(predicted > 0, tp / predicted, NULL) AS precision,
    if(actual > 0, tp / actual, NULL) AS recall,
    if(predicted + actual > 0, 2 * tp / (predicted + actual), NULL) AS f1,
    sum(tp) OVER (PARTITION BY name, model) / sum(predicted) OVER (PARTITION BY name, model) AS accuracy
FROM
(
    SELECT
        Name AS name,
        Model AS model,
        label,
        sumIf(Count, Predicted = label AND Actual = label) AS tp,
        sumIf(Count, Predicted = label) AS predicted,
        sumIf(Count, Actual = label) AS actual
    FROM prediction_outcomes_daily
    ARRAY JOIN arrayDistinct([Predicted, Actual]) AS label
    WHERE TenantId = {tenant:String}
      AND Day >= toDate({from:DateTime}, 'UTC') AND Day <= toDate({to:DateTime} - 1, 'UTC')
    GROUP BY name, model, label
)
ORDER BY name, model, label;
