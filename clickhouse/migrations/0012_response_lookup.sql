-- Response id → trace lookups, rebuilt for point lookups. response_index (0006) used the default 8192-row
-- granules: a few hundred random response ids named by feedback touch nearly every granule, so resolving
-- them read the whole index (~150 ms at 1.6 M responses). response_lookup keeps the same columns with
-- 256-row granules, so the same lookup reads a few percent of it. The feedback views switch to it and the
-- old index is dropped (its rows are copied first).
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

INSERT INTO response_lookup SELECT * FROM response_index;

CREATE OR REPLACE VIEW feedback_latest AS
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

CREATE OR REPLACE VIEW feedback_in_range AS
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

DROP VIEW IF EXISTS response_index_mv;

DROP TABLE IF EXISTS response_index;
