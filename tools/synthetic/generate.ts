// Deterministic synthetic RAG traffic: same options + seed → the same requests, spans, feedback and
// evaluations, byte for byte. Timestamps are laid out relative to `endMs` (default: the start of the
// current UTC hour), so "the last N days" always lands inside the store's retention.
import { createHash } from 'node:crypto';
import { CHAT_MODELS, EMBEDDING_MODEL, FEATURES, RERANK_MODEL, questionsFor, type FeatureSpec, type ModelSpec, type Question } from './catalog.js';
import { Prng } from './prng.js';
import { simHash64, sketchHex } from '../../instrumentation/src/sketch.js';
import {
  KIND_CLIENT,
  KIND_INTERNAL,
  KIND_SERVER,
  type SynthAttributes,
  type SynthDataset,
  type SynthEvaluation,
  type SynthFeedback,
  type SynthFeedbackVersion,
  type SynthRequest,
  type SynthSpan,
  type SynthUsage,
} from './model.js';

export interface GenerateOptions {
  /** Any string or number; default 'ragscope'. */
  seed?: string | number;
  /** Number of requests (traces). Default 2000. */
  requests?: number;
  /** Length of the time window in days. Default 7. */
  days?: number;
  /** End of the window (exclusive), ms. Default: start of the current UTC hour. */
  endMs?: number;
  /** Distinct users. Default max(20, requests / 25). */
  users?: number;
  /** Probability scales (1 = defaults). */
  feedbackRate?: number;
  evaluationRate?: number;
  /** Rate-limit (429) probability per generation attempt. Default 0.03. */
  rateLimitRate?: number;
  /** Skip feedback/evaluations entirely (bench mode). */
  withFeedback?: boolean;
}

const HOUR_MS = 3_600_000;
export const CONFIDENCE_ATTRIBUTE = 'ragscope.answer.confidence';
/**
 * The synthetic app is a little optimistic: confidence = quality + 0.12 + noise (sd 0.08). About one answer in
 * six falls below 0.6 on ordinary traffic, and thumbs-down answers are clearly less confident than thumbs-up ones.
 */
const CONFIDENCE_OFFSET = 0.12;

/** Sets (or, with null, removes) a request's answer confidence: the truth and the attribute sent together. */
export function setConfidence(req: SynthRequest, confidence: number | null): void {
  req.confidence = confidence;
  const carriers = req.spans.filter((s) => CONFIDENCE_ATTRIBUTE in s.attributes);
  if (confidence === null) {
    for (const s of carriers) delete s.attributes[CONFIDENCE_ATTRIBUTE];
    return;
  }
  if (carriers.length === 0) carriers.push(req.spans.find((s) => s.spanId === req.rootSpanId)!);
  for (const s of carriers) s.attributes[CONFIDENCE_ATTRIBUTE] = confidence;
}
const DAY_MS = 24 * HOUR_MS;
const INTENTS = ['billing', 'technical', 'account', 'cancellation', 'other'];
const MODEL_ACCURACY: Record<string, number> = {
  'gpt-4o-2024-08-06': 0.9,
  'gpt-4o-mini-2024-07-18': 0.78,
  'claude-sonnet-4-20250514': 0.88,
  'synthetic-unpriced-llm': 0.6,
  'o3-mini-2025-01-31': 0.85,
};
const COMMENTS_GOOD = ['Exactly what I needed', 'Clear answer, thanks', 'Helpful', 'Great, solved it'];
const COMMENTS_BAD = ['Wrong answer', 'This is outdated', 'Did not answer my question', 'Cited the wrong page', 'Too vague'];
const TAGS_BAD = ['wrong-answer', 'outdated', 'hallucination', 'too-long', 'missing-source'];
const TAGS_GOOD = ['accurate', 'fast', 'well-sourced'];

export function startOfCurrentHourMs(now: number = Date.now()): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS;
}

export function fingerprintOf(text: string): string {
  const normalized = text.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ').replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(normalized).digest('hex').slice(0, 16);
}

