-- User feedback and automated evaluations (docs/analytics.md, docs/conventions.md).
--
-- feedback: one row per submitted version. Resubmitting a FeedbackId adds a row with a higher Version;
-- ReplacingMergeTree(Version) eventually keeps only the latest, but correctness never waits for that:
-- every query reads feedback through `feedback_latest` (argMax by Version), so a feedback id is counted
-- once, with its latest content, whether or not parts have merged.
-- Value follows gen_ai.evaluation.score.value: thumbs up = 1 / down = 0, rating 1-5, score 0..1.
-- NormalizedScore maps every kind onto 0..1 (thumbs 1/0, rating (r - 1) / 4, score as is).
-- Kept for ${ROLLUP_TTL_DAYS} days like the rollups: feedback is small and its daily view reads it.
CREATE TABLE IF NOT EXISTS feedback (
    TenantId LowCardinality(String),
    FeedbackId String,
    Version UInt64,
    Timestamp DateTime64(3, 'UTC'),
    Source LowCardinality(String),
    Name LowCardinality(String),
    Kind LowCardinality(String),
    Thumbs LowCardinality(String),
    Rating Nullable(UInt8),
    Value Nullable(Float64),
    NormalizedScore Nullable(Float64),
    Label String,
    Comment String CODEC(ZSTD(3)),
    Tags Array(String),
    UserId String,
    TraceId String,
    SpanId String,
    ResponseId String,
    ServiceName LowCardinality(String)
) ENGINE = ReplacingMergeTree(Version)
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (TenantId, FeedbackId)
TTL toDateTime(Timestamp) + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- Response id → the span that produced it. Feedback and evaluations may name only a response id and may
-- arrive before that span: they are linked through this table. 256-row granules: a few hundred random
-- response ids named by feedback then read a few percent of it instead of nearly every granule.
CREATE TABLE IF NOT EXISTS response_lookup (
    TenantId LowCardinality(String),
    ResponseId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9, 'UTC'),
    Provider LowCardinality(String),
    Model LowCardinality(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (TenantId, ResponseId)
TTL toDateTime(Timestamp) + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS index_granularity = 256, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS response_lookup_mv TO response_lookup AS
SELECT
    TenantId,
    ResponseId,
    TraceId,
    SpanId,
    Timestamp,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model
FROM genai_spans
WHERE ResponseId != '';

-- Latest version of every feedback id; `Timestamp` is when that version was given (earlier versions may
-- already be gone: ReplacingMergeTree also collapses rows on insert and in merges). TraceId is resolved through
-- response_lookup when the feedback named only a response id, looking up only the ids feedback names, so the
-- cost follows the amount of feedback, not of traffic (feedback that arrived before its spans links up once they arrive).
CREATE VIEW IF NOT EXISTS feedback_latest AS
SELECT
    f.TenantId AS TenantId,
    f.FeedbackId AS FeedbackId,
    f.LatestVersion AS LatestVersion,
    f.LatestTimestamp AS Timestamp,
    f.Source AS Source,
    f.Name AS Name,
    f.Kind AS Kind,
    f.Thumbs AS Thumbs,
    f.Rating AS Rating,
    f.Value AS Value,
    f.NormalizedScore AS NormalizedScore,
    f.Label AS Label,
    f.Comment AS Comment,
    f.Tags AS Tags,
    f.UserId AS UserId,
    if(f.TraceId != '', f.TraceId, ri.TraceId) AS TraceId,
    f.SpanId AS SpanId,
    f.ResponseId AS ResponseId,
    f.ServiceName AS ServiceName
FROM
(
    SELECT
        fb.TenantId AS TenantId,
        fb.FeedbackId AS FeedbackId,
        max(fb.Version) AS LatestVersion,
        argMax(fb.Timestamp, fb.Version) AS LatestTimestamp,
        argMax(fb.Source, fb.Version) AS Source,
        argMax(fb.Name, fb.Version) AS Name,
        argMax(fb.Kind, fb.Version) AS Kind,
        argMax(fb.Thumbs, fb.Version) AS Thumbs,
        argMax(fb.Rating, fb.Version) AS Rating,
        argMax(fb.Value, fb.Version) AS Value,
        argMax(fb.NormalizedScore, fb.Version) AS NormalizedScore,
        argMax(fb.Label, fb.Version) AS Label,
        argMax(fb.Comment, fb.Version) AS Comment,
        argMax(fb.Tags, fb.Version) AS Tags,
        argMax(fb.UserId, fb.Version) AS UserId,
        argMax(fb.TraceId, fb.Version) AS TraceId,
        argMax(fb.SpanId, fb.Version) AS SpanId,
        argMax(fb.ResponseId, fb.Version) AS ResponseId,
        argMax(fb.ServiceName, fb.Version) AS ServiceName
    FROM feedback AS fb
    GROUP BY fb.TenantId, fb.FeedbackId
) AS f
LEFT JOIN
(
    SELECT TenantId, ResponseId, any(TraceId) AS TraceId
    FROM response_lookup
    WHERE ResponseId IN (SELECT ResponseId FROM feedback WHERE ResponseId != '' AND TraceId = '')
    GROUP BY TenantId, ResponseId
) AS ri ON ri.TenantId = f.TenantId AND ri.ResponseId = f.ResponseId
SETTINGS join_use_nulls = 0;

-- Feedback whose latest version was given in [from, to): SELECT ... FROM feedback_in_range(tenant = 'default',
-- from = '2025-06-01 00:00:00', to = '2025-06-08 00:00:00'). Same columns as feedback_latest.
-- Reading only versions given at or after `from` is exact for this question: if the latest version of an id
-- is in the range, every version dropped by the filter is older and cannot win argMax; if the latest version
-- is before `from`, the id is not in the range. So the view scans a range, not the whole feedback history.
CREATE VIEW IF NOT EXISTS feedback_in_range AS
SELECT
    f.TenantId AS TenantId,
    f.FeedbackId AS FeedbackId,
    f.LatestVersion AS LatestVersion,
    f.LatestTimestamp AS Timestamp,
    f.Source AS Source,
    f.Name AS Name,
    f.Kind AS Kind,
    f.Thumbs AS Thumbs,
    f.Rating AS Rating,
    f.Value AS Value,
    f.NormalizedScore AS NormalizedScore,
    f.Label AS Label,
    f.Comment AS Comment,
    f.Tags AS Tags,
    f.UserId AS UserId,
    if(f.TraceId != '', f.TraceId, ri.TraceId) AS TraceId,
    f.SpanId AS SpanId,
    f.ResponseId AS ResponseId,
    f.ServiceName AS ServiceName
FROM
(
    SELECT
        fb.TenantId AS TenantId,
        fb.FeedbackId AS FeedbackId,
        max(fb.Version) AS LatestVersion,
        argMax(fb.Timestamp, fb.Version) AS LatestTimestamp,
        argMax(fb.Source, fb.Version) AS Source,
        argMax(fb.Name, fb.Version) AS Name,
        argMax(fb.Kind, fb.Version) AS Kind,
        argMax(fb.Thumbs, fb.Version) AS Thumbs,
        argMax(fb.Rating, fb.Version) AS Rating,
        argMax(fb.Value, fb.Version) AS Value,
        argMax(fb.NormalizedScore, fb.Version) AS NormalizedScore,
        argMax(fb.Label, fb.Version) AS Label,
        argMax(fb.Comment, fb.Version) AS Comment,
        argMax(fb.Tags, fb.Version) AS Tags,
        argMax(fb.UserId, fb.Version) AS UserId,
        argMax(fb.TraceId, fb.Version) AS TraceId,
        argMax(fb.SpanId, fb.Version) AS SpanId,
        argMax(fb.ResponseId, fb.Version) AS ResponseId,
        argMax(fb.ServiceName, fb.Version) AS ServiceName
    FROM feedback AS fb
    WHERE fb.TenantId = {tenant:String} AND fb.Timestamp >= {from:DateTime}
    GROUP BY fb.TenantId, fb.FeedbackId
    HAVING LatestTimestamp < {to:DateTime}
) AS f
LEFT JOIN
(
    SELECT TenantId, ResponseId, any(TraceId) AS TraceId
    FROM response_lookup
    WHERE TenantId = {tenant:String}
      AND ResponseId IN (SELECT ResponseId FROM feedback WHERE TenantId = {tenant:String} AND Timestamp >= {from:DateTime} AND ResponseId != '' AND TraceId = '')
    GROUP BY TenantId, ResponseId
) AS ri ON ri.TenantId = f.TenantId AND ri.ResponseId = f.ResponseId
SETTINGS join_use_nulls = 0;

-- Daily feedback figures (latest version of each feedback id, by the UTC day of that version). A plain view,
-- not a materialized one: a materialized view only sees the new version of a resubmitted feedback, never
-- the one it replaces, so it would count an update twice. Feedback volume is a small fraction of requests,
-- so deduplicating at read time is cheap. Feedback rate (feedback / requests) joins usage_cost_daily:
-- see clickhouse/queries/feedback_rate_and_ratings.sql.
CREATE VIEW IF NOT EXISTS feedback_daily AS
SELECT
    TenantId,
    toDate(Timestamp, 'UTC') AS Day,
    count() AS Feedback,
    countIf(Thumbs = 'up') AS ThumbsUp,
    countIf(Thumbs = 'down') AS ThumbsDown,
    countIf(Kind = 'rating') AS Ratings,
    countIf(Rating = 1) AS Rating1,
    countIf(Rating = 2) AS Rating2,
    countIf(Rating = 3) AS Rating3,
    countIf(Rating = 4) AS Rating4,
    countIf(Rating = 5) AS Rating5,
    avgIf(Rating, Kind = 'rating') AS AvgRating,
    countIf(Kind = 'score') AS Scores,
    avgIf(Value, Kind = 'score') AS AvgScore,
    avg(NormalizedScore) AS AvgNormalizedScore,
    countIf(Comment != '') AS WithComment,
    uniqExactIf(TraceId, TraceId != '') AS RequestsWithFeedback,
    uniqExactIf(UserId, UserId != '') AS Users
FROM feedback_latest
GROUP BY TenantId, Day;

-- Automated evaluations (gen_ai.evaluation.result events whose name is not user_feedback): append-only,
-- one row per evaluation result. Predicted / Actual hold prediction-outcome labels ("the model predicted X,
-- the outcome was Y"); Model is the evaluated model when the event names it.
CREATE TABLE IF NOT EXISTS evaluations (
    TenantId LowCardinality(String),
    EvaluationId String,
    Timestamp DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    Name LowCardinality(String),
    Value Nullable(Float64),
    Label String,
    Explanation String CODEC(ZSTD(3)),
    Predicted String,
    Actual String,
    Model LowCardinality(String),
    Evaluator LowCardinality(String),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ResponseId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_response_id ResponseId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (TenantId, toStartOfHour(Timestamp), Name, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(${RAW_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

-- Daily evaluation figures per evaluation name and evaluated model. ValueHistogram key k counts values v with
-- floor(v * 10) = k (for 0..1 scores: 0.1-wide bins, 1.0 in bin 10). Labels counts score labels.
CREATE TABLE IF NOT EXISTS evaluations_daily (
    TenantId LowCardinality(String),
    Day Date,
    Name LowCardinality(String),
    Model LowCardinality(String),
    ServiceName LowCardinality(String),
    Evaluations SimpleAggregateFunction(sum, UInt64),
    Scored SimpleAggregateFunction(sum, UInt64),
    ValueSum SimpleAggregateFunction(sum, Float64),
    ValueMin SimpleAggregateFunction(min, Nullable(Float64)),
    ValueMax SimpleAggregateFunction(max, Nullable(Float64)),
    ValueQuantiles AggregateFunction(quantiles(0.1, 0.25, 0.5, 0.75, 0.9), Nullable(Float64)),
    ValueHistogram SimpleAggregateFunction(sumMap, Map(Int32, UInt64)),
    Labels SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    Predictions SimpleAggregateFunction(sum, UInt64),
    CorrectPredictions SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, Name, Model, ServiceName)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS evaluations_daily_mv TO evaluations_daily AS
SELECT
    TenantId,
    toDate(Timestamp, 'UTC') AS Day,
    Name,
    Model,
    ServiceName,
    count() AS Evaluations,
    countIf(e.Value IS NOT NULL) AS Scored,
    sum(ifNull(e.Value, 0)) AS ValueSum,
    min(e.Value) AS ValueMin,
    max(e.Value) AS ValueMax,
    quantilesState(0.1, 0.25, 0.5, 0.75, 0.9)(e.Value) AS ValueQuantiles,
    sumMapIf(map(toInt32(floor(ifNull(e.Value, 0) * 10)), toUInt64(1)), e.Value IS NOT NULL) AS ValueHistogram,
    sumMapIf(map(e.Label, toUInt64(1)), e.Label != '') AS Labels,
    countIf(e.Predicted != '' AND e.Actual != '') AS Predictions,
    countIf(e.Predicted != '' AND e.Predicted = e.Actual) AS CorrectPredictions
FROM evaluations AS e
GROUP BY TenantId, Day, Name, Model, ServiceName;

-- Prediction outcomes, daily: a confusion matrix per evaluation name and model. Precision for label L =
-- sum(Count) where Predicted = Actual = L / sum(Count) where Predicted = L; recall divides by Actual = L.
CREATE TABLE IF NOT EXISTS prediction_outcomes_daily (
    TenantId LowCardinality(String),
    Day Date,
    Name LowCardinality(String),
    Model LowCardinality(String),
    Predicted String,
    Actual String,
    Count UInt64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (TenantId, Day, Name, Model, Predicted, Actual)
TTL Day + toIntervalDay(${ROLLUP_TTL_DAYS})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS prediction_outcomes_daily_mv TO prediction_outcomes_daily AS
SELECT
    TenantId,
    toDate(Timestamp, 'UTC') AS Day,
    Name,
    Model,
    Predicted,
    Actual,
    count() AS Count
FROM evaluations
WHERE Predicted != '' AND Actual != ''
GROUP BY TenantId, Day, Name, Model, Predicted, Actual;
