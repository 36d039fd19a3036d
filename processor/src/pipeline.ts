// receive → normalize → derive → store: turns decoded OTLP into rows for the write queue.
import type { CostResult, DecodedLogRecord, DecodedSpan, GenAiRecord } from './model.js';
import { MODEL_CALL_OPERATIONS } from './model.js';
import { normalizeSpan, UsageDeduplicator, type SpanRecordPair } from './normalize/index.js';
import { computeCost, type PriceBook } from './derive/index.js';
import { toLogRow } from './store/rows.js';
import { TraceLineRow } from './store/row-lines.js';
import { GenAiLineRow } from './store/genai-spans-columns.js';
import type { Row, RowsByTable } from './store/write-queue.js';
import type { ProcessorMetrics } from './metrics.js';
import { systemClock, type Clock } from './clock.js';
import { evaluationEventRows, ResponseTraceCache } from './feedback/index.js';
import { logKey, spanKey } from './receive/recent-keys.js';
import { unstorableReason } from './store/storable.js';
import { RAGSCOPE_ATTRIBUTES } from './normalize/ragscope-attributes.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);
/** How many rejection reasons are spelled out in a partial-success message. */
const MAX_REASONS = 5;

export interface ProcessedBatch {
  /** The rows, the line tables' as their text (strings). */
  readonly rows: RowsByTable;
  /**
   * The same rows for the write queue when they differ: otel_traces and genai_spans as line rows
   * (store/json-bytes.ts LineRow) the write-ahead-log record writes straight into its bytes.
   */
  queueRows?: RowsByTable;
  accepted: number;
  rejected: number;
  /** Human-readable reasons for rejected items (partial_success.error_message). */
  errorMessage: string;
  /** Rejected items per reason, for metrics. */
  rejectedByReason: Record<string, number>;
  /** Keys (receive/recent-keys.ts) of the accepted items. */
  keys: string[];
  /** Forgets what this batch taught the pipeline's memories: call it when the rows were not stored. */
  forget(): void;
  /** The accepted spans with what was derived from them (GenAI spans only), for forwarding (forward/). */
  spans?: DerivedSpan[];
}

export interface DerivedSpan {
  span: DecodedSpan;
  record: GenAiRecord | null;
  cost: CostResult | null;
}

/**
 * `traceId` when the span before had the same one, already checked: a request's spans mostly share a trace, and
 * the protobuf decoder hands them one string (receive/protobuf-reader.ts traceIdHex), so the check is a
 * reference compare instead of a regular expression per span.
 */
export function invalidSpanReason(span: DecodedSpan, checkedTraceId: string | null = null): string | null {
  if (span.traceId !== checkedTraceId && (!HEX32.test(span.traceId) || span.traceId === ZERO32)) {
    return `invalid trace_id "${span.traceId}" (want 32 hex digits, not all zero)`;
  }
  if (!HEX16.test(span.spanId) || span.spanId === ZERO16) return `invalid span_id "${span.spanId}" (want 16 hex digits, not all zero)`;
  if (span.parentSpanId !== '' && !HEX16.test(span.parentSpanId)) return `invalid parent_span_id "${span.parentSpanId}" (want 16 hex digits or empty)`;
  return null;
}

export interface PipelineDeps {
  priceBook: PriceBook;
  /** The tenant of calls that name none (no API keys configured: RAGSCOPE_TENANT). */
  tenant: string;
  dedupeCacheSize: number;
  /** Spans starting before now − rawTtlDays would be dropped by the table TTL on insert: refuse them openly. */
  rawTtlDays: number;
  metrics?: ProcessorMetrics;
  now?: Clock;
}

/** What the pipeline remembers across batches, kept per tenant: one tenant's spans never mark another's usage. */
interface TenantMemory {
  dedupe: UsageDeduplicator;
  /** Response id → trace id of recent GenAI spans: links response-only feedback at write time (feedback/). */
  responses: ResponseTraceCache;
}

/**
 * A span batch's ProcessedBatch. A class, not an object literal with a `get rows()` closing over the rows: with
 * the literal, every batch's spans, records and rows outlived their scavenges and were promoted to the old
 * generation (472 MB promoted in 1,500 batches of 512 spans, scavenge pauses 4.4 s; with this class 27 MB and
 * 0.46 s: `node --trace-gc-nvp`, docs/benchmarks.md), as if the getter's context stayed reachable until the next
 * full collection.
 */
class SpanBatch implements ProcessedBatch {
  private lines: RowsByTable | undefined;
  readonly queueRows: RowsByTable;
  readonly accepted: number;

  constructor(
    private readonly traceRows: Row[],
    private readonly genaiRows: Row[],
    readonly rejected: number,
    readonly errorMessage: string,
    readonly rejectedByReason: Record<string, number>,
    readonly keys: string[],
    readonly forget: () => void,
    readonly spans: DerivedSpan[],
  ) {
    this.queueRows = { otel_traces: traceRows, genai_spans: genaiRows };
    this.accepted = traceRows.length;
  }

  /** The line tables' rows as their text, made on first use (tests, tools; the write queue takes queueRows). */
  get rows(): RowsByTable {
    return (this.lines ??= { otel_traces: this.traceRows.map(String), genai_spans: this.genaiRows.map(String) });
  }
}