const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n; // µs resolution
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Diurnal traffic shape: weight of an hour of day (UTC), peak mid-afternoon, quiet at night. */
function hourWeight(hourOfDay: number): number {
  return 0.25 + Math.max(0, Math.sin(((hourOfDay - 6) / 24) * 2 * Math.PI)) * 1.0;
}

function sampleStartMs(rng: Prng, fromMs: number, toMs: number): number {
  // Rejection sampling against the diurnal shape (max weight 1.25). Leave the last minute free so a request
  // and its spans end inside the window.
  const span = toMs - fromMs - 60_000;
  for (;;) {
    const t = fromMs + Math.floor(rng.next() * span);
    const h = new Date(t).getUTCHours();
    if (rng.next() * 1.25 <= hourWeight(h)) return t;
  }
}

interface Ctx {
  rng: Prng;
  traceId: string;
  context: SynthAttributes;
}

function baseSpan(ctx: Ctx, parentSpanId: string, name: string, kind: number, scope: 'app' | 'llm', startMs: number, durationMs: number, stage: string, operation: SynthSpan['operation']): SynthSpan {
  return {
    traceId: ctx.traceId,
    spanId: ctx.rng.hex(16),
    parentSpanId,
    name,
    kind,
    scope,
    startNs: msToNs(startMs),
    endNs: msToNs(startMs + durationMs),
    stage,
    operation,
    attributes: { ...ctx.context, 'ragscope.rag.stage': stage },
    events: [],
    statusCode: 0,
    statusMessage: '',
    provider: '',
    requestModel: '',
    responseModel: '',
    usage: null,
    streaming: null,
    ttftMs: null,
    errorType: '',
    rateLimited: false,
    responseId: '',
    documents: null,
    citedIds: null,
    citationCount: null,
    invalidCitations: null,
    contextChunks: null,
    contextChars: null,
  };
}

/** Whole microseconds, at least 1 µs. */
const dur = (ms: number) => Math.max(0.001, Math.round(ms * 1000) / 1000);

function setUsageAttributes(span: SynthSpan, usage: SynthUsage): void {
  span.usage = usage;
  const a = span.attributes;
  if (usage.input !== null) a['gen_ai.usage.input_tokens'] = usage.input;
  if (usage.output !== null) a['gen_ai.usage.output_tokens'] = usage.output;
  if (usage.cacheRead !== null) a['gen_ai.usage.cache_read.input_tokens'] = usage.cacheRead;
  if (usage.cacheWrite !== null) a['gen_ai.usage.cache_creation.input_tokens'] = usage.cacheWrite;
  if (usage.reasoning !== null) a['gen_ai.usage.reasoning.output_tokens'] = usage.reasoning;
}

function markError(span: SynthSpan, errorType: string, message: string, rateLimited: boolean): void {
  span.statusCode = 2;
  span.statusMessage = message;
  span.errorType = errorType;
  span.rateLimited = rateLimited;
  span.attributes['error.type'] = errorType;
  span.events.push({ name: 'exception', timeNs: span.endNs, attributes: { 'exception.type': errorType, 'exception.message': message } });
}

function responseIdFor(rng: Prng, provider: string): string {
  return provider === 'anthropic' ? `msg_${rng.hex(24)}` : `chatcmpl-${rng.hex(24)}`;
}

function docIds(rng: Prng, dataSource: string, n: number): string[] {
  const ids = new Set<string>();
  while (ids.size < n) ids.add(`${dataSource}-${rng.int(1, 4000)}`);
  return [...ids];
}

function documentsAttributes(span: SynthSpan, docs: { id: string; score: number }[]): void {
  span.documents = docs;
  span.attributes['gen_ai.retrieval.documents'] = JSON.stringify(docs.map((d) => ({ id: d.id, score: d.score })));
  span.attributes['ragscope.retrieval.document_count'] = docs.length;
  if (docs.length > 0) {
    const scores = docs.map((d) => d.score);
    span.attributes['ragscope.retrieval.relevance.min'] = Math.min(...scores);
    span.attributes['ragscope.retrieval.relevance.max'] = Math.max(...scores);
    span.attributes['ragscope.retrieval.relevance.avg'] = round3(scores.reduce((s, x) => s + x, 0) / scores.length);
  }
}

