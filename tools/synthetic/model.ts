// The generator's output: plain, denormalized records. Each span carries both the exact OTLP attributes that
// are sent and the semantic values they encode, so tests can compute expected answers without parsing
// attributes or reading the store.

export type SynthAttrValue = string | number | boolean | string[] | number[] | boolean[];
export type SynthAttributes = Record<string, SynthAttrValue>;

/** OTLP numeric span kinds used here. */
export const KIND_INTERNAL = 1;
export const KIND_SERVER = 2;
export const KIND_CLIENT = 3;

export interface SynthEvent {
  name: string;
  timeNs: bigint;
  attributes: SynthAttributes;
}

/** Token usage as reported: input INCLUDES cache read/write, output INCLUDES reasoning; null = not reported. */
export interface SynthUsage {
  input: number | null;
  output: number | null;
  cacheRead: number | null;
  cacheWrite: number | null;
  reasoning: number | null;
}

export type SynthOperation = 'workflow' | 'embeddings' | 'retrieval' | 'rerank' | 'context_assembly' | 'chat' | 'post_processing';

export interface SynthSpan {
  traceId: string;
  spanId: string;
  /** '' for the request root */
  parentSpanId: string;
  name: string;
  kind: number;
  /** Which instrumentation scope emitted it: the app's RAG instrumentation or the LLM SDK instrumentation. */
  scope: 'app' | 'llm';
  startNs: bigint;
  endNs: bigint;
  /** ragscope.rag.stage */
  stage: string;
  /** canonical operation (what genai_spans.Operation should read) */
  operation: SynthOperation;
  attributes: SynthAttributes;
  events: SynthEvent[];
  /** OTLP status code: 0 unset, 1 ok, 2 error */
  statusCode: number;
  statusMessage: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  usage: SynthUsage | null;
  streaming: boolean | null;
  ttftMs: number | null;
  /** error.type sent ('' when none) */
  errorType: string;
  rateLimited: boolean;
  responseId: string;
  /** retrieval / rerank documents (null for other spans) */
  documents: { id: string; score: number }[] | null;
  citedIds: string[] | null;
  citationCount: number | null;
  invalidCitations: number | null;
  contextChunks: number | null;
  contextChars: number | null;
}

export interface SynthRequest {
  index: number;
  traceId: string;
  rootSpanId: string;
  service: string;
  environment: string;
  feature: string;
  experiment: string;
  variant: string;
  userId: string;
  sessionId: string;
  conversationId: string;
  fingerprint: string;
  /** ragscope.query.sketch: 16 hex digits, the 64-bit SimHash of queryText (instrumentation/src/sketch.ts). */
  querySketch: string;
  /** ragscope.query.topic: the catalog topic of the question. */
  topic: string;
  queryText: string;
  queryChars: number;
  queryTokens: number;
  /** The query text was recorded on the retrieval span (content capture on). */
  contentCaptured: boolean;
  cacheHit: boolean;
  failed: boolean;
  /** error.type of the root when failed */
  errorType: string;
  startNs: bigint;
  endNs: bigint;
  /** The model that answered (response model of the last generation call), '' when none. */
  model: string;
  provider: string;
  responseIds: string[];
  /** Latent answer quality 0..1 that drives feedback and evaluations. */
  quality: number;
  /**
   * The app's confidence in its answer (`ragscope.answer.confidence`), 0..1 with 3 decimals: quality plus noise,
   * so it agrees with feedback on average. Recorded on the answering chat span, and in ~20% of requests revised on
   * the (later) post-processing span: this is the latest value. null = not recorded (response-cache hits, failed
   * requests, ~10% of answers). Change it with setConfidence() to keep the attributes in step.
   */
  confidence: number | null;
  spans: SynthSpan[];
}

export type FeedbackKindName = 'thumbs' | 'rating' | 'score';

export interface SynthFeedbackVersion {
  timeMs: number;
  kind: FeedbackKindName;
  thumbs: 'up' | 'down' | null;
  rating: number | null;
  score: number | null;
  comment: string;
  tags: string[];
}

export interface SynthFeedback {
  /** Stable key inside the dataset. */
  key: string;
  /** Client-chosen id; null = none sent (the API assigns a UUID, OTLP derives one from the event). */
  feedbackId: string | null;
  channel: 'otlp' | 'api';
  linkBy: 'trace' | 'response';
  /** The request this feedback is about (always set, whatever is sent). */
  requestTraceId: string;
  /** The span the OTLP event is parented to (the generation span, or the root). */
  spanId: string;
  responseId: string;
  userId: string;
  service: string;
  /** In time order; the last one is the state that must win. */
  versions: SynthFeedbackVersion[];
}

export interface SynthEvaluation {
  /** null = no ragscope.evaluation.id sent (the processor derives one) */
  evaluationId: string | null;
  timeMs: number;
  name: string;
  value: number | null;
  label: string;
  explanation: string;
  predicted: string;
  actual: string;
  /** evaluated model, sent as gen_ai.response.model */
  model: string;
  traceId: string;
  spanId: string;
  responseId: string;
  service: string;
}

export interface SynthDataset {
  seed: string;
  /** Requests start in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  requests: SynthRequest[];
  feedback: SynthFeedback[];
  evaluations: SynthEvaluation[];
}
