// The data contracts between the pipeline stages:
//   receive  → DecodedSpan / DecodedLogRecord (OTLP, decoded once, protocol-independent)
//   normalize→ GenAiRecord (one canonical shape, whatever instrumentation library produced the span)
//   derive   → CostResult (price book + provider-correct token accounting)
//   store    → rows for otel_traces / otel_logs / genai_spans

/** An OTLP AnyValue decoded to plain JS. Bytes become lowercase hex strings; int64 becomes number
 * when it fits in 2^53, otherwise a decimal string. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: Attributes;
}

/** Resource and scope objects are shared by reference between all spans of one ResourceSpans/ScopeSpans. */
export interface SpanOrigin {
  resource: Attributes;
  scope: InstrumentationScope;
}

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

/** OTLP Span.SpanKind numeric values. */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP Status.StatusCode numeric values. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface DecodedSpan {
  origin: SpanOrigin;
  /** 32 lowercase hex chars, as received; validity is checked by the store stage (partial success). */
  traceId: string;
  /** 16 lowercase hex chars. */
  spanId: string;
  /** 16 lowercase hex chars, or '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  statusCode: number;
  statusMessage: string;
}

export interface DecodedLogRecord {
  origin: SpanOrigin;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AttrValue;
  attributes: Attributes;
  /** '' when absent. */
  traceId: string;
  spanId: string;
  flags: number;
  /** LogRecord.event_name (OTLP 1.5+); '' when absent. Events may also carry it as attribute `event.name`. */
  eventName: string;
}

/** What a GenAI span does. Model calls are the ones whose usage is counted. */
export type GenAiOperation =
  | 'chat'
  | 'text_completion'
  | 'generate_content'
  | 'embeddings'
  | 'retrieval'
  | 'rerank'
  | 'execute_tool'
  | 'invoke_agent'
  | 'create_agent'
  | 'workflow'
  | 'context_assembly'
  | 'post_processing'
  | 'other';

export const MODEL_CALL_OPERATIONS: ReadonlySet<GenAiOperation> = new Set([
  'chat',
  'text_completion',
  'generate_content',
  'embeddings',
]);

export interface RetrievedDocument {
  id: string;
  score: number | null;
}

/** Canonical GenAI record: the same LLM call described in any dialect yields the same record. */
export interface GenAiRecord {
  operation: GenAiOperation;
  /** RAG stage marked by the instrumentation (`ragscope.rag.stage`), or derived from the operation; '' if none. */
  ragStage: string;
  /** Which attribute convention the record was read from: semconv | semconv_deprecated | openllmetry | openinference | vercel_ai. */
  dialect: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  /** Token counts follow OTel semantics: input INCLUDES cache read and cache write; output INCLUDES reasoning.
   * null = the span reported no such usage (never coerced to 0). */
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  /** False when this span's usage duplicates usage on another span of the same call (wrapper spans). */
  usageCounted: boolean;
  streaming: boolean | null;
  /** Time to first token/chunk in milliseconds, null when unknown. */
  ttftMs: number | null;
  finishReasons: string[];
  errorType: string;
  responseId: string;
  conversationId: string;
  sessionId: string;
  userId: string;
  feature: string;
  experiment: string;
  variant: string;
  dataSourceId: string;
  topK: number | null;
  documents: RetrievedDocument[];
  /** Cost reported by the instrumentation (`gen_ai.usage.cost`, `llm.cost.total`), USD. */
  reportedCostUsd: number | null;
  /** RAG extras set by @ragscope/instrumentation (see instrumentation/src/attributes.ts). */
  citedDocumentIds: string[];
  citationCount: number | null;
  invalidCitationCount: number | null;
  responseCacheHit: boolean | null;
  queryFingerprint: string;
  queryChars: number | null;
  queryTokensEstimate: number | null;
  /** ragscope.query.sketch as the decimal text of its UInt64 (a 64-bit SimHash of the query), null when absent. */
  querySketch: string | null;
  /** ragscope.query.topic: the app's topic label of the query, '' when none. */
  queryTopic: string;
  contextChunks: number | null;
  contextChars: number | null;
  /** The app's confidence in its answer, 0..1 (`ragscope.answer.confidence`); null when absent or invalid. */
  answerConfidence: number | null;
  /** Why a `ragscope.answer.confidence` value was ignored (out of [0, 1], not a number), else null. */
  answerConfidenceIgnored: string | null;
}

export type CostSource = 'computed' | 'reported' | 'unpriced' | 'none';

/** Cost amounts are decimal strings in USD with up to 12 fractional digits, exact (no float rounding). */
export interface CostResult {
  source: CostSource;
  totalUsd: string | null;
  inputUsd: string | null;
  cacheReadUsd: string | null;
  cacheWriteUsd: string | null;
  outputUsd: string | null;
  reasoningUsd: string | null;
  /** Id of the price-book entry used ('' when none). */
  priceId: string;
}