export class Pipeline {
  private readonly memories = new Map<string, TenantMemory>();
  private readonly now: Clock;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? systemClock;
  }

  /** The default tenant's response → trace cache. */
  get responses(): ResponseTraceCache {
    return this.memory(this.deps.tenant).responses;
  }

  responsesFor(tenant: string): ResponseTraceCache {
    return this.memory(tenant).responses;
  }

  private memory(tenant: string): TenantMemory {
    let memory = this.memories.get(tenant);
    if (!memory) {
      memory = { dedupe: new UsageDeduplicator(this.deps.dedupeCacheSize), responses: new ResponseTraceCache(100_000) };
      this.memories.set(tenant, memory);
    }
    return memory;
  }

  processSpans(spans: DecodedSpan[], tenant: string = this.deps.tenant): ProcessedBatch {
    const memory = this.memory(tenant);
    // Span rows are written as JSONCompactEachRow lines (store/row-lines.ts): much cheaper than row objects.
    const traceRows: Row[] = [];
    // Non-GenAI spans ride along with record null: dedupe walks through them from wrapper to model call.
    const pairs: (SpanRecordPair & { index: number })[] = [];
    const reasons: string[] = [];
    const keys: string[] = [];
    const rejectedByReason: Record<string, number> = {};
    let rejected = 0;
    const reject = (i: number, kind: string, reason: string) => {
      rejected++;
      rejectedByReason[kind] = (rejectedByReason[kind] ?? 0) + 1;
      if (reasons.length < MAX_REASONS) reasons.push(`span ${i} "${spans[i].name}": ${reason}`);
    };
    const retentionDays = this.deps.rawTtlDays;
    const oldestAllowedNs = BigInt(this.now() - retentionDays * 86_400_000) * 1_000_000n;

    let checkedTraceId: string | null = null;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i];
      const reason = invalidSpanReason(span, checkedTraceId);
      if (reason) {
        reject(i, 'invalid_id', reason);
        continue;
      }
      checkedTraceId = span.traceId;
      if (span.startTimeUnixNano < oldestAllowedNs) {
        const started = new Date(Number(span.startTimeUnixNano / 1_000_000n)).toISOString();
        reject(i, 'expired', `starts ${started}, older than the ${retentionDays}-day retention (RAGSCOPE_RAW_TTL_DAYS)`);
        continue;
      }
      pairs.push({ span, record: normalizeSpan(span), index: i });
    }

    const forget = memory.dedupe.markBatch(pairs);
    const { metrics, priceBook } = this.deps;
    const genaiRows: Row[] = [];
    const derived: DerivedSpan[] = [];
    const tally = metrics ? new GenAiTally(metrics) : null;
    for (const { span, record, index } of pairs) {
      let cost: CostResult | null = null;
      if (record) {
        cost = computeCost(record, Number(span.startTimeUnixNano / 1_000_000n), priceBook);
        const unstorable = unstorableReason(record, cost);
        if (unstorable) {
          reject(index, 'unstorable_value', unstorable);
          continue;
        }
        if (record.answerConfidenceIgnored) {
          // The span is stored without the value: a warning in partial_success (nothing rejected), and counted.
          if (reasons.length < MAX_REASONS) reasons.push(`span ${index} "${span.name}": ${record.answerConfidenceIgnored}`);
          metrics?.attributesIgnored.inc({ attribute: RAGSCOPE_ATTRIBUTES.ANSWER_CONFIDENCE });
        }
        tally?.count(record, cost.source);
        genaiRows.push(new GenAiLineRow(span, record, cost, tenant));
        if (record.responseId !== '') memory.responses.set(record.responseId, span.traceId);
      }
      traceRows.push(new TraceLineRow(span, tenant));
      keys.push(spanKey(span));
      derived.push({ span, record, cost });
    }

    tally?.report();
    if (rejected > reasons.length) reasons.push(`and ${rejected - reasons.length} more`);
    return new SpanBatch(traceRows, genaiRows, rejected, reasons.join('; '), rejectedByReason, keys, forget, derived);
  }

  processLogs(logs: DecodedLogRecord[], tenant: string = this.deps.tenant): ProcessedBatch {
    const { responses } = this.memory(tenant);
    return {
      // gen_ai.evaluation.result events also become feedback / evaluations rows (processor/src/feedback).
      rows: { otel_logs: logs.map((log) => toLogRow(log, tenant)), ...evaluationEventRows(logs, tenant, (id) => responses.get(id), this.now()) },
      accepted: logs.length,
      rejected: 0,
      errorMessage: '',
      rejectedByReason: {},
      keys: logs.map(logKey),
      forget: () => undefined,
    };
  }
}

/**
 * A batch's GenAI span counts by metric label, added to the counters once per batch: a labelled prom-client
 * `inc` costs ~120 ns (it hashes the labels), once per span that was a visible share of the main thread.
 */
class GenAiTally {
  private readonly byOperation = new Map<string, number>();
  private withoutUsage = 0;
  private readonly unpriced = new Map<string, { provider: string; model: string; count: number }>();

  constructor(private readonly metrics: ProcessorMetrics) {}

  count(record: GenAiRecord, costSource: string): void {
    this.byOperation.set(record.operation, (this.byOperation.get(record.operation) ?? 0) + 1);
    if (!MODEL_CALL_OPERATIONS.has(record.operation)) return;
    if (record.inputTokens === null && record.outputTokens === null) this.withoutUsage++;
    if (costSource === 'unpriced') {
      const model = record.responseModel || record.requestModel;
      const key = `${record.provider}\u0000${model}`;
      const entry = this.unpriced.get(key);
      if (entry) entry.count++;
      else this.unpriced.set(key, { provider: record.provider, model, count: 1 });
    }
  }

  report(): void {
    const metrics = this.metrics;
    for (const [operation, count] of this.byOperation) metrics.genaiSpans.inc({ operation }, count);
    if (this.withoutUsage > 0) metrics.spansWithoutUsage.inc(this.withoutUsage);
    for (const { provider, model, count } of this.unpriced.values()) metrics.unpricedSpans.inc({ provider, model }, count);
  }
}
