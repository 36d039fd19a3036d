// Typed helpers for the parts of a RAG request no library instruments: the request root (with the
// request context that every child span carries), the RAG stages, citations, the app's response cache and
// the query fingerprint.

import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  createContextKey,
  isSpanContextValid,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { GEN_AI, OTHER_ATTRIBUTES, RAGSCOPE_ATTRIBUTES as R, type RagStage } from './attributes.js';
import { runtimeConfig } from './config.js';
import { estimateTokens, fingerprintQuery } from './fingerprint.js';
import { setRequestBaggage, setRequestContext } from './request-context.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const tracer = trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
const ROOT_SPAN_KEY = createContextKey('ragscope.request_root');

/** The request context: ids, product feature and experiment arm. Every child span carries these. */
export interface RagContext {
  userId?: string;
  sessionId?: string;
  conversationId?: string;
  /** Product feature, e.g. "support-chat". */
  feature?: string;
  experiment?: string;
  variant?: string;
  /** The user's query: recorded as a fingerprint (hash, length, estimated tokens); as text only with content capture on. */
  query?: string;
  /** Extra attributes for the root span. */
  attributes?: Attributes;
}

const CONTEXT_FIELDS: [keyof RagContext, string][] = [
  ['userId', OTHER_ATTRIBUTES.USER_ID],
  ['sessionId', OTHER_ATTRIBUTES.SESSION_ID],
  ['conversationId', GEN_AI.CONVERSATION_ID],
  ['feature', R.FEATURE],
  ['experiment', R.EXPERIMENT],
  ['variant', R.VARIANT],
];

/** A handle on a request root span (traceRag's callback argument). */
export interface RagRequest {
  readonly span: Span;
  /** The W3C trace id: hand it to your front end so a later recordFeedback() can target this request. */
  readonly traceId: string;
  readonly spanId: string;
  /** Records the query fingerprint (and the text, with content capture on). */
  setQuery(query: string): void;
  /** Records the final answer (only with content capture on). */
  setAnswer(answer: string): void;
  /** Marks the request as served from the app's response cache. */
  markCacheHit(hit?: boolean): void;
  setAttributes(attributes: Attributes): void;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';
}

function endWithError(span: Span, err: unknown): void {
  try {
    const e = err as { name?: unknown; constructor?: { name?: unknown }; message?: unknown } | undefined;
    const type = (typeof e?.constructor?.name === 'string' && e.constructor.name !== 'Object' ? e.constructor.name : undefined) ?? (typeof e?.name === 'string' ? e.name : 'Error');
    span.setAttribute(OTHER_ATTRIBUTES.ERROR_TYPE, type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message.slice(0, 256) : undefined });
    span.end();
  } catch {
    /* never throw from telemetry */
  }
}

/** Runs fn inside ctx and ends span when fn returns or its promise settles; rethrows fn's errors unchanged. */
function runInSpan<A, T>(span: Span, ctx: Context, fn: (arg: A) => T, arg: A): T {
  let result: T;
  try {
    result = context.with(ctx, fn, undefined, arg);
  } catch (err) {
    endWithError(span, err);
    throw err;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (v) => {
        span.end();
        return v;
      },
      (err: unknown) => {
        endWithError(span, err);
        throw err;
      },
    ) as T;
  }
  span.end();
  return result;
}

function recordQueryOn(span: Span, query: string, textAttribute: string | undefined): void {
  if (typeof query !== 'string' || !span.isRecording()) return;
  const fp = fingerprintQuery(query);
  span.setAttribute(R.QUERY_FINGERPRINT, fp.fingerprint);
  span.setAttribute(R.QUERY_CHARS, fp.chars);
  span.setAttribute(R.QUERY_TOKENS_ESTIMATE, fp.tokensEstimate);
  if (textAttribute !== undefined && runtimeConfig().captureContent) {
    span.setAttribute(
      textAttribute,
      textAttribute === GEN_AI.INPUT_MESSAGES ? JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: query }] }]) : query,
    );
  }
}

