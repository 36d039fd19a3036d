import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barChartPanel, CHANGE_FIELD, statPanel, tablePanel, timeSeriesPanel, traceLink } from '../panels.js';
import { feedbackWhere, thumbsUpStatSql } from '../feedback.js';
import { FROM, PREV_FROM, REQUEST_COLUMNS, requestDimensionFilter, requestsView, T, TO, TRACE_LINK_SQL } from '../sql.js';
import { confidenceThresholdVariable, filterClause, TENANT, type FilterColumns } from '../variables.js';
import { DIFFERS, NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';
import { implicitVersusExplicitPanels } from './conversations.js';

/** evaluations_daily: per evaluation name, evaluated model and service. */
const EVAL_COLUMNS: FilterColumns = { tenant: 'TenantId', service: 'ServiceName', model: 'Model' };

const indent = (s: string, n: number) => s.replace(/\n/g, '\n' + ' '.repeat(n));

/** The shared definition of low-rated feedback (migration 0020) over the dashboard range. */
const lowRatedFeedback = () => `low_rated_feedback(tenant = ${TENANT}, from = ${FROM}, to = ${TO})`;

export function feedbackDashboard() {
  return buildDashboard({
    uid: UID.feedback,
    title: 'ragscope / Feedback & evaluations',
    description: 'User feedback (thumbs, ratings, comments), the low-rated requests behind it, answer confidence, automated evaluation scores and prediction accuracy, precision and recall.',
    extraVariables: [confidenceThresholdVariable()],
    sections: [
      {
        panels: [
          statPanel({
            title: 'Thumbs up',
            definition: DIFFERS.figure('feedback_rate_and_ratings'),
            description: 'Thumbs up / (up + down), latest version of each feedback.',
            sql: thumbsUpStatSql(),
            unit: 'percentunit',
            decimals: 1,
            valueThresholds: [
              { value: null, color: 'red' },
              { value: 0.6, color: 'orange' },
              { value: 0.8, color: 'green' },
            ],
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Feedback rate',
            definition: DIFFERS.figure('feedback_rate_and_ratings'),
            description: 'Requests that received feedback / requests.',
            sql: normalizeSql(`
              SELECT
                (SELECT uniqExactIf(TraceId, TraceId != '') FROM ${T.feedback} WHERE ${indent(feedbackWhere(), 16)})
                / nullIf((SELECT count() FROM ${requestsView()} WHERE ${filterClause(REQUEST_COLUMNS)}), 0) AS "feedback rate"
            `),
            unit: 'percentunit',
            decimals: 1,
            change: false,
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Average rating',
            definition: DIFFERS.figure('feedback_rate_and_ratings'),
            description: 'Mean star rating (1-5) and its change versus the previous period.',
            sql: normalizeSql(`
              SELECT cur AS "rating", if(prev = 0 OR isNull(prev) OR isNaN(prev), NULL, cur / prev - 1) AS "${CHANGE_FIELD}"
              FROM (
                SELECT avgIf(Rating, Kind = 'rating' AND Timestamp >= ${FROM}) AS cur, avgIf(Rating, Kind = 'rating' AND Timestamp < ${FROM}) AS prev
                FROM ${T.feedback}
                WHERE ${indent(feedbackWhere(PREV_FROM), 16)}
              )
            `),
            decimals: 2,
            valueThresholds: [
              { value: null, color: 'red' },
              { value: 3, color: 'orange' },
              { value: 4, color: 'green' },
            ],
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Low-rated requests',
            description: 'Requests with negative feedback given in the range (latest version of each feedback: thumbs down, rating 1-2 or score below 0.4): the definition the Low-rated requests table (named query low_rated_requests) uses; the table lists the newest of them.',
            definition: { view: 'low_rated_feedback' },
            sql: normalizeSql(`
              SELECT uniqExact(TraceId) AS "low rated"
              FROM ${lowRatedFeedback()}
              WHERE ${indent(requestDimensionFilter('TraceId', `${FROM} - toIntervalDay(7)`), 8)}
            `),
            change: false,
            valueThresholds: [{ value: null, color: 'orange' }],
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Evaluations',
            definition: DIFFERS.figure('evaluation_score_distribution'),
            description: 'Automated evaluation results in the range (gen_ai.evaluation.result events).',
            sql: normalizeSql(`
              SELECT sum(Evaluations) AS "evaluations", sum(ValueSum) / nullIf(sum(Scored), 0) AS "mean score"
              FROM ${T.evaluationsDaily}
              WHERE $__dateFilter(Day) AND ${filterClause(EVAL_COLUMNS)}
            `),
            change: false,
            decimals: 2,
            size: { w: 5, h: 4 },
          }),
        ],
      },
      {
        row: 'User feedback',
        panels: [
          timeSeriesPanel({
            title: 'Thumbs-up ratio',
            definition: DIFFERS.interval('feedback_rate_and_ratings'),
            description: 'Thumbs up / (up + down) per interval.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Timestamp) AS time, countIf(Thumbs = 'up') / countIf(Thumbs IN ('up', 'down')) AS "thumbs up"
              FROM ${T.feedback}
              WHERE ${indent(feedbackWhere(), 6)}
              GROUP BY time
              HAVING countIf(Thumbs IN ('up', 'down')) > 0
              ORDER BY time
            `),
            unit: 'percentunit',
            min: 0,
            max: 1,
            size: { w: 6, h: 8 },
          }),
          timeSeriesPanel({
            title: 'Feedback volume',
            definition: DIFFERS.interval('feedback_rate_and_ratings'),
            description: 'Thumbs up, thumbs down, ratings and comments per interval.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Timestamp) AS time,
                     countIf(Thumbs = 'up') AS "thumbs up", countIf(Thumbs = 'down') AS "thumbs down",
                     countIf(Kind = 'rating') AS ratings, countIf(Comment != '') AS comments
              FROM ${T.feedback}
              WHERE ${indent(feedbackWhere(), 6)}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'short',
            bars: true,
            stacked: true,
            size: { w: 6, h: 8 },
            overrides: [
              { name: 'thumbs up', properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }] },
              { name: 'thumbs down', properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }] },
            ],
          }),
          barChartPanel({
            title: 'Rating distribution',
            definition: DIFFERS.breakdown('feedback_rate_and_ratings'),
            description: 'Ratings per star.',
            sql: normalizeSql(`
              SELECT concat(toString(stars), ' ★') AS rating, countIf(Rating = stars) AS ratings
              FROM ${T.feedback}
              ARRAY JOIN [1, 2, 3, 4, 5] AS stars
              WHERE Kind = 'rating' AND ${indent(feedbackWhere(), 6)}
              GROUP BY stars
              ORDER BY stars
            `),
            unit: 'short',
            xField: 'rating',
            size: { w: 6, h: 8 },
          }),
          timeSeriesPanel({
            title: 'Feedback rate',
            definition: DIFFERS.interval('feedback_rate_and_ratings'),
            description: 'Requests that received feedback / requests, per interval.',
            sql: normalizeSql(`
              SELECT r.time AS time, ifNull(f.with_feedback, 0) / r.requests AS "feedback rate"
              FROM (
                SELECT $__timeInterval(StartTime) AS time, count() AS requests
                FROM ${requestsView()}
                WHERE ${filterClause(REQUEST_COLUMNS)}
                GROUP BY time
                HAVING requests > 0
              ) AS r
              LEFT JOIN (
                SELECT $__timeInterval(Timestamp) AS time, uniqExactIf(TraceId, TraceId != '') AS with_feedback
                FROM ${T.feedback}
                WHERE ${indent(feedbackWhere(), 8)}
                GROUP BY time
              ) AS f ON f.time = r.time
              ORDER BY time
              SETTINGS join_use_nulls = 1
            `),
            unit: 'percentunit',
            min: 0,
            size: { w: 6, h: 8 },
          }),
          tablePanel({
            title: 'Low-rated requests',
            description: 'The newest requests with negative feedback (thumbs down, rating 1-2 or score below 0.4): query fingerprint and text, model, latency, retrieval relevance, cost and the comment. Click the trace id to open the trace. Only the tenant and the time range apply: the service filter does not apply and the other dashboard filters do not apply either (the named query takes none).',
            definition: { namedQuery: 'low_rated_requests' },
            // The named query's own rows and order; only the column types become ones the plugin turns into
            // plain fields (rollup columns are SimpleAggregateFunction(...), tags an array).
            sql: normalizeSql(`
              SELECT feedback_time, trace_id, kind, thumbs, rating, value, comment, arrayStringConcat(tags, ', ') AS tags, user_id,
                     toString(query_fingerprint) AS query_fingerprint, query_text, toString(feature) AS feature, model,
                     toString(variant) AS variant, avg_relevance, toFloat64(cost_usd) AS cost_usd, toFloat64(total_ms) AS total_ms, has_error
              FROM (
                ${indent(namedQuerySql('low_rated_requests'), 16)}
              )
              ORDER BY feedback_time DESC, trace_id
            `),
            columns: [
              { name: 'trace_id', links: [traceLink(TRACE_LINK_SQL)], width: 290 },
              { name: 'total_ms', unit: 'ms', decimals: 0 },
              { name: 'avg_relevance', decimals: 3 },
              { name: 'cost_usd', unit: 'currencyUSD', decimals: 4 },
              { name: 'comment', width: 320 },
            ],
            size: { w: 16, h: 10 },
          }),
          tablePanel({
            title: 'Low-rated query fingerprints',
            description: 'Normalized queries that collect the most negative feedback (the low-rated requests of the range, requests looked up up to 7 days before it, as in the low_rated_requests query).',
            definition: { view: 'low_rated_feedback' },
            sql: normalizeSql(`
              SELECT toString(r.QueryFingerprint) AS fingerprint, count() AS low_ratings, any(f.Comment) AS example_comment
              FROM ${lowRatedFeedback()} AS f
              INNER JOIN (
                SELECT TraceId, QueryFingerprint FROM ${requestsView(`${FROM} - toIntervalDay(7)`, TO)} WHERE QueryFingerprint != ''
              ) AS r ON r.TraceId = f.TraceId
              WHERE ${indent(requestDimensionFilter('f.TraceId', `${FROM} - toIntervalDay(7)`), 8)}
              GROUP BY fingerprint
              ORDER BY low_ratings DESC, fingerprint
              LIMIT 20
            `),
            size: { w: 8, h: 10 },
          }),
        ],
      },
      {
        row: 'Answer confidence',
        panels: [
          statPanel({
            title: 'Low-confidence answers',
            definition: DIFFERS.figure('low_confidence_requests'),
            description: 'Share of the answers in the range (requests that recorded ragscope.answer.confidence) whose confidence is below the threshold selected above ($confidence_threshold); the alert "Low-confidence answers" watches the same share over the last hour.',
            sql: normalizeSql(`
              SELECT countIf(Confidence < toFloat64($confidence_threshold)) / nullIf(count(), 0) AS "low confidence"
              FROM ${requestsView()}
              WHERE Confidence IS NOT NULL AND ${filterClause(REQUEST_COLUMNS)}
            `),
            unit: 'percentunit',
            decimals: 1,
            change: false,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 0.3, color: 'orange' },
              { value: 0.5, color: 'red' },
            ],
            size: { w: 5, h: 8 },
          }),
          barChartPanel({
            title: 'Confidence distribution',
            definition: { namedQuery: 'confidence_distribution' },
            description: 'Answers per confidence bucket (0.1 wide; 1.0 in the last bucket).' + NAMED_QUERY_FILTERS_NOTE,
            sql: normalizeSql(`
              SELECT concat(toString(bucket_from), '–', toString(bucket_to)) AS confidence, requests AS answers
              FROM (
                ${indent(namedQuerySql('confidence_distribution'), 16)}
              )
              ORDER BY bucket_from
            `),
            unit: 'short',
            xField: 'confidence',
            size: { w: 9, h: 8 },
          }),
          tablePanel({
            title: 'Confidence by rating',
            definition: { namedQuery: 'confidence_by_rating' },
            description: 'For the feedback given in the range: average answer confidence per thumbs / rating / score bucket, and the share of rated answers below $confidence_threshold. A useful confidence is high where users are happy.' + NAMED_QUERY_FILTERS_NOTE,
            sql: namedQuerySql('confidence_by_rating', {}, { threshold: 'toFloat64($confidence_threshold)' }),
            columns: [
              { name: 'avg_confidence', decimals: 3 },
              { name: 'low_confidence_share', unit: 'percentunit', decimals: 1 },
            ],
            size: { w: 10, h: 8 },
          }),
          tablePanel({
            title: 'Low-confidence requests',
            definition: { namedQuery: 'low_confidence_requests' },
            description: 'The newest requests whose answer confidence is below $confidence_threshold, with feature, model, relevance and latency. Click the trace id to open the trace.' + NAMED_QUERY_FILTERS_NOTE,
            // The named query's rows and order; rollup column types (SimpleAggregateFunction(...)) become plain ones.
            sql: normalizeSql(`
              SELECT CAST(start_time AS DateTime64(6, 'UTC')) AS start_time, trace_id, confidence, toString(feature) AS feature, model,
                     toString(variant) AS variant, toString(user_id) AS user_id, toString(query_fingerprint) AS query_fingerprint,
                     avg_relevance, toFloat64(total_ms) AS total_ms, has_error
              FROM (
                ${indent(namedQuerySql('low_confidence_requests', {}, { threshold: 'toFloat64($confidence_threshold)' }), 16)}
              )
              ORDER BY start_time DESC, trace_id
            `),
            columns: [
              { name: 'trace_id', links: [traceLink(TRACE_LINK_SQL)], width: 290 },
              { name: 'confidence', decimals: 3 },
              { name: 'total_ms', unit: 'ms', decimals: 0 },
              { name: 'avg_relevance', decimals: 3 },
            ],
            size: { w: 24, h: 10 },
          }),
        ],
      },
      {
        row: 'Evaluations',
        panels: [
          timeSeriesPanel({
            title: 'Evaluation scores by name',
            definition: DIFFERS.interval('evaluation_score_distribution'),
            description: 'Daily mean score of each automated evaluation (faithfulness, relevance, ...).',
            sql: normalizeSql(`
              SELECT toDateTime(Day) AS time, toString(Name) AS evaluation, sum(ValueSum) / sum(Scored) AS score
              FROM ${T.evaluationsDaily}
              WHERE $__dateFilter(Day) AND ${filterClause(EVAL_COLUMNS)}
              GROUP BY time, evaluation
              HAVING sum(Scored) > 0
              ORDER BY time, evaluation
            `),
            minInterval: '1d',
            seriesBy: 'evaluation',
            decimals: 3,
            size: { w: 12, h: 8 },
          }),
          tablePanel({
            title: 'Evaluation score distribution',
            definition: DIFFERS.breakdown('evaluation_score_distribution'),
            description: 'Per evaluation and model: count, mean and quantiles of the score.',
            sql: normalizeSql(`
              WITH quantilesMerge(0.1, 0.25, 0.5, 0.75, 0.9)(ValueQuantiles) AS q
              SELECT toString(Name) AS evaluation, toString(Model) AS model, sum(Evaluations) AS evaluations,
                     sum(ValueSum) / nullIf(sum(Scored), 0) AS mean, q[1] AS p10, q[3] AS median, q[5] AS p90,
                     min(ValueMin) AS min, max(ValueMax) AS max
              FROM ${T.evaluationsDaily}
              WHERE $__dateFilter(Day) AND ${filterClause(EVAL_COLUMNS)}
              GROUP BY evaluation, model
              HAVING sum(Scored) > 0
              ORDER BY evaluation, model
            `),
            decimals: 3,
            columns: [{ name: 'evaluations', decimals: 0 }],
            size: { w: 12, h: 8 },
          }),
          tablePanel({
            title: 'Prediction accuracy',
            definition: { namedQuery: 'prediction_precision_recall' },
            description: 'Prediction-outcome evaluations (predicted vs actual label): share of correct predictions per evaluation and model (the accuracy column of prediction_precision_recall, one row per evaluation and model).' + NAMED_QUERY_FILTERS_NOTE,
            sql: normalizeSql(`
              SELECT toString(name) AS evaluation, toString(model) AS model, sum(predicted) AS predictions, any(accuracy) AS accuracy
              FROM (
                ${namedQuerySql('prediction_precision_recall').replace(/\n/g, '\n                ')}
              )
              GROUP BY evaluation, model
              ORDER BY evaluation, model
            `),
            columns: [{ name: 'accuracy', unit: 'percentunit', decimals: 1, display: 'gauge', min: 0, max: 1, thresholds: [{ value: null, color: 'red' }, { value: 0.7, color: 'orange' }, { value: 0.9, color: 'green' }] }],
            size: { w: 10, h: 8 },
          }),
          tablePanel({
            title: 'Precision and recall per label',
            definition: { namedQuery: 'prediction_precision_recall' },
            description: 'For each evaluation, model and label L: true positives, predicted and actual counts, precision = correct L / predicted L, recall = correct L / actual L, F1, and the overall accuracy.' + NAMED_QUERY_FILTERS_NOTE,
            sql: namedQuerySql('prediction_precision_recall'),
            columns: [
              { name: 'precision', unit: 'percentunit', decimals: 1 },
              { name: 'recall', unit: 'percentunit', decimals: 1 },
              { name: 'f1', decimals: 3 },
              { name: 'accuracy', unit: 'percentunit', decimals: 1 },
            ],
            size: { w: 14, h: 8 },
          }),
        ],
      },
      {
        row: 'Implicit vs explicit feedback',
        panels: implicitVersusExplicitPanels(),
      },
    ],
  });
}
