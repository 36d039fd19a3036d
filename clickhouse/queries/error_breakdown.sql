-- Error-type breakdown: errors per error type, provider, model and operation in the range, their share of
-- all errors, how many were rate limits, and the error rate of that provider / model / operation
-- (errors / calls). Reads errors_hourly and usage_cost_hourly.
SELECT
    e.error_type AS error_type,
    e.provider AS provider,
    e.model AS model,
    e.operation AS operation,
    e.errors AS errors,
    e.errors / sum(e.errors) OVER () AS share_of_errors,
    e.rate_limited AS rate_limited,
    c.calls AS calls,
    if(c.calls > 0, e.errors / c.calls, NULL) AS error_rate
FROM
(
    SELECT ErrorType AS error_type, Provider AS provider, Model AS model, Operation AS operation,
           sum(Errors) AS errors, sum(RateLimited) AS rate_limited
    FROM errors_hourly
    WHERE TenantId = {tenant:String}
      AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
    GROUP BY error_type, provider, model, operation
) AS e
LEFT JOIN
(
    SELECT Provider AS provider, Model AS model, Operation AS operation, sum(Calls) AS calls
    FROM usage_cost_hourly
    WHERE TenantId = {tenant:String}
      AND Hour >= toStartOfHour({from:DateTime}) AND Hour < {to:DateTime}
    GROUP BY provider, model, operation
) AS c ON c.provider = e.provider AND c.model = e.model AND c.operation = e.operation
ORDER BY errors DESC, error_type, provider, model, operation;