/**
 * Traces one RAG request: a root span `invoke_workflow {name}` (`gen_ai.operation.name = invoke_workflow`,
 * `ragscope.rag.stage = request`) around fn, with the request context in ragscope's own context key
 * (in W3C baggage too only with `propagateBaggage`: baggage leaves the process) so that every span
 * started inside (stage helpers, auto-instrumented LLM calls, HTTP calls) carries `user.id`, `session.id`,
 * `gen_ai.conversation.id`, `ragscope.feature`, `ragscope.experiment`, `ragscope.variant` (copied by
 * RagscopeSpanProcessor). Returns what fn returns (a promise stays a promise); errors pass through unchanged.
 */
export function traceRag<T>(name: string, ragContext: RagContext, fn: (request: RagRequest) => T): T {
  let ctx = context.active();
  let span: Span;
  try {
    const attributes: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'invoke_workflow',
      [R.RAG_STAGE]: 'request',
      ...ragContext?.attributes,
    };
    const entries: [string, string][] = [];
    for (const [field, key] of CONTEXT_FIELDS) {
      const value = ragContext?.[field];
      if (typeof value === 'string' && value !== '') {
        entries.push([key, value]);
        attributes[key] = value;
      }
    }
    if (entries.length > 0) {
      ctx = setRequestContext(ctx, Object.freeze(entries));
      if (runtimeConfig().propagateBaggage) ctx = setRequestBaggage(ctx, entries);
    }
    span = tracer.startSpan(`invoke_workflow ${name}`, { kind: SpanKind.INTERNAL, attributes }, ctx);
    if (typeof ragContext?.query === 'string') recordQueryOn(span, ragContext.query, GEN_AI.INPUT_MESSAGES);
    ctx = trace.setSpan(ctx, span).setValue(ROOT_SPAN_KEY, span);
  } catch {
    // Telemetry failed to start: run the app's code untraced.
    return fn(noopRequest);
  }
  const s = span;
  const request: RagRequest = {
    span: s,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    setQuery: (q) => safe(() => recordQueryOn(s, q, GEN_AI.INPUT_MESSAGES)),
    setAnswer: (a) =>
      safe(() => {
        if (runtimeConfig().captureContent && typeof a === 'string') {
          s.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: a }] }]));
        }
      }),
    markCacheHit: (hit = true) => safe(() => s.setAttribute(R.RESPONSE_CACHE_HIT, hit)),
    setAttributes: (a) => safe(() => s.setAttributes(a)),
  };
  return runInSpan(s, ctx, fn, request);
}

const noopSpan = trace.wrapSpanContext({ traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 });
const noopRequest: RagRequest = {
  span: noopSpan,
  traceId: '',
  spanId: '',
  setQuery() {},
  setAnswer() {},
  markCacheHit() {},
  setAttributes() {},
};

function safe(f: () => void): void {
  try {
    f();
  } catch {
    /* ignore */
  }
}

// ---------------------------------------------------------------------------------------------------------
// Stages

/** A document as retrieved or reranked. `content` is recorded only with content capture on. */
export interface RetrievedDocument {
  id: string;
  score?: number;
  content?: string;
}

/** Base handle of every stage span. */
export interface Stage {
  readonly span: Span;
  setAttributes(attributes: Attributes): void;
}

const stageSpans = new WeakMap<Span, RagStage>();

function startStage(stage: RagStage, spanName: string, operation: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): { span: Span; ctx: Context } {
  const parent = context.active();
  const span = tracer.startSpan(spanName, { kind, attributes: { [GEN_AI.OPERATION_NAME]: operation, [R.RAG_STAGE]: stage, ...attributes } }, parent);
  stageSpans.set(span, stage);
  return { span, ctx: trace.setSpan(parent, span) };
}

