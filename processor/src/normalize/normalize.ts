// DecodedSpan → GenAiRecord. One pass over the attributes fills canonical slots (attribute-table.ts),
// then per-dialect rules turn the slots into the canonical record. See docs/normalization.md.
import type { AttrValue, Attributes, DecodedSpan, GenAiOperation, GenAiRecord, RetrievedDocument } from '../model.js';
import { SpanKind, StatusCode } from '../model.js';
import { H, KEY_TABLE, S, SLOT_COUNT } from './attribute-table.js';
import { normalizeProvider, providerFromModel } from './providers.js';
import { jsonScalarField, parseJson, toBool, toCount, toFloat, toStr, toStrList } from './values.js';

export type Dialect = 'semconv' | 'semconv_deprecated' | 'openllmetry' | 'openinference' | 'vercel_ai';

// ---------------------------------------------------------------------------------------------
// Lookup tables (precomputed)

const SEMCONV_OPS = new Map<string, GenAiOperation>([
  ['chat', 'chat'],
  ['text_completion', 'text_completion'],
  ['completion', 'text_completion'],
  ['generate_content', 'generate_content'],
  ['embeddings', 'embeddings'],
  ['embedding', 'embeddings'],
  ['retrieval', 'retrieval'],
  ['retrieve', 'retrieval'],
  ['rerank', 'rerank'],
  ['reranking', 'rerank'],
  ['execute_tool', 'execute_tool'],
  ['invoke_agent', 'invoke_agent'],
  ['create_agent', 'create_agent'],
  ['invoke_workflow', 'workflow'],
  ['workflow', 'workflow'],
  ['context_assembly', 'context_assembly'],
  ['post_processing', 'post_processing'],
]);

const VERCEL_OPS = new Map<string, GenAiOperation>([
  ['ai.generateText', 'workflow'],
  ['ai.streamText', 'workflow'],
  ['ai.generateObject', 'workflow'],
  ['ai.streamObject', 'workflow'],
  ['ai.embed', 'workflow'],
  ['ai.embedMany', 'workflow'],
  ['ai.rerank', 'workflow'],
  ['ai.generateText.doGenerate', 'chat'],
  ['ai.streamText.doStream', 'chat'],
  ['ai.generateObject.doGenerate', 'chat'],
  ['ai.streamObject.doStream', 'chat'],
  ['ai.embed.doEmbed', 'embeddings'],
  ['ai.embedMany.doEmbed', 'embeddings'],
  ['ai.rerank.doRerank', 'rerank'],
  ['ai.toolCall', 'execute_tool'],
]);

const OI_KINDS = new Map<string, GenAiOperation>([
  ['LLM', 'chat'],
  ['EMBEDDING', 'embeddings'],
  ['RETRIEVER', 'retrieval'],
  ['RERANKER', 'rerank'],
  ['TOOL', 'execute_tool'],
  ['AGENT', 'invoke_agent'],
  // CHAIN: workflow when it is the trace root, otherwise 'other' (see classify)
]);

const TL_REQUEST_TYPES = new Map<string, GenAiOperation>([
  ['chat', 'chat'],
  ['completion', 'text_completion'],
  ['embedding', 'embeddings'],
  ['embeddings', 'embeddings'],
  ['rerank', 'rerank'],
]);

const TL_SPAN_KINDS = new Map<string, GenAiOperation>([
  ['workflow', 'workflow'],
  ['agent', 'invoke_agent'],
  ['tool', 'execute_tool'],
  ['task', 'other'],
  ['session', 'other'],
]);

const STAGE_TO_OP = new Map<string, GenAiOperation>([
  ['request', 'workflow'],
  ['embedding', 'embeddings'],
  ['retrieval', 'retrieval'],
  ['rerank', 'rerank'],
  ['context_assembly', 'context_assembly'],
  ['generation', 'chat'],
  ['post_processing', 'post_processing'],
]);

const OP_TO_STAGE: Partial<Record<GenAiOperation, string>> = {
  embeddings: 'embedding',
  retrieval: 'retrieval',
  rerank: 'rerank',
  chat: 'generation',
  text_completion: 'generation',
  generate_content: 'generation',
  context_assembly: 'context_assembly',
  post_processing: 'post_processing',
};

