-- feedback_latest and feedback_in_range (0008) pick each feedback id's latest version with FINAL instead of a
-- GROUP BY with an argMax per column: the same rows (feedback is a ReplacingMergeTree(Version), and FINAL keeps
-- the row with the highest Version of each (TenantId, FeedbackId), as the argMax did), read by the engine's own
-- merge of the sorted parts instead of hashing every feedback id with 18 aggregate states.
-- Measured at 10 M spans (docs/benchmarks.md, "Named queries and the feedback join"): feedback_in_range over a
-- week alone, and the named queries that read it, in the same runs.
--
-- feedback_in_range keeps its meaning exactly: "versions given at or after `from`, the latest of them, if it was
-- given before `to`". The `from` bound is a PREWHERE, which the engine applies before FINAL merges versions (by
-- default: apply_prewhere_after_final = 0), so older versions are set aside before the latest is chosen, as the
-- GROUP BY's WHERE did; the `to` bound is a WHERE, applied to the latest version, as the HAVING did. (Version is
-- the time a version was given, in nanoseconds, for API and span-event feedback alike, so the latest version is
-- also the last given: the `from` bound applied after FINAL would give the same rows.)
-- In cluster mode feedback is sharded on FeedbackId (every version of an id on one shard), so FINAL on each
-- shard is FINAL over the whole table.
-- Same columns, names and types as before (the argMax forms returned the LowCardinality columns as String, so
-- these do too: a user's UNION or typed client keeps working); the response id → trace id link is unchanged.
CREATE OR REPLACE VIEW feedback_latest AS
SELECT
    f.TenantId AS TenantId,
    f.FeedbackId AS FeedbackId,
    f.Version AS LatestVersion,
    f.Timestamp AS Timestamp,
    CAST(f.Source AS String) AS Source,
    CAST(f.Name AS String) AS Name,
    CAST(f.Kind AS String) AS Kind,
    CAST(f.Thumbs AS String) AS Thumbs,
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
    CAST(f.ServiceName AS String) AS ServiceName
FROM feedback AS f FINAL
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
    f.Version AS LatestVersion,
    f.Timestamp AS Timestamp,
    CAST(f.Source AS String) AS Source,
    CAST(f.Name AS String) AS Name,
    CAST(f.Kind AS String) AS Kind,
    CAST(f.Thumbs AS String) AS Thumbs,
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
    CAST(f.ServiceName AS String) AS ServiceName
FROM
(
    SELECT *
    FROM feedback FINAL
    PREWHERE TenantId = {tenant:String} AND Timestamp >= {from:DateTime}
    WHERE Timestamp < {to:DateTime}
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