function defined(attrs: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

function withStage<H extends Stage, T>(stage: RagStage, spanName: string, operation: string, attributes: Attributes, makeHandle: (span: Span) => H, fn: (handle: H) => T, kind?: SpanKind): T {
  let started: { span: Span; ctx: Context };
  let handle: H;
  try {
    started = startStage(stage, spanName, operation, attributes, kind);
    handle = makeHandle(started.span);
  } catch {
    return fn(makeHandle(noopSpan));
  }
  return runInSpan(started.span, started.ctx, fn, handle);
}

function baseHandle(span: Span): Stage {
  return { span, setAttributes: (a) => safe(() => span.setAttributes(a)) };
}

function recordDocuments(span: Span, documents: readonly RetrievedDocument[]): void {
  if (!Array.isArray(documents) || !span.isRecording()) return;
  const capture = runtimeConfig().captureContent;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let scored = 0;
  const docs = documents.map((d) => {
    const entry: Record<string, unknown> = { id: String(d?.id ?? '') };
    if (typeof d?.score === 'number' && Number.isFinite(d.score)) {
      entry.score = d.score;
      min = Math.min(min, d.score);
      max = Math.max(max, d.score);
      sum += d.score;
      scored++;
    }
    if (capture && typeof d?.content === 'string') entry.content = d.content;
    return entry;
  });
  span.setAttribute(GEN_AI.RETRIEVAL_DOCUMENTS, JSON.stringify(docs));
  span.setAttribute(R.RETRIEVAL_DOCUMENT_COUNT, docs.length);
  if (scored > 0) {
    span.setAttribute(R.RETRIEVAL_RELEVANCE_MIN, min);
    span.setAttribute(R.RETRIEVAL_RELEVANCE_MAX, max);
    span.setAttribute(R.RETRIEVAL_RELEVANCE_AVG, sum / scored);
  }
}

export interface EmbeddingOptions {
  model?: string;
  /** `gen_ai.provider.name`, e.g. "openai". */
  provider?: string;
  attributes?: Attributes;
}
export interface EmbeddingStage extends Stage {
  setUsage(usage: { inputTokens?: number }): void;
  setDimensions(dimensions: number): void;
}

/**
 * An embedding stage: span `embeddings {model}` (`gen_ai.operation.name = embeddings`, stage
 * `embedding`). An auto-instrumented embeddings call made inside becomes its child.
 */
export function traceEmbedding<T>(options: EmbeddingOptions, fn: (stage: EmbeddingStage) => T): T {
  const model = options?.model;
  return withStage(
    'embedding',
    model ? `embeddings ${model}` : 'embeddings',
    'embeddings',
    { ...defined({ [GEN_AI.REQUEST_MODEL]: model, [GEN_AI.PROVIDER_NAME]: options?.provider }), ...options?.attributes },
    (span) => ({
      ...baseHandle(span),
      setUsage: (u) => safe(() => typeof u?.inputTokens === 'number' && span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, u.inputTokens)),
      setDimensions: (d) => safe(() => span.setAttribute(GEN_AI.EMBEDDINGS_DIMENSION_COUNT, d)),
    }),
    fn,
  );
}

export interface RetrievalOptions {
  /** `gen_ai.data_source.id`: the index / collection / knowledge base searched. */
  dataSourceId: string;
  topK?: number;
  /** The search query: fingerprinted always, recorded as text only with content capture on. */
  query?: string;
  attributes?: Attributes;
}
export interface RetrievalStage extends Stage {
  /** Records the retrieved documents (ids and scores; content only with capture on), count and min/max/avg relevance. */
  setDocuments(documents: readonly RetrievedDocument[]): void;
}