/** Vector databases whose Traceloop query spans are retrieval spans. */
const VECTOR_DBS = new Set([
  'pinecone', 'chroma', 'chromadb', 'qdrant', 'weaviate', 'milvus', 'lancedb', 'pgvector', 'marqo',
  'elasticsearch', 'opensearch', 'redis', 'mongodb', 'azure_ai_search', 'turbopuffer', 'vespa', 'faiss',
]);

/** Finish reasons → the semconv value set (stop, length, content_filter, tool_call, error). Others: lower-cased raw. */
const FINISH_REASONS = new Map<string, string>([
  ['stop', 'stop'],
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['eos', 'stop'],
  ['complete', 'stop'],
  ['finish', 'stop'],
  ['length', 'length'],
  ['max_tokens', 'length'],
  ['max_output_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_calls', 'tool_call'],
  ['tool_call', 'tool_call'],
  ['tool-calls', 'tool_call'],
  ['tool_use', 'tool_call'],
  ['function_call', 'tool_call'],
  ['content_filter', 'content_filter'],
  ['content-filter', 'content_filter'],
  ['safety', 'content_filter'],
  ['recitation', 'content_filter'],
  ['blocklist', 'content_filter'],
  ['prohibited_content', 'content_filter'],
  ['spii', 'content_filter'],
  ['refusal', 'content_filter'],
  ['guardrail_intervened', 'content_filter'],
  ['error', 'error'],
]);

/** Error types too generic to tell a rate limit apart: refined with the message/HTTP status. */
const GENERIC_ERRORS = new Set(['', '_OTHER', 'Error', 'APIError', 'APICallError', 'AI_APICallError', 'AI_RetryError', 'RetryError', 'HTTPError', 'HTTPStatusError', 'APIStatusError', 'InternalServerError']);

/** Provider/SDK spellings of a rate-limit error (compared lower-cased, after the last '.'): → 'RateLimitError'. */
const RATE_LIMIT_TYPES = new Set([
  'ratelimiterror', 'rate_limit_error', 'rate_limit_exceeded', 'ratelimitexceeded', 'ratelimitexceedederror',
  'throttlingexception', 'toomanyrequests', 'toomanyrequestserror', 'too_many_requests', '429',
  'resource_exhausted', 'resourceexhausted',
]);

const MAX_DOCUMENTS = 1000;
const U32_MAX = 4294967295;

// ---------------------------------------------------------------------------------------------
// Scratch state for the single attribute pass (normalizeSpan is synchronous and not re-entrant).