export interface Population {
  users: string[];
  questions: Map<string, Question[]>;
}

/**
 * A request laid out by the caller instead of drawn at random (tools/synthetic/conversations.ts): who asks
 * what, when, in which conversation; optionally an empty retrieval or a failed generation. Planned requests
 * are never response-cache hits and never rate limited, so their outcome is what the plan says.
 */
export interface RequestPlan {
  startMs: number;
  feature: string;
  variant: string;
  userId: string;
  sessionId: string;
  conversationId: string;
  question: Question;
  emptyRetrieval: boolean;
  fail: boolean;
  contentCaptured: boolean;
}

/** The sketch the instrumentation records for a query (ragscope.query.sketch), unsalted. */
export function sketchOf(text: string): string {
  return sketchHex(simHash64(text));
}

export function generateRequest(
  index: number,
  rng: Prng,
  pop: Population,
  fromMs: number,
  toMs: number,
  opts: Required<Pick<GenerateOptions, 'rateLimitRate'>>,
  plan?: RequestPlan,
): SynthRequest {
  const feature: FeatureSpec = plan ? FEATURES.find((f) => f.name === plan.feature)! : rng.weighted(FEATURES.map((f) => [f, f.weight] as const));
  const variant = plan ? plan.variant : rng.pick(feature.variants);
  const environment = rng.bool(0.92) ? 'production' : 'staging';
  const userId = plan ? plan.userId : pop.users[rng.zipf(pop.users.length, 0.9)];
  const startMs = plan ? plan.startMs : sampleStartMs(rng, fromMs, toMs);
  const day = Math.floor(startMs / DAY_MS);
  const sessionId = plan ? plan.sessionId : `sess-${userId.slice(5)}-${day}-${rng.int(0, 1)}`;
  const conversationId = plan ? plan.conversationId : `conv-${sessionId.slice(5)}-${rng.int(0, 2)}`;
  const questions = pop.questions.get(feature.name)!;
  const qIndex = plan ? -1 : rng.zipf(questions.length, 1.05);
  const question = plan ? plan.question : questions[qIndex];
  const fingerprint = fingerprintOf(question.text);
  const querySketch = sketchOf(question.text);
  const queryChars = question.text.length;
  const queryTokens = Math.ceil(queryChars / 4);
  const contentCaptured = plan ? plan.contentCaptured : rng.bool(0.3);
  const cacheHit = plan ? false : rng.bool(qIndex < 8 ? 0.22 : feature.name === 'search' ? 0.1 : 0.04);
  const traceId = rng.hex(32);
  const context: SynthAttributes = {
    'user.id': userId,
    'session.id': sessionId,
    'gen_ai.conversation.id': conversationId,
    'ragscope.feature': feature.name,
  };
  if (feature.experiment !== '') {
    context['ragscope.experiment'] = feature.experiment;
    context['ragscope.variant'] = variant;
  }
  const ctx: Ctx = { rng, traceId, context };
  const spans: SynthSpan[] = [];

  const root = baseSpan(ctx, '', 'rag.request', KIND_SERVER, 'app', startMs, 0, 'request', 'workflow');
  Object.assign(root.attributes, {
    'gen_ai.operation.name': 'invoke_workflow',
    'ragscope.query.fingerprint': fingerprint,
    'ragscope.query.chars': queryChars,
    'ragscope.query.tokens_estimate': queryTokens,
    'ragscope.query.sketch': querySketch,
    'ragscope.query.topic': question.topic,
    'ragscope.response_cache.hit': cacheHit,
    'http.route': '/ask',
  });
  spans.push(root);

  let t = startMs + rng.uniform(0.5, 3);
  // ---- embedding
  const emb = baseSpan(ctx, root.spanId, `embeddings ${EMBEDDING_MODEL.requestModel}`, KIND_CLIENT, 'llm', t, dur(rng.logNormal(35, 0.4)), 'embedding', 'embeddings');
  emb.provider = EMBEDDING_MODEL.provider;
  emb.requestModel = EMBEDDING_MODEL.requestModel;
  emb.responseModel = EMBEDDING_MODEL.responseModel;
  Object.assign(emb.attributes, {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.provider.name': emb.provider,
    'gen_ai.request.model': emb.requestModel,
    'gen_ai.response.model': emb.responseModel,
    'gen_ai.embeddings.dimension.count': 1536,
  });
  setUsageAttributes(emb, { input: queryTokens, output: null, cacheRead: null, cacheWrite: null, reasoning: null });
  spans.push(emb);
  t = Number(emb.endNs / 1000n) / 1000 + rng.uniform(0.2, 1.5);

  let failed = false;
  let rootError = '';
  let model = '';
  let provider = '';
  const responseIds: string[] = [];
  let invalid = 0;
  let quality: number;

  if (cacheHit) {
    quality = clamp(0.72 + rng.normal() * 0.1, 0, 1);
  } else {
    // ---- retrieval
    const rerankOn = feature.experiment === 'reranker' && variant === 'on';
    const topK = rerankOn ? 20 : 8;
    const retrieval = baseSpan(ctx, root.spanId, `retrieval ${feature.dataSource}`, KIND_CLIENT, 'app', t, dur(rng.logNormal(rerankOn ? 110 : 80, 0.5)), 'retrieval', 'retrieval');
    Object.assign(retrieval.attributes, {
      'gen_ai.operation.name': 'retrieval',
      'gen_ai.data_source.id': feature.dataSource,
      'gen_ai.request.top_k': topK,
    });
    if (contentCaptured) retrieval.attributes['gen_ai.retrieval.query.text'] = question.text;
    const empty = plan ? (rng.next(), plan.emptyRetrieval) : rng.bool(0.04);
    const topicLevel = 0.5 + ((fingerprint.charCodeAt(0) % 7) / 7) * 0.35;
    let docs: { id: string; score: number }[] = [];
    if (!empty) {
      const n = rng.int(Math.max(1, topK - 3), topK);
      const ids = docIds(rng, feature.dataSource, n);
      docs = ids
        .map((id) => ({ id, score: round3(clamp(topicLevel + rng.normal() * 0.12, 0.05, 0.99)) }))
        .sort((a, b) => b.score - a.score);
    }
    documentsAttributes(retrieval, docs);
    spans.push(retrieval);
    const avgRelevance = docs.length ? docs.reduce((s, d) => s + d.score, 0) / docs.length : 0;
    t = Number(retrieval.endNs / 1000n) / 1000 + rng.uniform(0.2, 1.5);

    // ---- rerank
    let contextDocs = docs.slice(0, 5);
    if (rerankOn) {
      const rr = baseSpan(ctx, root.spanId, `rerank ${RERANK_MODEL.model}`, KIND_CLIENT, 'llm', t, dur(rng.logNormal(120, 0.3)), 'rerank', 'rerank');
      rr.provider = RERANK_MODEL.provider;
      rr.requestModel = RERANK_MODEL.model;
      Object.assign(rr.attributes, {
        'gen_ai.operation.name': 'rerank',
        'gen_ai.provider.name': rr.provider,
        'gen_ai.request.model': rr.requestModel,
        'gen_ai.request.top_k': 5,
      });
      const reranked = docs
        .map((d) => ({ id: d.id, score: round3(clamp(d.score + 0.15 + rng.normal() * 0.1, 0.01, 0.999)) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
      documentsAttributes(rr, reranked);
      spans.push(rr);
      contextDocs = reranked;
      t = Number(rr.endNs / 1000n) / 1000 + rng.uniform(0.2, 1.5);
    }

    // ---- context assembly
    const ctxSpan = baseSpan(ctx, root.spanId, 'context_assembly', KIND_INTERNAL, 'app', t, dur(rng.uniform(0.2, 4)), 'context_assembly', 'context_assembly');
    const chunks = contextDocs.length;
    const chars = chunks * rng.int(600, 1200);
    ctxSpan.contextChunks = chunks;
    ctxSpan.contextChars = chars;
    Object.assign(ctxSpan.attributes, {
      'gen_ai.operation.name': 'context_assembly',
      'ragscope.context.chunks': chunks,
      'ragscope.context.chars': chars,
      'ragscope.context.tokens_estimate': Math.ceil(chars / 4),
    });
    spans.push(ctxSpan);
    t = Number(ctxSpan.endNs / 1000n) / 1000 + rng.uniform(0.1, 1);

    // ---- generation (with 429 retries)
    const modelKey: string = rng.weighted(Object.entries(feature.models).map(([k, w]) => [k, w] as const));
    const spec: ModelSpec = CHAT_MODELS[modelKey];
    const promptTokens = 350 + queryTokens + Math.ceil(chars / 4) + rng.int(0, 600);
    const streaming = rng.bool(feature.name === 'support-chat' ? 0.8 : 0.4);
    let attempt = 0;
    for (;;) {
      attempt++;
      const rateLimited = plan ? false : rng.bool(attempt === 1 ? opts.rateLimitRate : 0.2);
      const terminal = plan ? plan.fail : !rateLimited && rng.bool(0.015);
      const chat = baseSpan(ctx, root.spanId, `chat ${spec.requestModel}`, KIND_CLIENT, 'llm', t, 0, 'generation', 'chat');
      chat.provider = spec.provider;
      chat.requestModel = spec.requestModel;
      Object.assign(chat.attributes, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': spec.provider,
        'gen_ai.request.model': spec.requestModel,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.stream': streaming,
        'server.address': spec.provider === 'anthropic' ? 'api.anthropic.com' : spec.provider === 'groq' ? 'api.groq.com' : 'api.openai.com',
      });
      chat.streaming = streaming;
      if (contentCaptured) {
        chat.attributes['gen_ai.input.messages'] = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: question.text }] }]);
      }
      if (rateLimited) {
        const d = dur(rng.logNormal(180, 0.3));
        chat.endNs = chat.startNs + msToNs(d);
        markError(chat, spec.rateLimitErrorType, 'Rate limit reached for requests (HTTP 429): please retry after 1s', true);
        spans.push(chat);
        t += d + rng.logNormal(800, 0.4);
        if (attempt < 3) continue;
        failed = true;
        rootError = spec.rateLimitErrorType;
        break;
      }
      if (terminal) {
        const timeout = rng.bool(0.5);
        const d = dur(timeout ? 30_000 + rng.uniform(0, 50) : rng.logNormal(2000, 0.3));
        chat.endNs = chat.startNs + msToNs(d);
        markError(chat, timeout ? 'timeout' : 'InternalServerError', timeout ? 'request timed out after 30s' : 'The server had an error processing your request', false);
        spans.push(chat);
        t += d;
        failed = true;
        rootError = chat.errorType;
        break;
      }
      // success
      const concise = variant === 'concise';
      const visible = Math.max(5, Math.round(rng.logNormal(concise ? 120 : 260, 0.45)));
      const reasoning = spec.reasoningShare > 0 ? Math.max(16, Math.round(rng.logNormal(450, 0.5))) : null;
      const output = visible + (reasoning ?? 0);
      let cacheRead: number | null = null;
      let cacheWrite: number | null = null;
      if (spec.caching === 'auto') {
        cacheRead = promptTokens >= 1024 && rng.bool(0.55) ? Math.floor((promptTokens * rng.uniform(0.4, 0.85)) / 128) * 128 : 0;
      } else if (spec.caching === 'explicit') {
        const r = rng.next();
        const system = 300;
        cacheRead = r < 0.6 ? system : 0;
        cacheWrite = r >= 0.6 && r < 0.8 ? system : 0;
      }
      const ttft = streaming ? Math.max(40, Math.round(rng.logNormal(spec.ttftMedianMs, 0.35))) : null;
      const decode = output * spec.msPerOutputToken * rng.uniform(0.8, 1.25);
      const d = dur((ttft ?? Math.round(rng.logNormal(spec.ttftMedianMs, 0.35))) + decode);
      chat.endNs = chat.startNs + msToNs(d);
      chat.responseModel = spec.responseModel;
      chat.responseId = responseIdFor(rng, spec.provider);
      chat.attributes['gen_ai.response.model'] = spec.responseModel;
      chat.attributes['gen_ai.response.id'] = chat.responseId;
      chat.attributes['gen_ai.response.finish_reasons'] = [rng.bool(0.02) ? 'length' : 'stop'];
      if (ttft !== null) {
        chat.ttftMs = ttft;
        chat.attributes['gen_ai.response.time_to_first_chunk'] = ttft / 1000;
      }
      setUsageAttributes(chat, { input: promptTokens, output, cacheRead, cacheWrite, reasoning });
      spans.push(chat);
      responseIds.push(chat.responseId);
      model = spec.responseModel;
      provider = spec.provider;
      t += d + rng.uniform(0.2, 2);
      break;
    }

    // ---- post-processing (citations)
    if (!failed) {
      const pp = baseSpan(ctx, root.spanId, 'post_processing', KIND_INTERNAL, 'app', t, dur(rng.uniform(0.5, 6)), 'post_processing', 'post_processing');
      const k = contextDocs.length === 0 ? 0 : rng.int(0, Math.min(3, contextDocs.length));
      const cited = contextDocs.slice(0, k).map((d) => d.id);
      invalid = rng.bool(0.05) ? rng.int(1, 2) : 0;
      pp.citedIds = cited;
      pp.citationCount = cited.length;
      pp.invalidCitations = invalid;
      Object.assign(pp.attributes, {
        'gen_ai.operation.name': 'post_processing',
        'ragscope.citation.cited_ids': cited,
        'ragscope.citation.count': cited.length,
        'ragscope.citation.invalid_count': invalid,
        'ragscope.citation.usage_rate': docs.length ? round3(cited.length / docs.length) : 0,
      });
      spans.push(pp);
      t = Number(pp.endNs / 1000n) / 1000;
    }
    const variantBoost = variant === 'on' ? 0.1 : variant === 'concise' ? -0.04 : 0;
    const modelBoost = model.startsWith('gpt-4o-2') || model.startsWith('claude') ? 0.06 : model.startsWith('synthetic') ? -0.1 : 0;
    quality = failed ? 0.05 : clamp(0.15 + avgRelevance * 0.75 + variantBoost + modelBoost - (invalid > 0 ? 0.25 : 0) + rng.normal() * 0.12, 0, 1);
  }

  // A fork: drawing the confidence leaves every other value of the dataset as it was before confidence existed.
  const crng = rng.fork('confidence');
  // Recorded on the answering generation span; in ~20% of requests post-processing (which starts later) revises
  // it, and the revision is the request's confidence (the latest span's value wins).
  let confidence: number | null = null;
  if (!cacheHit && !failed && crng.bool(0.9)) {
    const answer = spans.filter((s) => s.operation === 'chat' && s.responseId !== '').pop();
    const post = spans.find((s) => s.operation === 'post_processing');
    const first = round3(clamp(quality + CONFIDENCE_OFFSET + crng.normal() * 0.08, 0, 1));
    if (answer) {
      answer.attributes[CONFIDENCE_ATTRIBUTE] = first;
      confidence = first;
    }
    if (post && crng.bool(0.2)) {
      confidence = round3(clamp(quality + CONFIDENCE_OFFSET + crng.normal() * 0.08, 0, 1));
      post.attributes[CONFIDENCE_ATTRIBUTE] = confidence;
    }
  }

  const endMs = t + rng.uniform(1, 12);
  root.endNs = msToNs(endMs);
  if (failed) {
    root.statusCode = 2;
    root.statusMessage = `generation failed: ${rootError}`;
    root.errorType = rootError;
    root.rateLimited = rootError === 'RateLimitError' || rootError === '429';
    root.attributes['error.type'] = rootError;
  }
  return {
    index,
    traceId,
    rootSpanId: root.spanId,
    service: feature.service,
    environment,
    feature: feature.name,
    experiment: feature.experiment,
    variant: feature.experiment === '' ? '' : variant,
    userId,
    sessionId,
    conversationId,
    fingerprint,
    querySketch,
    topic: question.topic,
    queryText: question.text,
    queryChars,
    queryTokens,
    contentCaptured,
    cacheHit,
    failed,
    errorType: rootError,
    startNs: root.startNs,
    endNs: root.endNs,
    model,
    provider,
    responseIds,
    quality,
    confidence,
    spans,
  };
}

