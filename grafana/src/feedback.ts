/** Feedback SQL shared by the Overview, Feedback and Experiments dashboards (reads `feedback_latest`). */
import { normalizeSql } from './clickhouse.js';
import { CHANGE_FIELD } from './panels.js';
import { FROM, PREV_FROM, requestDimensionFilter, T, TO } from './sql.js';
import { TENANT } from './variables.js';

/** Feedback rows of the dashboard's tenant and filters, given in [from, to]; `a` = table alias prefix. */
export function feedbackWhere(from: string = FROM, to: string = TO, a = ''): string {
  return normalizeSql(`
    ${a}TenantId = ${TENANT} AND ${a}Timestamp >= ${from} AND ${a}Timestamp <= ${to}
      AND ${requestDimensionFilter(`${a}TraceId`, `${from} - toIntervalDay(1)`, to)}
  `);
}

/** Thumbs-up share and its change versus the previous period. */
export function thumbsUpStatSql(): string {
  const cur = `Timestamp >= ${FROM}`;
  const prev = `Timestamp < ${FROM}`;
  return normalizeSql(`
    SELECT cur AS "Thumbs up", if(prev = 0 OR isNull(prev) OR isNaN(prev), NULL, cur / prev - 1) AS "${CHANGE_FIELD}"
    FROM (
      SELECT
        countIf(Thumbs = 'up' AND ${cur}) / nullIf(countIf(Thumbs IN ('up', 'down') AND ${cur}), 0) AS cur,
        countIf(Thumbs = 'up' AND ${prev}) / nullIf(countIf(Thumbs IN ('up', 'down') AND ${prev}), 0) AS prev
      FROM ${T.feedback}
      WHERE ${feedbackWhere(PREV_FROM).replace(/\n/g, '\n        ')}
    )
  `);
}