/** A retrieval stage: span `retrieval {dataSourceId}` (`gen_ai.operation.name = retrieval`). */
export function traceRetrieval<T>(options: RetrievalOptions, fn: (stage: RetrievalStage) => T): T {
  const source = options?.dataSourceId;
  return withStage(
    'retrieval',
    source ? `retrieval ${source}` : 'retrieval',
    'retrieval',
    { ...defined({ [GEN_AI.DATA_SOURCE_ID]: source, [GEN_AI.REQUEST_TOP_K]: options?.topK }), ...options?.attributes },
    (span) => {
      if (typeof options?.query === 'string') safe(() => recordQueryOn(span, options.query as string, GEN_AI.RETRIEVAL_QUERY_TEXT));
      return { ...baseHandle(span), setDocuments: (docs) => safe(() => recordDocuments(span, docs)) };
    },
    fn,
  );
}

export interface RerankOptions {
  model?: string;
  provider?: string;
  /** How many documents the reranker keeps. */
  topN?: number;
  attributes?: Attributes;
}
export interface RerankStage extends Stage {
  /** The documents after reranking, with the reranker's scores. */
  setDocuments(documents: readonly RetrievedDocument[]): void;
}

/** A rerank stage: span `rerank {model}` (`gen_ai.operation.name = rerank`). */
export function traceRerank<T>(options: RerankOptions, fn: (stage: RerankStage) => T): T {
  const model = options?.model;
  return withStage(
    'rerank',
    model ? `rerank ${model}` : 'rerank',
    'rerank',
    { ...defined({ [GEN_AI.REQUEST_MODEL]: model, [GEN_AI.PROVIDER_NAME]: options?.provider, [GEN_AI.REQUEST_TOP_K]: options?.topN }), ...options?.attributes },
    (span) => ({ ...baseHandle(span), setDocuments: (docs) => safe(() => recordDocuments(span, docs)) }),
    fn,
  );
}

export interface ContextAssemblyStage extends Stage {
  /** Records the chunks put into the prompt: count, characters and estimated tokens. */
  setChunks(chunks: readonly (string | { content?: string; text?: string })[]): void;
  /** Records the same figures when you already have them. */
  setContextStats(stats: { chunks: number; chars: number; tokensEstimate?: number }): void;
}

/** A context-assembly stage: span `context_assembly` (`ragscope.context.{chunks,chars,tokens_estimate}`). */
export function traceContextAssembly<T>(options: { attributes?: Attributes } | undefined, fn: (stage: ContextAssemblyStage) => T): T {
  return withStage(
    'context_assembly',
    'context_assembly',
    'context_assembly',
    { ...options?.attributes },
    (span) => {
      const stats = (s: { chunks: number; chars: number; tokensEstimate?: number }) => {
        span.setAttribute(R.CONTEXT_CHUNKS, s.chunks);
        span.setAttribute(R.CONTEXT_CHARS, s.chars);
        span.setAttribute(R.CONTEXT_TOKENS_ESTIMATE, s.tokensEstimate ?? Math.ceil(s.chars / 4));
      };
      return {
        ...baseHandle(span),
        setChunks: (chunks) =>
          safe(() => {
            let chars = 0;
            let tokens = 0;
            for (const c of chunks) {
              const text = typeof c === 'string' ? c : (c?.content ?? c?.text ?? '');
              chars += text.length;
              tokens += estimateTokens(text);
            }
            stats({ chunks: chunks.length, chars, tokensEstimate: tokens });
          }),
        setContextStats: (s) => safe(() => stats(s)),
      };
    },
    fn,
  );
}

export interface GenerationOptions {
  model: string;
  provider?: string;
  attributes?: Attributes;
}
export interface GenerationStage extends Stage {
  setUsage(usage: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number; cacheCreationInputTokens?: number; reasoningOutputTokens?: number }): void;
  setResponse(response: { id?: string; model?: string; finishReasons?: string[] }): void;
}