function feedbackVersion(rng: Prng, kind: SynthFeedbackVersion['kind'], quality: number, timeMs: number): SynthFeedbackVersion {
  const v: SynthFeedbackVersion = { timeMs, kind, thumbs: null, rating: null, score: null, comment: '', tags: [] };
  const positive = rng.next() < quality;
  if (kind === 'thumbs') v.thumbs = positive ? 'up' : 'down';
  else if (kind === 'rating') v.rating = clamp(Math.round(1 + 4 * quality + rng.normal() * 0.7), 1, 5);
  else v.score = round3(clamp(quality + rng.normal() * 0.1, 0, 1));
  const good = kind === 'thumbs' ? positive : kind === 'rating' ? v.rating! >= 4 : v.score! >= 0.6;
  if (rng.bool(0.3)) v.comment = rng.pick(good ? COMMENTS_GOOD : COMMENTS_BAD);
  if (rng.bool(0.4)) v.tags = [rng.pick(good ? TAGS_GOOD : TAGS_BAD)];
  return v;
}

export function generateFeedback(req: SynthRequest, rng: Prng, toMs: number, rate: number): SynthFeedback | null {
  if (!rng.bool((req.failed ? 0.3 : 0.12) * rate)) return null;
  const feature = FEATURES.find((f) => f.name === req.feature)!;
  const kind = rng.weighted(feature.feedbackKinds);
  const endMs = Number(req.endNs / 1_000_000n);
  const firstMs = Math.min(toMs - 2, endMs + Math.round(rng.logNormal(60_000, 1.2)));
  const channel = rng.bool(0.5) ? 'otlp' : 'api';
  const hasId = rng.bool(channel === 'api' ? 0.7 : 0.8);
  const linkBy = req.responseIds.length > 0 && rng.bool(0.3) ? 'response' : 'trace';
  const chat = req.spans.find((s) => s.operation === 'chat' && s.responseId !== '');
  const fb: SynthFeedback = {
    key: `fb-${req.index}`,
    feedbackId: hasId ? `fb-${rng.hex(16)}` : null,
    channel,
    linkBy,
    requestTraceId: req.traceId,
    spanId: chat?.spanId ?? req.rootSpanId,
    responseId: linkBy === 'response' ? req.responseIds[req.responseIds.length - 1] : '',
    userId: req.userId,
    service: req.service,
    versions: [feedbackVersion(rng, kind, req.quality, firstMs)],
  };
  // Some users change their mind: a second version under the same id (latest must win).
  if (hasId && rng.bool(0.12)) {
    const laterMs = Math.min(toMs - 1, firstMs + Math.max(1, Math.round(rng.logNormal(600_000, 1))));
    if (laterMs > firstMs) fb.versions.push(feedbackVersion(rng, kind, 1 - req.quality, laterMs));
  }
  return fb;
}

