-- Month-end cost projection: cost so far this month plus the average daily cost over the range (pass the
-- last 7 days: from = to - 7 days) times the days left in the month. The month is the one containing the
-- last day of the range. Day-granular (UTC). Reads usage_cost_daily.
WITH
    toDate({to:DateTime} - 1, 'UTC') AS as_of_day,
    toDate({from:DateTime}, 'UTC') AS window_start,
    toStartOfMonth(as_of_day) AS month_start,
    toLastDayOfMonth(as_of_day) AS month_end
SELECT
    as_of_day,
    month_start,
    month_end,
    sumIf(CostUSD, Day >= month_start) AS month_to_date_usd,
    sumIf(CostUSD, Day >= window_start) AS window_cost_usd,
    dateDiff('day', window_start, as_of_day) + 1 AS window_days,
    window_cost_usd / window_days AS daily_rate_usd,
    dateDiff('day', as_of_day, month_end) AS days_left,
    month_to_date_usd + daily_rate_usd * days_left AS projected_month_usd
FROM usage_cost_daily
WHERE TenantId = {tenant:String}
  AND Day >= least(window_start, month_start) AND Day <= as_of_day;