/**
 * A model call that no instrumentation covers (a local model, a provider SDK ragscope does not hook):
 * span `chat {model}`, kind CLIENT, `gen_ai.operation.name = chat`, stage `generation`. Usage follows OTel
 * semantics: inputTokens INCLUDES cached tokens. Do not wrap an OpenAI/Anthropic SDK call in it: those are
 * traced already.
 */
export function traceGeneration<T>(options: GenerationOptions, fn: (stage: GenerationStage) => T): T {
  return withStage(
    'generation',
    `chat ${options?.model ?? ''}`.trim(),
    'chat',
    { ...defined({ [GEN_AI.REQUEST_MODEL]: options?.model, [GEN_AI.PROVIDER_NAME]: options?.provider }), ...options?.attributes },
    (span) => ({
      ...baseHandle(span),
      setUsage: (u) =>
        safe(() => {
          const map: [number | undefined, string][] = [
            [u?.inputTokens, GEN_AI.USAGE_INPUT_TOKENS],
            [u?.outputTokens, GEN_AI.USAGE_OUTPUT_TOKENS],
            [u?.cacheReadInputTokens, GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS],
            [u?.cacheCreationInputTokens, GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS],
            [u?.reasoningOutputTokens, GEN_AI.USAGE_REASONING_OUTPUT_TOKENS],
          ];
          for (const [v, k] of map) if (typeof v === 'number') span.setAttribute(k, v);
        }),
      setResponse: (r) =>
        safe(() => {
          if (r?.id) span.setAttribute(GEN_AI.RESPONSE_ID, r.id);
          if (r?.model) span.setAttribute(GEN_AI.RESPONSE_MODEL, r.model);
          if (r?.finishReasons) span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, r.finishReasons);
        }),
    }),
    fn,
    SpanKind.CLIENT,
  );
}

export interface PostProcessingStage extends Stage {
  /** Analyses the answer's [n] citations against the sources and records them on this span. */
  recordCitations(answerText: string, sources: readonly CitationSource[], options?: CitationOptions): CitationResult;
}

