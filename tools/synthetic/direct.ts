// Direct-to-store loading for big volumes (benchmarks): the same rows the processor would write, without
// HTTP. Spans go through the processor's own Pipeline (normalize → dedupe → price → rows) and feedback
// through its feedback module, then into ClickHouse in large inserts with the store's own row format
// (insertRows; materialized views fire exactly as they do for the processor's inserts).
import type { ClickHouseClient } from '@clickhouse/client';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import type { Row, TableName } from '../../processor/src/store/write-queue.js';
import { insertRows } from '../../processor/src/store/clickhouse.js';
import { feedbackInputFrom, toFeedbackRow, traceIdsForResponses, validateFeedback } from '../../processor/src/feedback/index.js';
import type { SynthDataset } from './model.js';
import { feedbackApiBodies, toDecodedLog, toDecodedSpan } from './otlp.js';
import { logRecordsOf, orderedSpans } from './send.js';

export interface DirectOptions {
  tenant?: string;
  /** User price file (RAGSCOPE_PRICES_FILE format). */
  pricesFile?: string;
  /** The store's raw retention: the pipeline refuses older spans (as the processor does). Default 30. */
  rawTtlDays?: number;
  /** Spans per insert. Default 50 000. */
  batchSpans?: number;
  /** Skip otel_traces (only genai_spans and the rollups). Default false. */
  skipTraces?: boolean;
  order?: 'natural' | 'children-first' | 'shuffled';
  onProgress?: (spansDone: number, spansTotal: number) => void;
  /** The clock the pipeline and the feedback checks read (ms). Default Date.now: tests pass their fixed instant. */
  now?: () => number;
  /** Return rejected spans in the stats instead of throwing. Default false: a load that loses spans fails. */
  allowRejected?: boolean;
}

export interface DirectStats {
  spans: number;
  /** Refused by the pipeline (e.g. older than the raw retention); non-zero only with allowRejected. */
  rejectedSpans: number;
  genaiRows: number;
  traceRows: number;
  logRows: number;
  feedbackRows: number;
  evaluationRows: number;
}

async function insert(client: ClickHouseClient, table: string, values: Row[]): Promise<void> {
  if (values.length === 0) return;
  await insertRows(client, table as TableName, values);
}

export async function loadDirect(client: ClickHouseClient, ds: SynthDataset, opts: DirectOptions = {}): Promise<DirectStats> {
  const tenant = opts.tenant ?? 'default';
  // Same retention rule as the processor's default: older spans would be dropped by the raw tables' TTL.
  const pipeline = new Pipeline({ priceBook: loadPriceBook(opts.pricesFile), tenant, dedupeCacheSize: 100_000, rawTtlDays: opts.rawTtlDays ?? 30, now: opts.now });
  const stats: DirectStats = { spans: 0, rejectedSpans: 0, genaiRows: 0, traceRows: 0, logRows: 0, feedbackRows: 0, evaluationRows: 0 };
  const spans = orderedSpans(ds, opts.order ?? 'natural');
  const batch = opts.batchSpans ?? 50_000;
  for (let i = 0; i < spans.length; i += batch) {
    const decoded = spans.slice(i, i + batch).map(toDecodedSpan);
    const out = pipeline.processSpans(decoded);
    const genai = out.rows.genai_spans ?? [];
    const traces = out.rows.otel_traces ?? [];
    await Promise.all([insert(client, 'genai_spans', genai), opts.skipTraces ? Promise.resolve() : insert(client, 'otel_traces', traces)]);
    stats.spans += decoded.length;
    stats.rejectedSpans += out.rejected;
    if (out.rejected > 0 && !opts.allowRejected) throw new Error(`loadDirect: the pipeline rejected ${out.rejected} span(s): ${out.errorMessage}`);
    stats.genaiRows += genai.length;
    if (!opts.skipTraces) stats.traceRows += traces.length;
    opts.onProgress?.(stats.spans, spans.length);
  }
  const logs = logRecordsOf(ds).map(toDecodedLog);
  for (let i = 0; i < logs.length; i += batch) {
    const out = pipeline.processLogs(logs.slice(i, i + batch));
    if (out.rejected > 0 && !opts.allowRejected) throw new Error(`loadDirect: the pipeline rejected ${out.rejected} log record(s): ${out.errorMessage}`);
    await insert(client, 'otel_logs', out.rows.otel_logs ?? []);
    await insert(client, 'feedback', out.rows.feedback ?? []);
    await insert(client, 'evaluations', out.rows.evaluations ?? []);
    stats.logRows += out.rows.otel_logs?.length ?? 0;
    stats.feedbackRows += out.rows.feedback?.length ?? 0;
    stats.evaluationRows += out.rows.evaluations?.length ?? 0;
  }
  // As POST /v1/feedback does: validate, then link response-only feedback to its (already stored) trace.
  const nowMs = (opts.now ?? Date.now)();
  const inputs = feedbackApiBodies(ds.feedback).map(({ body }) => {
    const v = validateFeedback(body, nowMs);
    if (!v.ok) throw new Error(`synthetic feedback rejected: ${JSON.stringify(v.fields)}`);
    return feedbackInputFrom(v.body, tenant, nowMs);
  });
  for (const input of inputs) if (input.traceId === '') input.traceId = pipeline.responses.get(input.responseId) ?? '';
  const traces = await traceIdsForResponses(client, tenant, inputs.filter((i) => i.traceId === '').map((i) => i.responseId));
  const apiRows: Row[] = [];
  for (const input of inputs) {
    if (input.traceId === '') input.traceId = traces.get(input.responseId) ?? '';
    apiRows.push(toFeedbackRow(input));
  }
  await insert(client, 'feedback', apiRows);
  stats.feedbackRows += apiRows.length;
  return stats;
}
