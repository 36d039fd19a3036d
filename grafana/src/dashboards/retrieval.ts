import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barChartPanel, notePanel, statPanel, tablePanel, timeSeriesPanel } from '../panels.js';
import { periodStatSql, T } from '../sql.js';
import { filterClause, type FilterColumns } from '../variables.js';
import { DIFFERS } from '../named-queries.js';

/** retrieval_quality_hourly has no provider / model (retrieval is not a model call). */
const COLUMNS: FilterColumns = { tenant: 'TenantId', service: 'ServiceName', environment: 'Environment', experiment: 'Experiment' };
const where = () => `$__timeFilter(Hour) AND ${filterClause(COLUMNS)}`;

const stat = (name: string, value: (c: string) => string) =>
  periodStatSql({ name, table: T.retrievalHourly, timeColumn: 'Hour', value, columns: COLUMNS });

export function retrievalDashboard() {
  return buildDashboard({
    uid: UID.retrieval,
    title: 'ragscope / Retrieval quality',
    description: 'Relevance of retrieved documents, documents retrieved versus cited, citation usage, empty retrievals and invalid citations, by data source.',
    sections: [
      {
        panels: [
          statPanel({
            title: 'Average relevance',
            definition: DIFFERS.figure('retrieval_quality'),
            description: 'Mean score over every scored retrieved document.',
            sql: stat('avg relevance', (c) => `sumIf(RelevanceSum, ${c}) / nullIf(sumIf(RelevanceCount, ${c}), 0)`),
            decimals: 3,
            valueThresholds: [
              { value: null, color: 'red' },
              { value: 0.4, color: 'orange' },
              { value: 0.6, color: 'green' },
            ],
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Empty retrievals',
            definition: DIFFERS.figure('retrieval_quality'),
            description: 'Share of retrievals that returned no document.',
            sql: stat('empty', (c) => `sumIf(EmptyRetrievals, ${c}) / nullIf(sumIf(Retrievals, ${c}), 0)`),
            unit: 'percentunit',
            decimals: 1,
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 0.05, color: 'orange' },
              { value: 0.1, color: 'red' },
            ],
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Documents per retrieval',
            definition: DIFFERS.figure('retrieval_quality'),
            description: 'Documents returned per retrieval call.',
            sql: stat('docs / retrieval', (c) => `sumIf(Documents, ${c}) / nullIf(sumIf(Retrievals, ${c}), 0)`),
            decimals: 1,
            size: { w: 4, h: 4 },
          }),
          statPanel({
            title: 'Citation usage',
            definition: DIFFERS.figure('retrieval_quality'),
            description: 'Distinct documents cited by answers / documents retrieved.',
            sql: stat('cited / retrieved', (c) => `sumIf(CitedDocuments, ${c}) / nullIf(sumIf(Documents, ${c}), 0)`),
            unit: 'percentunit',
            decimals: 1,
            size: { w: 5, h: 4 },
          }),
          statPanel({
            title: 'Invalid citations',
            definition: DIFFERS.figure('retrieval_quality'),
            description: 'Citations pointing at no retrieved source (a hallucination indicator) / all citations.',
            sql: stat('invalid', (c) => `sumIf(InvalidCitations, ${c}) / nullIf(sumIf(Citations + InvalidCitations, ${c}), 0)`),
            unit: 'percentunit',
            decimals: 2,
            upIsBad: true,
            valueThresholds: [
              { value: null, color: 'green' },
              { value: 0.02, color: 'orange' },
              { value: 0.05, color: 'red' },
            ],
            size: { w: 5, h: 4 },
          }),
        ],
      },
      {
        panels: [
          notePanel('', 'Retrieval is not a model call: the **Provider** and **Model** filters do not apply on this dashboard.', { w: 24, h: 2 }),
          timeSeriesPanel({
            title: 'Relevance trend',
            definition: DIFFERS.interval('retrieval_quality'),
            description: 'Average document score and the median / 10th percentile of scores per interval.',
            sql: normalizeSql(`
              WITH quantilesTDigestMerge(0.1, 0.25, 0.5, 0.75, 0.9)(RelevanceQuantiles) AS q
              SELECT $__timeInterval(Hour) AS time, sum(RelevanceSum) / nullIf(sum(RelevanceCount), 0) AS average, q[3] AS median, q[1] AS p10
              FROM ${T.retrievalHourly}
              WHERE ${where()}
              GROUP BY time
              HAVING sum(Retrievals) > 0
              ORDER BY time
            `),
            decimals: 3,
            min: 0,
          }),
          barChartPanel({
            title: 'Relevance distribution',
            definition: DIFFERS.breakdown(),
            description: 'Retrieved documents per score bucket (0.1 wide).',
            sql: normalizeSql(`
              SELECT concat(toString(bin / 10), '–', toString((bin + 1) / 10)) AS score, documents
              FROM (
                SELECT arrayJoin(arrayZip(mapKeys(h), mapValues(h))) AS kv, kv.1 AS bin, kv.2 AS documents
                FROM (SELECT sumMap(RelevanceHistogram) AS h FROM ${T.retrievalHourly} WHERE ${where()})
              )
              ORDER BY bin
            `),
            unit: 'short',
            xField: 'score',
          }),
          timeSeriesPanel({
            title: 'Documents retrieved vs cited',
            definition: DIFFERS.interval('retrieval_quality'),
            description: 'Documents returned by retrievals and distinct documents cited by answers, per interval.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, sum(Documents) AS retrieved, sum(CitedDocuments) AS cited
              FROM ${T.retrievalHourly}
              WHERE ${where()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'short',
            bars: true,
          }),
          timeSeriesPanel({
            title: 'Empty-retrieval, citation-usage and invalid-citation rates',
            definition: DIFFERS.interval('retrieval_quality'),
            description: 'Per interval: retrievals with no document, cited / retrieved documents, invalid / all citations.',
            sql: normalizeSql(`
              SELECT
                $__timeInterval(Hour) AS time,
                sum(EmptyRetrievals) / nullIf(sum(Retrievals), 0) AS "empty retrievals",
                sum(CitedDocuments) / nullIf(sum(Documents), 0) AS "citation usage",
                sum(InvalidCitations) / nullIf(sum(Citations + InvalidCitations), 0) AS "invalid citations"
              FROM ${T.retrievalHourly}
              WHERE ${where()}
              GROUP BY time
              ORDER BY time
            `),
            unit: 'percentunit',
            min: 0,
          }),
        ],
      },
      {
        row: 'By data source',
        panels: [
          timeSeriesPanel({
            title: 'Average relevance by data source',
            definition: DIFFERS.interval(),
            description: 'Mean document score per data source.',
            sql: normalizeSql(`
              SELECT $__timeInterval(Hour) AS time, if(DataSourceId = '', '(unknown)', DataSourceId) AS source,
                     sum(RelevanceSum) / nullIf(sum(RelevanceCount), 0) AS relevance
              FROM ${T.retrievalHourly}
              WHERE ${where()} AND Retrievals > 0
              GROUP BY time, source
              ORDER BY time, source
            `),
            decimals: 3,
            seriesBy: 'source',
            min: 0,
          }),
          tablePanel({
            title: 'Data sources',
            definition: DIFFERS.breakdown(),
            description: 'Retrieval quality per data source over the range (citations are recorded on the answer, not per source: see the rates above).',
            sql: normalizeSql(`
              SELECT
                if(DataSourceId = '', '(unknown)', DataSourceId) AS data_source,
                sum(Retrievals) AS retrievals,
                sum(EmptyRetrievals) / nullIf(retrievals, 0) AS empty_rate,
                sum(Documents) / nullIf(retrievals, 0) AS docs_per_retrieval,
                sum(RelevanceSum) / nullIf(sum(RelevanceCount), 0) AS avg_relevance,
                sum(TopRelevanceSum) / nullIf(sum(ScoredRetrievals), 0) AS avg_top_score,
                sum(Reranks) AS reranks
              FROM ${T.retrievalHourly}
              WHERE ${where()}
              GROUP BY data_source
              HAVING retrievals > 0
              ORDER BY retrievals DESC
            `),
            columns: [
              { name: 'empty_rate', unit: 'percentunit', decimals: 1, display: 'color-text', thresholds: [{ value: null, color: 'green' }, { value: 0.05, color: 'orange' }, { value: 0.1, color: 'red' }] },
              { name: 'docs_per_retrieval', decimals: 1 },
              { name: 'avg_relevance', decimals: 3, display: 'gauge', min: 0, max: 1, thresholds: [{ value: null, color: 'red' }, { value: 0.4, color: 'orange' }, { value: 0.6, color: 'green' }] },
              { name: 'avg_top_score', decimals: 3 },
            ],
            size: { w: 12, h: 8 },
          }),
        ],
      },
    ],
  });
}
