-- Top question clusters: groups of similar questions asked in the range, by volume, with distinct questions
-- (fingerprints), users, thumbs-down share of the thumbs feedback on them, empty-retrieval rate and
-- reformulation rate. Clusters come from the query sketch (64-bit SimHash, ragscope.query.sketch), no text:
-- each question (fingerprint) joins the cluster of the most-asked question, among the {candidates} most asked,
-- whose sketch is within reformulation_max_distance bits of its own (ties: the smaller fingerprint); a question
-- near none of them is its own cluster. The cluster is named after that question: label = its captured query
-- text when content capture recorded it (otel_traces, a sample of its requests), else the most frequent topic
-- label (ragscope.query.topic) in the cluster, else its fingerprint (label_source says which).
-- Signals and thresholds as in conversation_turn_signals (migration 0026, docs/analytics.md).
-- defaults: repeat_window_min=10, reformulation_window_min=5, reformulation_max_distance=12, session_timeout_min=30, candidates=200, limit=20
WITH
    signals AS
    (
        SELECT TraceId, UserId, QueryFingerprint, assumeNotNull(QuerySketch) AS sketch, QueryTopic, EmptyRetrieval, Reformulation, ThumbsFeedback, ThumbsDown
        FROM conversation_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime}, repeat_window_min = {repeat_window_min:UInt32}, reformulation_window_min = {reformulation_window_min:UInt32}, reformulation_max_distance = {reformulation_max_distance:UInt8}, session_timeout_min = {session_timeout_min:UInt32})
        WHERE QueryFingerprint != '' AND QuerySketch IS NOT NULL
    ),
    questions AS
    (
        SELECT QueryFingerprint AS fp, any(sketch) AS sketch, count() AS n
        FROM signals
        GROUP BY fp
    ),
    leaders AS
    (
        SELECT fp, sketch, n FROM questions ORDER BY n DESC, fp LIMIT {candidates:UInt32}
    ),
    assigned AS
    (
        SELECT q.fp AS fp, argMin(l.fp, (-toInt64(l.n), l.fp)) AS cluster
        FROM questions AS q
        CROSS JOIN leaders AS l
        WHERE bitCount(bitXor(q.sketch, l.sketch)) <= {reformulation_max_distance:UInt8}
        GROUP BY q.fp
    ),
    top AS
    (
        SELECT
            if(a.cluster != '', a.cluster, s.QueryFingerprint) AS cluster,
            count() AS requests,
            uniqExact(s.QueryFingerprint) AS questions,
            uniqExactIf(s.UserId, s.UserId != '') AS users,
            sum(s.ThumbsFeedback) AS thumbs_feedback,
            sum(s.ThumbsDown) AS thumbs_down,
            avg(s.EmptyRetrieval) AS empty_retrieval_rate,
            avg(s.Reformulation) AS reformulation_rate,
            topKIf(1)(s.QueryTopic, s.QueryTopic != '') AS topics,
            groupArrayIf(50)(s.TraceId, s.QueryFingerprint = cluster) AS sample
        FROM signals AS s
        LEFT JOIN assigned AS a ON a.fp = s.QueryFingerprint
        GROUP BY cluster
        ORDER BY requests DESC, cluster
        LIMIT {limit:UInt32}
    ),
    texts AS
    (
        SELECT TraceId, anyIf(SpanAttributes['gen_ai.retrieval.query.text'], SpanAttributes['gen_ai.retrieval.query.text'] != '') AS text
        FROM otel_traces
        PREWHERE TraceId IN (SELECT arrayJoin(sample) FROM top)
        WHERE SpanName LIKE 'retrieval%'
          AND Timestamp >= {from:DateTime} - INTERVAL 1 DAY AND Timestamp < {to:DateTime} + INTERVAL 1 DAY
        GROUP BY TraceId
        HAVING text != ''
    )
SELECT
    t.cluster AS cluster,
    multiIf(x.text != '', x.text, notEmpty(t.topics), t.topics[1], t.cluster) AS label,
    multiIf(x.text != '', 'query_text', notEmpty(t.topics), 'topic', 'fingerprint') AS label_source,
    t.requests AS requests,
    t.questions AS questions,
    t.users AS users,
    t.thumbs_feedback AS thumbs_feedback,
    if(t.thumbs_feedback > 0, t.thumbs_down / t.thumbs_feedback, NULL) AS thumbs_down_share,
    t.empty_retrieval_rate AS empty_retrieval_rate,
    t.reformulation_rate AS reformulation_rate
FROM top AS t
LEFT JOIN
(
    SELECT c.cluster AS cluster, topK(1)(tx.text)[1] AS text
    FROM (SELECT cluster, arrayJoin(sample) AS TraceId FROM top) AS c
    INNER JOIN texts AS tx ON tx.TraceId = c.TraceId
    GROUP BY c.cluster
) AS x ON x.cluster = t.cluster
ORDER BY requests DESC, cluster
SETTINGS join_use_nulls = 0;