const vals: (AttrValue | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
const ranks = new Uint8Array(SLOT_COUNT);
const touched = new Uint8Array(SLOT_COUNT);
let nTouched = 0;
let hints = 0;
let prefixFlags = 0;
const PF_OI_DOCS = 1;
const PF_OI_RERANK_DOCS = 2;
const PF_TRACELOOP = 4;

function scan(attrs: Attributes): void {
  for (const key in attrs) {
    const code = KEY_TABLE.get(key);
    if (code !== undefined) {
      const slot = code & 63;
      const rank = (code >> 6) & 3;
      const prev = vals[slot];
      if (prev === undefined) {
        const value = attrs[key];
        if (value === undefined || value === null) continue;
        vals[slot] = value;
        ranks[slot] = rank;
        touched[nTouched++] = slot;
      } else if (rank < ranks[slot]) {
        const value = attrs[key];
        if (value === undefined || value === null) continue;
        vals[slot] = value;
        ranks[slot] = rank;
      }
      hints |= code >> 8;
    } else {
      const c = key.charCodeAt(0);
      if (c === 114 /* r */) {
        if (key.startsWith('retrieval.documents.')) prefixFlags |= PF_OI_DOCS;
        else if (key.startsWith('reranker.output_documents.')) prefixFlags |= PF_OI_RERANK_DOCS;
      } else if (c === 116 /* t */ && key.startsWith('traceloop.') && !key.startsWith('traceloop.association.')) {
        prefixFlags |= PF_TRACELOOP;
      }
    }
  }
}

function reset(): void {
  for (let i = 0; i < nTouched; i++) vals[touched[i]] = undefined;
  nTouched = 0;
  hints = 0;
  prefixFlags = 0;
}

// ---------------------------------------------------------------------------------------------

/** Normalizes one span; null for spans that are not GenAI spans. Never throws on odd attribute values. */
export function normalizeSpan(span: DecodedSpan): GenAiRecord | null {
  scan(span.attributes);
  try {
    return build(span);
  } finally {
    reset();
  }
}

function isTraceloopScope(span: DecodedSpan): boolean {
  const name = span.origin?.scope?.name;
  return typeof name === 'string' && name.startsWith('@traceloop/');
}

function hasEvent(span: DecodedSpan, name: string): boolean {
  const events = span.events;
  if (!events) return false;
  for (let i = 0; i < events.length; i++) if (events[i].name === name) return true;
  return false;
}

function build(span: DecodedSpan): GenAiRecord | null {
  const isRoot = span.parentSpanId === '';
  let vectorDbSpan = false;
  if ((hints & H.MARKER) === 0 && (prefixFlags & (PF_OI_DOCS | PF_OI_RERANK_DOCS)) === 0) {
    // Not obviously GenAI. Two more cases: a Traceloop vector-DB query span, a ragscope request root.
    // (Context attributes — user/session ids, ragscope.feature, traceloop.workflow.name and association
    // properties — propagate to every span of a request, so they never make a span GenAI on their own.)
    const dbSystem = vals[S.DB_SYSTEM];
    if (typeof dbSystem === 'string' && VECTOR_DBS.has(dbSystem.toLowerCase()) && hasEvent(span, 'db.query.result')) {
      vectorDbSpan = true;
    } else if (!(isRoot && vals[S.RS_STAGE] !== undefined)) {
      return null;
    }
  }

  // ---- dialect
  let dialect: Dialect;
  if (hints & H.VERCEL) dialect = 'vercel_ai';
  else if (hints & H.OPENINFERENCE) dialect = 'openinference';
  else if (hints & H.OPENLLMETRY || prefixFlags & PF_TRACELOOP || vectorDbSpan || isTraceloopScope(span)) dialect = 'openllmetry';
  else if (hints & H.DEPRECATED && vals[S.PROVIDER] === undefined) dialect = 'semconv_deprecated';
  else dialect = 'semconv';

  // ---- operation
  const aiOp = dialect === 'vercel_ai' ? toStr(vals[S.AI_OP]) || (span.name.startsWith('ai.') ? span.name : '') : '';
  const operation = classify(aiOp, isRoot, vectorDbSpan);
  // ragscope.rag.stage travels as baggage, so a span created directly under the request root inherits
  // "request": that stage belongs to workflow spans only; anything else falls back to its own operation.
  let stageAttr = toStr(vals[S.RS_STAGE]);
  if (stageAttr === 'request' && operation !== 'workflow') stageAttr = '';
  const ragStage = stageAttr !== '' ? stageAttr : operation === 'workflow' ? (isRoot ? 'request' : '') : (OP_TO_STAGE[operation] ?? '');

  // ---- models & provider
  let requestModel = toStr(vals[S.REQ_MODEL]);
  let responseModel = toStr(vals[S.RESP_MODEL]);
  if (dialect === 'openinference') {
    const oiModel = toStr(vals[S.OI_MODEL]);
    if (requestModel === '') {
      const params = vals[S.INV_PARAMS];
      if (typeof params === 'string') requestModel = jsonScalarField(params, 'model') ?? jsonScalarField(params, 'model_name') ?? '';
      if (requestModel === '') requestModel = oiModel;
    }
    if (responseModel === '') responseModel = oiModel;
  } else if (requestModel === '' && responseModel === '') {
    requestModel = toStr(vals[S.OI_MODEL]);
  }
  const providerRaw = toStr(vals[S.PROVIDER]) || toStr(vals[S.SYSTEM]);
  const provider = normalizeProvider(providerRaw) || providerFromModel(responseModel || requestModel);

  // ---- tokens
  const rawIn = toCount(vals[S.INPUT]);
  const rawOut = toCount(vals[S.OUTPUT]);
  let cacheRead = toCount(vals[S.CACHE_READ]);
  let cacheWrite = toCount(vals[S.CACHE_WRITE]);
  const reasoning = toCount(vals[S.REASONING]);
  const total = toCount(vals[S.TOTAL]);
  let inputTokens = rawIn;
  let outputTokens = rawOut;

  if (dialect === 'vercel_ai') {
    // AI SDK v6 reports inputTokenDetails/outputTokenDetails and inclusive totals. AI SDK v5 passed the
    // provider's own numbers through: Anthropic/Bedrock input EXCLUDES cache read/write (cache writes only
    // in providerMetadata), Google output EXCLUDES thinking tokens.
    const v6 = vals[S.NOCACHE] !== undefined || vals[S.TEXT_OUT] !== undefined;
    if (!v6) {
      const family = vercelFamily(providerRaw, provider);
      if (family === 1) {
        const meta = vals[S.PROVIDER_META];
        if ((cacheWrite === null || cacheRead === null) && typeof meta === 'string' && meta.length < 100_000) {
          // AI SDK v4/v5 put Anthropic/Bedrock cache counts in provider metadata only.
          if (cacheWrite === null) {
            const cw = jsonScalarField(meta, 'cacheCreationInputTokens') ?? jsonScalarField(meta, 'cacheWriteInputTokens');
            if (cw !== undefined) cacheWrite = toCount(cw);
          }
          if (cacheRead === null) {
            const cr = jsonScalarField(meta, 'cacheReadInputTokens');
            if (cr !== undefined) cacheRead = toCount(cr);
          }
        }
        if (inputTokens !== null) inputTokens += (cacheRead ?? 0) + (cacheWrite ?? 0);
      } else if (family === 2 && outputTokens !== null && reasoning !== null) {
        outputTokens += reasoning;
      }
    }
  }
  // Safety rules, every dialect: input can never be below its cached part; output never below reasoning.
  // A reported total that only adds up with the exclusive reading settles ambiguous cases too.
  const cached = (cacheRead ?? 0) + (cacheWrite ?? 0);
  if (inputTokens !== null && inputTokens === rawIn && cached > 0) {
    const o = rawOut ?? 0;
    const r = reasoning ?? 0;
    if (rawIn < cached || (total !== null && (total === rawIn + cached + o || total === rawIn + cached + o + r))) {
      inputTokens = rawIn + cached;
    }
  }
  if (outputTokens !== null && outputTokens === rawOut && reasoning !== null && reasoning > 0) {
    const i = rawIn ?? 0;
    if (rawOut < reasoning || (total !== null && (total === i + rawOut + reasoning || total === i + cached + rawOut + reasoning))) {
      outputTokens = rawOut + reasoning;
    }
  }
  // Only a total was reported for one side.
  if (total !== null) {
    if (inputTokens === null && rawOut !== null && total > rawOut) inputTokens = total - rawOut;
    else if (outputTokens === null && inputTokens !== null && operation !== 'embeddings') {
      if (total > inputTokens) outputTokens = total - inputTokens;
      else if (rawIn !== null && total > rawIn) outputTokens = total - rawIn; // total was computed from the exclusive input
    }
    else if (inputTokens === null && outputTokens === null && operation === 'embeddings') inputTokens = total;
  }

  const hasUsage =
    inputTokens !== null || outputTokens !== null || cacheRead !== null || cacheWrite !== null || reasoning !== null;

  // ---- timing / streaming
  let ttftMs: number | null = null;
  const ttftS = toFloat(vals[S.TTFT_S]);
  if (ttftS !== null && ttftS >= 0) ttftMs = Math.round(ttftS * 1e6) / 1e3;
  else {
    const ms = toFloat(vals[S.TTFT_MS]);
    if (ms !== null && ms >= 0) ttftMs = Math.round(ms * 1e3) / 1e3;
  }
  let streaming = toBool(vals[S.STREAM]);
  if (streaming === null) {
    if (dialect === 'vercel_ai' && aiOp !== '') {
      if (aiOp.endsWith('.doStream') || aiOp.startsWith('ai.stream')) streaming = true;
      else if (aiOp.endsWith('.doGenerate') || aiOp.startsWith('ai.generate')) streaming = false;
    } else if (dialect === 'openinference' && (operation === 'chat' || operation === 'text_completion')) {
      const params = vals[S.INV_PARAMS];
      if (typeof params === 'string') streaming = jsonScalarField(params, 'stream') === 'true';
    }
    if (streaming === null && ttftMs !== null) streaming = true;
  }

  // ---- finish reasons
  const finishReasons = normalizeFinishReasons(vals[S.FINISH]);

  // ---- error
  const errorType = resolveErrorType(span);

  // ---- retrieval
  const isRetrievalLike = operation === 'retrieval' || operation === 'rerank';
  let topK = toU32(toCount(vals[S.TOPK_RET]));
  if (topK === null && isRetrievalLike) topK = toU32(toCount(vals[S.TOPK_REQ]));
  let dataSourceId = toStr(vals[S.DATA_SOURCE]);
  if (dataSourceId === '' && isRetrievalLike) dataSourceId = toStr(vals[S.DB_COLLECTION]);
  const documents = extractDocuments(span, operation, vectorDbSpan);

  // ---- reported cost
  let reportedCostUsd = toFloat(vals[S.COST]);
  if (reportedCostUsd !== null && reportedCostUsd < 0) reportedCostUsd = null;

  // ---- usage counted: wrapper spans never count (their usage repeats the model calls below them)
  const usageCounted = !((hasUsage || reportedCostUsd !== null) && isWrapperOperation(operation, span.kind));

  const citedRaw = vals[S.RS_CITED];
  return {
    operation,
    ragStage,
    dialect,
    provider,
    requestModel,
    responseModel,
    inputTokens,
    outputTokens,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: reasoning,
    usageCounted,
    streaming,
    ttftMs,
    finishReasons,
    errorType,
    responseId: toStr(vals[S.RESP_ID]),
    conversationId: toStr(vals[S.CONV]),
    sessionId: toStr(vals[S.SESSION]),
    userId: toStr(vals[S.USER]),
    feature: toStr(vals[S.FEATURE]),
    experiment: toStr(vals[S.EXPERIMENT]),
    variant: toStr(vals[S.VARIANT]),
    dataSourceId,
    topK,
    documents,
    reportedCostUsd,
    citedDocumentIds: citedRaw === undefined ? [] : toStrList(citedRaw),
    citationCount: toU32(toCount(vals[S.RS_CIT_COUNT])),
    invalidCitationCount: toU32(toCount(vals[S.RS_CIT_INVALID])),
    responseCacheHit: toBool(vals[S.RS_CACHE_HIT]),
    queryFingerprint: toStr(vals[S.RS_QFP]),
    queryChars: toU32(toCount(vals[S.RS_QCHARS])),
    queryTokensEstimate: toU32(toCount(vals[S.RS_QTOK])),
    querySketch: toSketch(vals[S.RS_QSKETCH]),
    queryTopic: toStr(vals[S.RS_QTOPIC]),
    contextChunks: toU32(toCount(vals[S.RS_CTX_CHUNKS])),
    contextChars: toU32(toCount(vals[S.RS_CTX_CHARS])),
    ...answerConfidence(vals[S.RS_CONFIDENCE]),
  };
}

/**
 * `ragscope.answer.confidence`: a probability-like score in [0, 1]. Anything else (out of range, NaN, a
 * non-numeric string, a list) is not clamped or guessed at: the value is dropped and the reason kept, so the
 * pipeline can name the attribute to the client and count it (ragscope_attributes_ignored_total).
 */
function answerConfidence(raw: AttrValue | undefined): { answerConfidence: number | null; answerConfidenceIgnored: string | null } {
  if (raw === undefined) return { answerConfidence: null, answerConfidenceIgnored: null };
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : Number.NaN;
  if (value >= 0 && value <= 1) return { answerConfidence: value, answerConfidenceIgnored: null };
  return { answerConfidence: null, answerConfidenceIgnored: `ragscope.answer.confidence = ${JSON.stringify(raw) ?? String(raw)} ignored (must be a number in [0, 1])` };
}

/** ragscope.query.sketch: 16 hex digits (a 64-bit SimHash) → its unsigned decimal text for the UInt64 column; anything else null. */
function toSketch(v: unknown): string | null {
  return typeof v === 'string' && SKETCH_HEX.test(v) ? BigInt(`0x${v}`).toString() : null;
}
const SKETCH_HEX = /^[0-9a-fA-F]{16}$/;

function toU32(n: number | null): number | null {
  return n !== null && n <= U32_MAX ? n : null;
}

/** 1 = Anthropic-style (input excludes cache, AI SDK v5); 2 = Google-style (output excludes reasoning, AI SDK v5); 0 = inclusive. */
function vercelFamily(providerRaw: string, provider: string): number {
  if (provider === 'anthropic' || provider === 'aws.bedrock') return 1;
  if (providerRaw.indexOf('anthropic') >= 0) return 1; // e.g. vertex.anthropic.messages
  if (provider === 'gcp.gemini' || provider === 'gcp.vertex_ai' || provider === 'gcp.gen_ai') return 2;
  return 0;
}

/** Operations whose usage, when present, repeats the usage of model calls below them. */
export function isWrapperOperation(op: GenAiOperation, spanKind: number): boolean {
  switch (op) {
    case 'workflow':
    case 'create_agent':
    case 'other':
    case 'context_assembly':
    case 'post_processing':
      return true;
    case 'invoke_agent':
      // A remote agent (kind CLIENT, e.g. a hosted assistant) has no model-call spans below it in our trace.
      return spanKind !== SpanKind.CLIENT;
    default:
      return false;
  }
}

function classify(aiOp: string, isRoot: boolean, vectorDbSpan: boolean): GenAiOperation {
  if (aiOp !== '') {
    const op = VERCEL_OPS.get(aiOp);
    if (op !== undefined) return op;
    if (aiOp.endsWith('.doGenerate') || aiOp.endsWith('.doStream')) return 'chat';
    if (aiOp.endsWith('.doEmbed')) return 'embeddings';
    if (aiOp.indexOf('.', 3) < 0) return 'workflow'; // another top-level ai.* call
  }
  const opName = vals[S.OP];
  if (typeof opName === 'string') {
    const op = SEMCONV_OPS.get(opName) ?? SEMCONV_OPS.get(opName.trim().toLowerCase());
    if (op !== undefined) return op;
  }
  const oiKind = vals[S.OI_KIND];
  if (typeof oiKind === 'string') {
    const upper = oiKind.toUpperCase();
    const op = OI_KINDS.get(upper);
    if (op !== undefined) return op;
    if (upper === 'CHAIN') return isRoot ? 'workflow' : 'other';
    return 'other';
  }
  const reqType = vals[S.LLM_REQ_TYPE];
  if (typeof reqType === 'string') {
    const op = TL_REQUEST_TYPES.get(reqType.toLowerCase());
    if (op !== undefined) return op;
  }
  const tlKind = vals[S.TL_KIND];
  if (typeof tlKind === 'string') {
    const op = TL_SPAN_KINDS.get(tlKind.toLowerCase());
    if (op !== undefined) return op;
  }
  if (vectorDbSpan || vals[S.TOPK_RET] !== undefined || vals[S.DOCS] !== undefined || vals[S.DATA_SOURCE] !== undefined) {
    return 'retrieval';
  }
  if (typeof opName === 'string' && opName !== '') return 'other'; // an operation we do not model (image_generation, ...)
  const stage = vals[S.RS_STAGE];
  if (typeof stage === 'string') {
    const op = STAGE_TO_OP.get(stage);
    if (op !== undefined && (op !== 'chat' || hasModelOrUsage())) return op;
  }
  if (hasModelOrUsage()) return 'chat';
  return 'other';
}

function hasModelOrUsage(): boolean {
  return (
    vals[S.REQ_MODEL] !== undefined ||
    vals[S.RESP_MODEL] !== undefined ||
    vals[S.OI_MODEL] !== undefined ||
    vals[S.INPUT] !== undefined ||
    vals[S.OUTPUT] !== undefined
  );
}

function normalizeFinishReasons(v: AttrValue | undefined): string[] {
  if (v === undefined) return [];
  const list = toStrList(v);
  for (let i = 0; i < list.length; i++) {
    const raw = list[i];
    const mapped = FINISH_REASONS.get(raw) ?? FINISH_REASONS.get(raw.toLowerCase());
    list[i] = mapped ?? raw.toLowerCase();
  }
  return list;
}

function resolveErrorType(span: DecodedSpan): string {
  let errorType = toStr(vals[S.ERROR_TYPE]);
  const isError = span.statusCode === StatusCode.ERROR;
  if (errorType === '' && !isError) return '';
  let message = '';
  if (isError) {
    const events = span.events;
    if (events) {
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (ev.name !== 'exception') continue;
        if (errorType === '') errorType = toStr(ev.attributes['exception.type']);
        message = toStr(ev.attributes['exception.message']);
        break;
      }
    }
  }
  const httpStatus = toCount(vals[S.HTTP_STATUS]);
  if (GENERIC_ERRORS.has(errorType) && looksRateLimited(httpStatus, message, span.statusMessage)) return 'RateLimitError';
  if (errorType === '' && httpStatus !== null && httpStatus >= 400) errorType = String(httpStatus);
  if (errorType === '') return '_OTHER';
  // One canonical value for rate limits: 'rate_limit_error' (Anthropic), 'openai.RateLimitError' (Python),
  // 'ThrottlingException' (Bedrock), 'RESOURCE_EXHAUSTED' (Gemini), '429' ...
  if (RATE_LIMIT_TYPES.has(errorType.slice(errorType.lastIndexOf('.') + 1).toLowerCase())) return 'RateLimitError';
  return errorType;
}

