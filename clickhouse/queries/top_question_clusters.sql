-- Top question clusters: groups of similar questions asked in the range, by volume, with distinct questions
-- (fingerprints), users, thumbs-down share of the thumbs feedback on them, empty-retrieval rate and
-- reformulation rate. Clusters come from the query sketch (64-bit SimHash, ragscope.query.sketch), no text:
-- each question (fingerprint) joins the cluster of the most-asked question, among the {candidates} most asked,
-- whose sketch is within {cluster_max_distance} bits of its own (ties: the smaller fingerprint); a question
-- near none of them is its own cluster. The cluster is named after that question: label = the captured query
-- text of one of its requests in the cluster when content capture recorded any (the job's TextCaptured flag, the
-- text from captured_query_texts, migration 0029), else the most frequent topic label (ragscope.query.topic) in
-- the cluster, else its fingerprint (label_source says which).
-- Signals as defined in conversation_turn_signals (migration 0026, docs/analytics.md).
-- Reads stored_turn_signals (migration 0027: the signals the conversation-signals job stored, thresholds from the
-- processor's RAGSCOPE_SIGNALS_* configuration); lags new data by at most one job interval (RAGSCOPE_SIGNALS_INTERVAL_SECONDS).
-- defaults: cluster_max_distance=12, candidates=200, limit=20
-- One pass: the signal view is read once, folded to one row per question, and the {candidates} leaders are
-- picked from that same array (a CTE referenced twice would be computed twice). The ranked clusters are a
-- scalar sub-query (evaluated once) that the text look-up (one trace per cluster) and the result both read.
WITH
    (
        SELECT groupArray((cluster, requests, questions, users, thumbs_feedback, thumbs_down, empty_retrieval_rate, reformulation_rate, topics, sample))
        FROM
        (
            SELECT
                cluster,
                sum(q.3) AS requests,
                count() AS questions,
                uniqExactArray(q.4) AS users,
                sum(q.5) AS thumbs_feedback,
                sum(q.6) AS thumbs_down,
                sum(q.7) / requests AS empty_retrieval_rate,
                sum(q.8) / requests AS reformulation_rate,
                sumMap(q.9, q.10) AS topic_counts,
                if(empty(topic_counts.1), [], [topic_counts.1[indexOf(topic_counts.2, arrayMax(topic_counts.2))]]) AS topics,
                anyIf(q.11, q.1 = cluster) AS sample
            FROM
            (
                -- Leaders as (fingerprint, sketch) only: ARRAY JOIN copies this array to every question's row.
                SELECT qs, arrayMap(x -> (x.1, x.2), arraySlice(arraySort(x -> (-toInt64(x.3), x.1), qs), 1, {candidates:UInt32})) AS leaders
                FROM
                (
                    SELECT groupArray((fp, sketch, n, users, thumbs_feedback, thumbs_down, empty_retrievals, reformulations, topic_keys, topic_counts, sample)) AS qs
                    FROM
                    (
                        SELECT
                            fp,
                            any(fp_topic_sketch) AS sketch,
                            sum(fp_topic_n) AS n,
                            groupUniqArrayArray(fp_topic_users) AS users,
                            sum(fp_topic_thumbs_feedback) AS thumbs_feedback,
                            sum(fp_topic_thumbs_down) AS thumbs_down,
                            sum(fp_topic_empty_retrievals) AS empty_retrievals,
                            sum(fp_topic_reformulations) AS reformulations,
                            groupArrayIf(topic, topic != '') AS topic_keys,
                            groupArrayIf(fp_topic_n, topic != '') AS topic_counts,
                            anyIf(fp_topic_sample, fp_topic_sample != '') AS sample
                        FROM
                        (
                            SELECT
                                QueryFingerprint AS fp,
                                QueryTopic AS topic,
                                any(assumeNotNull(QuerySketch)) AS fp_topic_sketch,
                                count() AS fp_topic_n,
                                groupUniqArrayIf(UserId, UserId != '') AS fp_topic_users,
                                sum(ThumbsFeedback) AS fp_topic_thumbs_feedback,
                                sum(ThumbsDown) AS fp_topic_thumbs_down,
                                sum(EmptyRetrieval) AS fp_topic_empty_retrievals,
                                sum(Reformulation) AS fp_topic_reformulations,
                                anyIf(TraceId, TextCaptured = 1) AS fp_topic_sample
                            FROM stored_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
                            WHERE QueryFingerprint != '' AND QuerySketch IS NOT NULL
                            GROUP BY fp, topic
                        )
                        GROUP BY fp
                    )
                )
            )
            ARRAY JOIN qs AS q
            -- The most-asked leader within the distance (ties: the smaller fingerprint), else the question itself.
            GROUP BY if(notEmpty(tupleElement(arrayFirst(l -> bitCount(bitXor(q.2, l.2)) <= {cluster_max_distance:UInt8}, leaders), 1) AS leader), leader, q.1) AS cluster
            ORDER BY requests DESC, cluster
            LIMIT {limit:UInt32}
        )
    ) AS ranked,
    -- The label's text: one look-up of at most {limit} traces (the leaders' captured requests).
    (
        SELECT mapFromArrays(groupArray(TraceId), groupArray(text))
        FROM
        (
            SELECT TraceId, any(QueryText) AS text
            FROM captured_query_texts
            WHERE TenantId = {tenant:String}
              AND TraceId IN (SELECT arrayJoin(arrayFilter(x -> x != '', arrayMap(r -> r.10, ranked))))
            GROUP BY TraceId
        )
    ) AS texts
SELECT
    t.1 AS cluster,
    multiIf(texts[t.10] != '', texts[t.10], notEmpty(t.9), t.9[1], cluster) AS label,
    multiIf(texts[t.10] != '', 'query_text', notEmpty(t.9), 'topic', 'fingerprint') AS label_source,
    t.2 AS requests,
    t.3 AS questions,
    t.4 AS users,
    t.5 AS thumbs_feedback,
    if(thumbs_feedback > 0, t.6 / thumbs_feedback, NULL) AS thumbs_down_share,
    t.7 AS empty_retrieval_rate,
    t.8 AS reformulation_rate
FROM (SELECT arrayJoin(ranked) AS t)
ORDER BY requests DESC, cluster;