/** A post-processing stage: span `post_processing {name}` (citations, guardrails, formatting...). */
export function tracePostProcessing<T>(options: { name?: string; attributes?: Attributes } | undefined, fn: (stage: PostProcessingStage) => T): T {
  const name = options?.name;
  return withStage(
    'post_processing',
    name ? `post_processing ${name}` : 'post_processing',
    'post_processing',
    { ...options?.attributes },
    (span) => ({
      ...baseHandle(span),
      recordCitations: (answer, sources, opts) => {
        const result = analyzeCitations(answer, sources, opts);
        safe(() => setCitationAttributes(span, result));
        return result;
      },
    }),
    fn,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Citations

/** A source the answer may cite: its id, or an object with an id. `[1]` refers to the first source. */
export type CitationSource = string | { id: string };
export interface CitationOptions {
  /** Number of the first source: 1 (default, `[1]` is sources[0]) or 0. */
  base?: 0 | 1;
}
export interface CitationResult {
  /** Distinct cited source ids, in order of first citation. */
  citedIds: string[];
  /** Number of distinct valid citations. */
  count: number;
  /** Distinct reference numbers that match no source: a hallucination indicator. */
  invalidRefs: number[];
  invalidCount: number;
  /** count / number of sources (0 when there are no sources). */
  usageRate: number;
  /** Every reference number found, in order, with repeats. */
  references: number[];
}

// [1], [1, 2], [1-3], [1–3], [1][2]; a range is expanded up to 50 numbers.
const CITATION = /\[(\d{1,4}(?:\s*[,;\-–]\s*\d{1,4})*)\]/g;

/** Finds `[n]`-style references in an answer and checks them against the sources. Pure; never throws. */
export function analyzeCitations(answerText: string, sources: readonly CitationSource[], options?: CitationOptions): CitationResult {
  const base = options?.base ?? 1;
  const ids = (Array.isArray(sources) ? sources : []).map((s) => (typeof s === 'string' ? s : String(s?.id ?? '')));
  const references: number[] = [];
  if (typeof answerText === 'string') {
    for (const m of answerText.matchAll(CITATION)) {
      const body = m[1] ?? '';
      for (const piece of body.split(/\s*[,;]\s*/)) {
        const range = piece.split(/\s*[-–]\s*/).map(Number);
        if (range.length === 2 && range[0]! <= range[1]! && range[1]! - range[0]! < 50) {
          for (let n = range[0]!; n <= range[1]!; n++) references.push(n);
        } else {
          for (const n of range) references.push(n);
        }
      }
    }
  }
  const cited: string[] = [];
  const seen = new Set<string>();
  const invalid = new Set<number>();
  for (const n of references) {
    const id = ids[n - base];
    if (id === undefined || n - base < 0) {
      invalid.add(n);
      continue;
    }
    if (!seen.has(id)) {
      seen.add(id);
      cited.push(id);
    }
  }
  return {
    citedIds: cited,
    count: cited.length,
    invalidRefs: [...invalid],
    invalidCount: invalid.size,
    usageRate: ids.length > 0 ? cited.length / ids.length : 0,
    references,
  };
}

function setCitationAttributes(span: Span, r: CitationResult): void {
  span.setAttribute(R.CITATION_CITED_IDS, r.citedIds);
  span.setAttribute(R.CITATION_COUNT, r.count);
  span.setAttribute(R.CITATION_INVALID_COUNT, r.invalidCount);
  span.setAttribute(R.CITATION_USAGE_RATE, r.usageRate);
}

/**
 * Analyses the answer's `[n]` citations against the sources (`[1]` = sources[0]) and records
 * `ragscope.citation.*` on the current post-processing stage span, or, outside one, on a new
 * `post_processing citations` span. Returns the analysis. Never throws.
 */
export function recordCitations(answerText: string, sources: readonly CitationSource[], options?: CitationOptions): CitationResult {
  const result = analyzeCitations(answerText, sources, options);
  safe(() => {
    const active = trace.getSpan(context.active());
    if (active && stageSpans.get(active) === 'post_processing' && active.isRecording()) {
      setCitationAttributes(active, result);
      return;
    }
    const { span } = startStage('post_processing', 'post_processing citations', 'post_processing', {});
    setCitationAttributes(span, result);
    span.end();
  });
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Request-level markers

function requestSpan(): Span | undefined {
  const ctx = context.active();
  return (ctx.getValue(ROOT_SPAN_KEY) as Span | undefined) ?? trace.getSpan(ctx);
}

/**
 * Marks the current request (the traceRag root, or else the active span) as served from the app's own
 * response cache (`ragscope.response_cache.hit`), so cache hit rate and savings can be measured. Call it
 * with false on a miss to make misses explicit.
 */
export function markResponseCacheHit(hit = true): void {
  safe(() => requestSpan()?.setAttribute(R.RESPONSE_CACHE_HIT, hit));
}

/**
 * Records the query fingerprint (normalized-query hash, length, estimated tokens) on the current request
 * (traceRag root, or the active span); the text only with content capture on. Returns the fingerprint.
 */
export function recordQuery(query: string): ReturnType<typeof fingerprintQuery> {
  const fp = fingerprintQuery(String(query ?? ''));
  safe(() => {
    const span = requestSpan();
    if (span) recordQueryOn(span, String(query ?? ''), GEN_AI.INPUT_MESSAGES);
  });
  return fp;
}

/** The trace id of the active span (32 hex chars), or undefined outside a trace. */
export function currentTraceId(): string | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/**
 * What a front end needs to send feedback on the current request later: the trace id and the span id of
 * the request root (traceRag), or of the active span outside traceRag.
 */
export function currentFeedbackTarget(): { traceId: string; spanId: string } | undefined {
  const span = requestSpan();
  const sc = span?.spanContext();
  return sc && isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
}
