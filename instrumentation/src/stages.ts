// RAG stage helpers: one span per stage (embedding, retrieval, rerank, context assembly, generation,
// post-processing) around the app's callback, with the stage's figures as attributes.

import { context, diag, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { GEN_AI, RAGSCOPE_ATTRIBUTES as R, type RagStage } from './attributes.js';
import { analyzeCitations, setCitationAttributes, type CitationOptions, type CitationResult, type CitationSource } from './citations.js';
import { runtimeConfig } from './config.js';
import { estimateTokens } from './fingerprint.js';
import { recordQueryOn } from './request.js';
import { noopSpan, ragTracer, runInSpan, safe } from './span-run.js';


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
  const span = ragTracer().startSpan(spanName, { kind, attributes: { [GEN_AI.OPERATION_NAME]: operation, [R.RAG_STAGE]: stage, ...attributes } }, parent);
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
  /** The app's confidence in this answer, 0..1 (`ragscope.answer.confidence`); or call stage.setConfidence later. */
  confidence?: number;
  attributes?: Attributes;
}
export interface GenerationStage extends Stage {
  /**
   * Records the answer's confidence (a number in [0, 1]) as `ragscope.answer.confidence`. Anything else is not
   * recorded: returns false and logs a diag warning (never throws). The last call wins.
   */
  setConfidence(confidence: number): boolean;
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
    (span) => {
      const setConfidence = (c: number): boolean => setAnswerConfidence(span, c);
      if (options?.confidence !== undefined) setConfidence(options.confidence);
      return {
      ...baseHandle(span),
      setConfidence,
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
      };
    },
    fn,
    SpanKind.CLIENT,
  );
}

/** `ragscope.answer.confidence` on a span when `confidence` is a number in [0, 1]; false (and a diag warning) otherwise. */
export function setAnswerConfidence(span: Span, confidence: number): boolean {
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    diag.warn(`@ragscope/instrumentation: confidence must be a number in [0, 1], got ${String(confidence)}; not recorded`);
    return false;
  }
  safe(() => span.setAttribute(R.ANSWER_CONFIDENCE, confidence));
  return true;
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

/**
 * Records the answer's confidence (0..1) on the active span: for answers produced by an auto-instrumented SDK
 * call, call it inside the traced request after the answer (any span of the request will do: the processor
 * keeps the latest value per request). False when there is no active span or the value is not in [0, 1].
 */
export function recordAnswerConfidence(confidence: number): boolean {
  const active = trace.getSpan(context.active());
  if (!active || !active.isRecording()) {
    diag.warn('@ragscope/instrumentation: recordAnswerConfidence outside a traced request; not recorded');
    return false;
  }
  return setAnswerConfidence(active, confidence);
}