function looksRateLimited(httpStatus: number | null, message: string, statusMessage: string): boolean {
  if (httpStatus === 429) return true;
  return mentionsRateLimit(message) || mentionsRateLimit(statusMessage);
}

function mentionsRateLimit(s: string): boolean {
  if (!s) return false;
  if (s.indexOf('429') >= 0) return true;
  const l = s.toLowerCase();
  return l.indexOf('rate limit') >= 0 || l.indexOf('ratelimit') >= 0 || l.indexOf('rate_limit') >= 0 || l.indexOf('too many requests') >= 0;
}

// ---- documents

function extractDocuments(span: DecodedSpan, op: GenAiOperation, vectorDbSpan: boolean): RetrievedDocument[] {
  const docsAttr = vals[S.DOCS];
  if (docsAttr !== undefined) {
    const docs = documentsFromJson(docsAttr);
    if (docs.length > 0) return docs;
  }
  if (prefixFlags & (PF_OI_DOCS | PF_OI_RERANK_DOCS)) {
    const attrs = span.attributes;
    const preferRerank = op === 'rerank' || !(prefixFlags & PF_OI_DOCS);
    const prefix = preferRerank && prefixFlags & PF_OI_RERANK_DOCS ? 'reranker.output_documents.' : 'retrieval.documents.';
    const docs = documentsFromIndexed(attrs, prefix);
    if (docs.length > 0) return docs;
  }
  if (vectorDbSpan || op === 'retrieval') {
    const events = span.events;
    if (events && events.length > 0) return documentsFromEvents(span);
  }
  return [];
}

