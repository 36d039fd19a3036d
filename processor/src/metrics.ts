import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The processor's own telemetry, served as Prometheus text on GET /metrics. */
export class ProcessorMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'ragscope_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly forwarded = new Counter({
    name: 'ragscope_forwarded_total',
    help: 'Spans and log records forwarded downstream (RAGSCOPE_FORWARD_ENDPOINT), by signal',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  readonly forwardDropped = new Counter({
    name: 'ragscope_forward_dropped_total',
    help: 'Spans and log records not forwarded: queue_full (oldest dropped), rejected (downstream answered a non-retryable status) or shutdown, by signal',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });
  readonly forwardFailures = new Counter({
    name: 'ragscope_forward_failures_total',
    help: 'Forwarding export attempts that failed (retried with backoff), by signal',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  readonly forwardEncoded = new Counter({
    name: 'ragscope_forward_encoded_total',
    help: 'Spans and log records put into export requests (every attempt), by signal and how: verbatim (the received bytes), spliced (derived attributes spliced into the received bytes) or reencoded (decoded and encoded again: OTLP/JSON, or requests that also held refused or duplicate items)',
    labelNames: ['signal', 'how'] as const,
    registers: [this.registry],
  });
  readonly forwardQueue = new Gauge({
    name: 'ragscope_forward_queue_items',
    help: 'Spans and log records waiting to be forwarded',
    registers: [this.registry],
  });
  readonly attributesIgnored = new Counter({
    name: 'ragscope_attributes_ignored_total',
    help: 'Attribute values dropped from stored spans because they are invalid (the span is stored without them and the client told), by attribute',
    labelNames: ['attribute'] as const,
    registers: [this.registry],
  });
  readonly spansReceived = new Counter({
    name: 'ragscope_spans_received_total',
    help: 'Spans decoded from OTLP requests',
    registers: [this.registry],
  });
  readonly spansStored = new Counter({
    name: 'ragscope_spans_stored_total',
    help: 'Spans written to otel_traces',
    registers: [this.registry],
  });
  readonly spansRejected = new Counter({
    name: 'ragscope_spans_rejected_total',
    help: 'Spans refused, by reason (invalid_id, expired: partial success; queue_full / store_error: whole request, retryable)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly genaiSpans = new Counter({
    name: 'ragscope_genai_spans_total',
    help: 'GenAI spans written to genai_spans, by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly unpricedSpans = new Counter({
    name: 'ragscope_unpriced_spans_total',
    help: 'Model-call spans with usage but no matching price-book entry (cost stored as NULL)',
    labelNames: ['provider', 'model'] as const,
    registers: [this.registry],
  });
  readonly spansWithoutUsage = new Counter({
    name: 'ragscope_spans_without_usage_total',
    help: 'Model-call spans that carried no token usage (tokens stored as NULL)',
    registers: [this.registry],
  });
  readonly logsReceived = new Counter({
    name: 'ragscope_logs_received_total',
    help: 'Log records decoded from OTLP requests',
    registers: [this.registry],
  });
  readonly logsStored = new Counter({
    name: 'ragscope_logs_stored_total',
    help: 'Log records written to otel_logs',
    registers: [this.registry],
  });
  readonly batchRows = new Histogram({
    name: 'ragscope_insert_batch_rows',
    help: 'Rows per ClickHouse insert',
    labelNames: ['table'] as const,
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000],
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'ragscope_insert_duration_seconds',
    help: 'ClickHouse insert latency',
    labelNames: ['table'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly insertFailures = new Counter({
    name: 'ragscope_insert_failures_total',
    help: 'Failed ClickHouse inserts',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'ragscope_spool_bytes',
    help: 'Bytes acknowledged (in the write-ahead log) and not yet in ClickHouse',
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'ragscope_duplicates_dropped_total',
    help: 'Spans and log records received again after they were stored (client retries): acknowledged, not stored twice',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  readonly deadLetterRows = new Counter({
    name: 'ragscope_dead_letter_rows_total',
    help: 'Rows ClickHouse refused for their data, set aside in <wal dir>/dead-letter.ndjson (the rest of their batch was stored)',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ragscope_process_' });
  }
}