function generateEvaluations(req: SynthRequest, rng: Prng, toMs: number, rate: number): SynthEvaluation[] {
  const chat = [...req.spans].reverse().find((s) => s.operation === 'chat' && s.responseId !== '');
  if (!chat || req.failed) return [];
  const out: SynthEvaluation[] = [];
  const endMs = Number(req.endNs / 1_000_000n);
  const base = {
    model: chat.responseModel,
    traceId: req.traceId,
    spanId: chat.spanId,
    responseId: chat.responseId,
    service: req.service,
    predicted: '',
    actual: '',
    explanation: '',
  };
  const at = (medianMs: number) => Math.min(toMs - 1, endMs + Math.max(1, Math.round(rng.logNormal(medianMs, 1))));
  if (rng.bool(0.35 * rate)) {
    const invalid = req.spans.some((s) => (s.invalidCitations ?? 0) > 0);
    const faith = round3(clamp(req.quality + rng.normal() * 0.08 - (invalid ? 0.2 : 0), 0, 1));
    out.push({
      ...base,
      evaluationId: rng.bool(0.7) ? `ev-${rng.hex(16)}` : null,
      timeMs: at(30_000),
      name: 'faithfulness',
      value: faith,
      label: faith >= 0.7 ? 'faithful' : 'unfaithful',
      explanation: faith >= 0.7 ? 'Every claim is supported by the retrieved context.' : 'Some claims are not supported by the context.',
    });
    const rel = round3(clamp(req.quality * 0.8 + 0.15 + rng.normal() * 0.08, 0, 1));
    out.push({ ...base, evaluationId: rng.bool(0.7) ? `ev-${rng.hex(16)}` : null, timeMs: at(30_000), name: 'answer_relevance', value: rel, label: '' });
    const toxic = rng.bool(0.02);
    out.push({ ...base, evaluationId: null, timeMs: at(20_000), name: 'toxicity', value: toxic ? 0.4 : 0, label: toxic ? 'mild' : 'none' });
  }
  if (req.feature === 'support-chat' && rng.bool(0.5 * rate)) {
    const predicted = rng.pick(INTENTS);
    const accuracy = MODEL_ACCURACY[chat.responseModel] ?? 0.8;
    const actual = rng.bool(accuracy) ? predicted : rng.pick(INTENTS.filter((i) => i !== predicted));
    out.push({
      ...base,
      evaluationId: `ev-${rng.hex(16)}`,
      timeMs: at(3_600_000),
      name: 'intent_classification',
      value: predicted === actual ? 1 : 0,
      label: predicted === actual ? 'correct' : 'incorrect',
      predicted,
      actual,
    });
  }
  return out;
}