function documentsFromJson(v: AttrValue): RetrievedDocument[] {
  let items: unknown = v;
  if (typeof v === 'string') items = parseJson(v);
  if (!Array.isArray(items)) return [];
  const out: RetrievedDocument[] = [];
  for (let i = 0; i < items.length && out.length < MAX_DOCUMENTS; i++) {
    let item: unknown = items[i];
    if (typeof item === 'string') item = parseJson(item);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const o = item as Record<string, AttrValue>;
    const id = toStr(o.id ?? o['document.id']);
    const score = toFloat(o.score ?? o['document.score']);
    if (id === '' && score === null) continue;
    out.push({ id, score });
  }
  return out;
}

function documentsFromIndexed(attrs: Attributes, prefix: string): RetrievedDocument[] {
  const out: RetrievedDocument[] = [];
  let misses = 0;
  for (let i = 0; i < MAX_DOCUMENTS && misses < 2; i++) {
    const base = prefix + i + '.document.';
    const idV = attrs[base + 'id'];
    const scoreV = attrs[base + 'score'];
    if (idV === undefined && scoreV === undefined) {
      // tolerate a gap (a document with content only) but stop at the end
      if (attrs[base + 'content'] === undefined) misses++;
      continue;
    }
    misses = 0;
    const id = toStr(idV);
    const score = toFloat(scoreV);
    if (id === '' && score === null) continue;
    out.push({ id, score });
  }
  return out;
}

function documentsFromEvents(span: DecodedSpan): RetrievedDocument[] {
  const out: RetrievedDocument[] = [];
  const events = span.events;
  for (let i = 0; i < events.length && out.length < MAX_DOCUMENTS; i++) {
    const ev = events[i];
    if (ev.name !== 'db.query.result') continue;
    const a = ev.attributes;
    const id = toStr(a['db.query.result.id']);
    const score = toFloat(a['db.query.result.score']);
    if (id === '' && score === null) continue;
    out.push({ id, score });
  }
  return out;
}

/** True when the record carries any usage (tokens or a reported cost). */
export function carriesUsage(r: GenAiRecord): boolean {
  return (
    r.inputTokens !== null ||
    r.outputTokens !== null ||
    r.cacheReadTokens !== null ||
    r.cacheWriteTokens !== null ||
    r.reasoningTokens !== null ||
    r.reportedCostUsd !== null
  );
}
