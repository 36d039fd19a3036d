import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barChartPanel, CHANGE_FIELD, statPanel, tablePanel, timeSeriesPanel, traceLink } from '../panels.js';
import { feedbackWhere, thumbsUpStatSql } from '../feedback.js';
import { FROM, PREV_FROM, REQUEST_COLUMNS, requestsView, T, TO, TRACE_LINK_SQL } from '../sql.js';
import { filterClause, type FilterColumns } from '../variables.js';

/** evaluations_daily: per evaluation name, evaluated model and service. */
const EVAL_COLUMNS: FilterColumns = { tenant: 'TenantId', service: 'ServiceName', model: 'Model' };
/** prediction_outcomes_daily: per evaluation name and model. */
const PREDICTION_COLUMNS: FilterColumns = { tenant: 'TenantId', model: 'Model' };

const indent = (s: string, n: number) => s.replace(/\n/g, '\n' + ' '.repeat(n));

export function feedbackDashboard() {
  return buildDashboard({
    uid: UID.feedback,
    title: 'ragscope / Feedback & evaluations',
    description: 'User feedback (thumbs, ratings, comments), the low-rated requests behind it, automated evaluation scores and prediction accuracy, precision and recall.',
    sections: [
      {
        panels: [
          statPanel({
            title: 'Thumbs up',
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
            description: 'Requests with a thumbs down or a rating of 1-2.',
            sql: normalizeSql(`
              SELECT uniqExact(TraceId) AS "low rated"
              FROM ${T.feedback}
              WHERE (Thumbs = 'down' OR Rating <= 2) AND ${indent(feedbackWhere(), 8)}
            `),
            change: false,
            valueThresholds: [{ value: null, color: 'orange' }],
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Evaluations',
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
            description: 'Requests with a thumbs down or a rating of 1-2: query fingerprint, model, latency, retrieval relevance and the comment. Click the trace id to open the trace.',
            sql: normalizeSql(`
              SELECT
                f.Timestamp AS time, f.TraceId AS trace_id,
                multiIf(f.Thumbs = 'down', '👎', f.Rating IS NOT NULL, concat(toString(f.Rating), ' ★'), '') AS feedback,
                f.Comment AS comment, toString(r.QueryFingerprint) AS fingerprint, r.Model AS model,
                toFloat64(r.TotalMs) AS latency, r.AvgRelevance AS relevance, toString(r.ServiceName) AS service
              FROM ${T.feedback} AS f
              LEFT JOIN (
                SELECT TraceId, QueryFingerprint, Model, TotalMs, AvgRelevance, ServiceName
                FROM ${requestsView(`${FROM} - toIntervalDay(1)`, TO)}
              ) AS r ON r.TraceId = f.TraceId
              WHERE (f.Thumbs = 'down' OR f.Rating <= 2) AND ${indent(feedbackWhere(FROM, TO, 'f.'), 8)}
              ORDER BY time DESC
              LIMIT 200
              SETTINGS join_use_nulls = 1
            `),
            columns: [
              { name: 'trace_id', links: [traceLink(TRACE_LINK_SQL)], width: 290 },
              { name: 'latency', unit: 'ms', decimals: 0 },
              { name: 'relevance', decimals: 3 },
              { name: 'comment', width: 320 },
            ],
            size: { w: 16, h: 10 },
          }),
          tablePanel({
            title: 'Low-rated query fingerprints',
            description: 'Normalized queries that collect the most negative feedback.',
            sql: normalizeSql(`
              SELECT toString(r.QueryFingerprint) AS fingerprint, count() AS low_ratings, any(f.Comment) AS example_comment
              FROM ${T.feedback} AS f
              INNER JOIN (
                SELECT TraceId, QueryFingerprint FROM ${requestsView(`${FROM} - toIntervalDay(1)`, TO)} WHERE QueryFingerprint != ''
              ) AS r ON r.TraceId = f.TraceId
              WHERE (f.Thumbs = 'down' OR f.Rating <= 2) AND ${indent(feedbackWhere(FROM, TO, 'f.'), 8)}
              GROUP BY fingerprint
              ORDER BY low_ratings DESC
              LIMIT 20
            `),
            size: { w: 8, h: 10 },
          }),
        ],
      },
      {
        row: 'Evaluations',
        panels: [
          timeSeriesPanel({
            title: 'Evaluation scores by name',
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
            description: 'Prediction-outcome evaluations (predicted vs actual label): share of correct predictions per evaluation and model. The service filter does not apply: prediction outcomes are kept per evaluation and model.',
            sql: normalizeSql(`
              SELECT toString(Name) AS evaluation, toString(Model) AS model, sum(Count) AS predictions,
                     sumIf(Count, Predicted = Actual) / sum(Count) AS accuracy
              FROM ${T.predictionsDaily}
              WHERE $__dateFilter(Day) AND ${filterClause(PREDICTION_COLUMNS)}
              GROUP BY evaluation, model
              ORDER BY evaluation, model
            `),
            columns: [{ name: 'accuracy', unit: 'percentunit', decimals: 1, display: 'gauge', min: 0, max: 1, thresholds: [{ value: null, color: 'red' }, { value: 0.7, color: 'orange' }, { value: 0.9, color: 'green' }] }],
            size: { w: 10, h: 8 },
          }),
          tablePanel({
            title: 'Precision and recall per label',
            description: 'For each label L: precision = correct L / predicted L, recall = correct L / actual L, support = actual L. The service filter does not apply: prediction outcomes are kept per evaluation and model.',
            sql: normalizeSql(`
              SELECT toString(Name) AS evaluation, toString(Model) AS model, label,
                     sumIf(Count, Predicted = label AND Actual = label) / nullIf(sumIf(Count, Predicted = label), 0) AS precision,
                     sumIf(Count, Predicted = label AND Actual = label) / nullIf(sumIf(Count, Actual = label), 0) AS recall,
                     sumIf(Count, Actual = label) AS support
              FROM ${T.predictionsDaily}
              ARRAY JOIN arrayDistinct([Predicted, Actual]) AS label
              WHERE $__dateFilter(Day) AND ${filterClause(PREDICTION_COLUMNS)}
              GROUP BY evaluation, model, label
              ORDER BY evaluation, model, label
            `),
            columns: [
              { name: 'precision', unit: 'percentunit', decimals: 1 },
              { name: 'recall', unit: 'percentunit', decimals: 1 },
            ],
            size: { w: 14, h: 8 },
          }),
        ],
      },
    ],
  });
}