/** Generates a dataset. Requests are returned in start-time order. */
export function generateDataset(options: GenerateOptions = {}): SynthDataset {
  const seed = String(options.seed ?? 'ragscope');
  const n = options.requests ?? 2000;
  const days = options.days ?? 7;
  const toMs = options.endMs ?? startOfCurrentHourMs();
  const fromMs = toMs - Math.round(days * DAY_MS);
  const root = new Prng(seed);
  const userCount = options.users ?? Math.max(20, Math.round(n / 25));
  const users = Array.from({ length: userCount }, (_, i) => `user-${String(i + 1).padStart(5, '0')}`);
  const questions = new Map(FEATURES.map((f) => [f.name, questionsFor(f)]));
  const pop: Population = { users, questions };
  const withFeedback = options.withFeedback ?? true;
  const feedbackRate = options.feedbackRate ?? 1;
  const evaluationRate = options.evaluationRate ?? 1;

  const requests: SynthRequest[] = [];
  const feedback: SynthFeedback[] = [];
  const evaluations: SynthEvaluation[] = [];
  for (let i = 0; i < n; i++) {
    const rng = root.fork(i);
    const req = generateRequest(i, rng, pop, fromMs, toMs, { rateLimitRate: options.rateLimitRate ?? 0.03 });
    requests.push(req);
    if (withFeedback) {
      const frng = rng.fork('feedback');
      const fb = generateFeedback(req, frng, toMs, feedbackRate);
      if (fb) feedback.push(fb);
      evaluations.push(...generateEvaluations(req, rng.fork('evaluations'), toMs, evaluationRate));
    }
  }
  requests.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.index - b.index));
  return { seed, fromMs, toMs, requests, feedback, evaluations };
}
