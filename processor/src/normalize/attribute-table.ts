// The mapping layer: every attribute key any supported dialect uses, mapped to a canonical slot.
// One pass over a span's attributes fills the slots (see normalize.ts); keys not listed here are ignored.
// To support a new spelling, add a row: [key, slot, rank, hints]. Lower rank wins when several keys
// of the same slot are present. Hints say which dialect a key belongs to and whether its presence
// alone makes a span a GenAI span (MARKER).

/** Canonical slots. */
export const S = {
  OP: 0,
  PROVIDER: 1,
  SYSTEM: 2,
  REQ_MODEL: 3,
  RESP_MODEL: 4,
  OI_MODEL: 5,
  INV_PARAMS: 6,
  INPUT: 7,
  OUTPUT: 8,
  CACHE_READ: 9,
  CACHE_WRITE: 10,
  REASONING: 11,
  TOTAL: 12,
  NOCACHE: 13,
  TEXT_OUT: 14,
  PROVIDER_META: 15,
  AI_OP: 16,
  OI_KIND: 17,
  LLM_REQ_TYPE: 18,
  TL_KIND: 19,
  TTFT_S: 20,
  TTFT_MS: 21,
  FINISH: 22,
  ERROR_TYPE: 23,
  HTTP_STATUS: 24,
  RESP_ID: 25,
  CONV: 26,
  SESSION: 27,
  USER: 28,
  FEATURE: 29,
  EXPERIMENT: 30,
  VARIANT: 31,
  DATA_SOURCE: 32,
  DB_COLLECTION: 33,
  DB_SYSTEM: 34,
  TOPK_REQ: 35,
  TOPK_RET: 36,
  DOCS: 37,
  STREAM: 38,
  COST: 39,
  RS_STAGE: 40,
  RS_CITED: 41,
  RS_CIT_COUNT: 42,
  RS_CIT_INVALID: 43,
  RS_CACHE_HIT: 44,
  RS_QFP: 45,
  RS_QCHARS: 46,
  RS_QTOK: 47,
  RS_CTX_CHUNKS: 48,
  RS_CTX_CHARS: 49,
  RS_CONFIDENCE: 50,
  RS_QSKETCH: 51,
  RS_QTOPIC: 52,
} as const;
export const SLOT_COUNT = 53;

/** Hint bits. */
export const H = {
  /** Presence alone marks a GenAI span. */
  MARKER: 1,
  VERCEL: 2,
  OPENINFERENCE: 4,
  OPENLLMETRY: 8,
  DEPRECATED: 16,
} as const;

const M = H.MARKER;
const V = H.VERCEL;
const OI = H.OPENINFERENCE;
const TL = H.OPENLLMETRY;
const DEP = H.DEPRECATED;

type Row = readonly [key: string, slot: number, rank: number, hints: number];

const TL_ASSOC = 'traceloop.association.properties.';
const AI_META = 'ai.telemetry.metadata.';

const ROWS: Row[] = [
  // ---- operation / kind
  ['gen_ai.operation.name', S.OP, 0, M],
  ['ai.operationId', S.AI_OP, 0, M | V],
  ['openinference.span.kind', S.OI_KIND, 0, M | OI],
  ['llm.request.type', S.LLM_REQ_TYPE, 0, M | TL],
  ['traceloop.span.kind', S.TL_KIND, 0, M | TL],
  // ---- provider
  ['gen_ai.provider.name', S.PROVIDER, 0, M],
  ['llm.provider', S.PROVIDER, 1, OI],
  ['ai.model.provider', S.PROVIDER, 1, V],
  ['gen_ai.system', S.SYSTEM, 0, M | DEP],
  ['llm.system', S.SYSTEM, 1, OI],
  // ---- models
  ['gen_ai.request.model', S.REQ_MODEL, 0, M],
  ['llm.request.model_name', S.REQ_MODEL, 1, OI],
  ['ai.model.id', S.REQ_MODEL, 1, M | V],
  ['gen_ai.response.model', S.RESP_MODEL, 0, M],
  ['llm.response.model_name', S.RESP_MODEL, 1, OI],
  ['ai.response.model', S.RESP_MODEL, 1, V],
  ['llm.model_name', S.OI_MODEL, 0, M | OI],
  ['embedding.model_name', S.OI_MODEL, 0, M | OI],
  ['reranker.model_name', S.OI_MODEL, 0, M | OI],
  ['llm.invocation_parameters', S.INV_PARAMS, 0, OI],
  ['embedding.invocation_parameters', S.INV_PARAMS, 0, OI],
  // ---- tokens
  ['gen_ai.usage.input_tokens', S.INPUT, 0, M],
  ['gen_ai.usage.prompt_tokens', S.INPUT, 1, M | DEP],
  ['llm.token_count.prompt', S.INPUT, 1, M | OI],
  ['ai.usage.inputTokens', S.INPUT, 1, M | V],
  ['ai.usage.promptTokens', S.INPUT, 2, M | V],
  ['llm.usage.prompt_tokens', S.INPUT, 2, M | TL],
  ['ai.usage.tokens', S.INPUT, 3, M | V],
  ['gen_ai.usage.output_tokens', S.OUTPUT, 0, M],
  ['gen_ai.usage.completion_tokens', S.OUTPUT, 1, M | DEP],
  ['llm.token_count.completion', S.OUTPUT, 1, M | OI],
  ['ai.usage.outputTokens', S.OUTPUT, 1, M | V],
  ['ai.usage.completionTokens', S.OUTPUT, 2, M | V],
  ['llm.usage.completion_tokens', S.OUTPUT, 2, M | TL],
  ['gen_ai.usage.cache_read.input_tokens', S.CACHE_READ, 0, 0],
  ['gen_ai.usage.cache_read_input_tokens', S.CACHE_READ, 1, 0],
  ['llm.token_count.prompt_details.cache_read', S.CACHE_READ, 1, OI],
  ['ai.usage.inputTokenDetails.cacheReadTokens', S.CACHE_READ, 1, V],
  ['ai.usage.cachedInputTokens', S.CACHE_READ, 2, V],
  ['gen_ai.usage.cache_creation.input_tokens', S.CACHE_WRITE, 0, 0],
  ['gen_ai.usage.cache_write.input_tokens', S.CACHE_WRITE, 0, 0],
  ['gen_ai.usage.cache_creation_input_tokens', S.CACHE_WRITE, 1, 0],
  ['gen_ai.usage.cache_write_input_tokens', S.CACHE_WRITE, 1, 0],
  ['llm.token_count.prompt_details.cache_write', S.CACHE_WRITE, 1, OI],
  ['ai.usage.inputTokenDetails.cacheWriteTokens', S.CACHE_WRITE, 1, V],
  ['gen_ai.usage.reasoning.output_tokens', S.REASONING, 0, 0],
  ['gen_ai.usage.reasoning_tokens', S.REASONING, 1, 0],
  ['llm.token_count.completion_details.reasoning', S.REASONING, 1, OI],
  ['ai.usage.outputTokenDetails.reasoningTokens', S.REASONING, 1, V],
  ['ai.usage.reasoningTokens', S.REASONING, 2, V],
  ['gen_ai.usage.total_tokens', S.TOTAL, 0, M],
  ['llm.usage.total_tokens', S.TOTAL, 0, M | TL],
  ['llm.token_count.total', S.TOTAL, 0, M | OI],
  ['ai.usage.totalTokens', S.TOTAL, 0, M | V],
  ['ai.usage.inputTokenDetails.noCacheTokens', S.NOCACHE, 0, V],
  ['ai.usage.outputTokenDetails.textTokens', S.TEXT_OUT, 0, V],
  ['ai.response.providerMetadata', S.PROVIDER_META, 0, V],
  // ---- response
  ['gen_ai.response.time_to_first_chunk', S.TTFT_S, 0, 0],
  ['ai.response.msToFirstChunk', S.TTFT_MS, 0, V],
  ['ai.stream.msToFirstChunk', S.TTFT_MS, 1, V],
  ['gen_ai.response.finish_reasons', S.FINISH, 0, 0],
  ['llm.finish_reason', S.FINISH, 1, OI],
  ['ai.response.finishReason', S.FINISH, 1, V],
  ['gen_ai.completion.0.finish_reason', S.FINISH, 2, TL],
  ['ai.finishReason', S.FINISH, 3, V],
  ['gen_ai.response.id', S.RESP_ID, 0, 0],
  ['ai.response.id', S.RESP_ID, 1, V],
  ['gen_ai.request.stream', S.STREAM, 0, 0],
  ['llm.is_streaming', S.STREAM, 1, TL],
  ['error.type', S.ERROR_TYPE, 0, 0],
  ['http.response.status_code', S.HTTP_STATUS, 0, 0],
  ['http.status_code', S.HTTP_STATUS, 1, 0],
  // ---- reported cost
  ['gen_ai.usage.cost', S.COST, 0, 0],
  ['llm.cost.total', S.COST, 1, OI],
  // ---- request context (these propagate via baggage/association properties: never markers)
  ['gen_ai.conversation.id', S.CONV, 0, 0],
  [TL_ASSOC + 'conversation_id', S.CONV, 1, 0],
  [TL_ASSOC + 'conversationId', S.CONV, 1, 0],
  [TL_ASSOC + 'thread_id', S.CONV, 2, 0],
  [AI_META + 'conversationId', S.CONV, 1, 0],
  [AI_META + 'conversation_id', S.CONV, 1, 0],
  [AI_META + 'threadId', S.CONV, 2, 0],
  ['session.id', S.SESSION, 0, 0],
  ['gen_ai.session.id', S.SESSION, 1, 0],
  [TL_ASSOC + 'session_id', S.SESSION, 1, 0],
  [TL_ASSOC + 'sessionId', S.SESSION, 1, 0],
  [AI_META + 'sessionId', S.SESSION, 1, 0],
  [AI_META + 'session_id', S.SESSION, 1, 0],
  ['user.id', S.USER, 0, 0],
  ['enduser.id', S.USER, 1, 0],
  [TL_ASSOC + 'user_id', S.USER, 1, 0],
  [TL_ASSOC + 'userId', S.USER, 1, 0],
  [AI_META + 'userId', S.USER, 1, 0],
  [AI_META + 'user_id', S.USER, 1, 0],
  ['ragscope.feature', S.FEATURE, 0, 0],
  [TL_ASSOC + 'feature', S.FEATURE, 1, 0],
  [AI_META + 'feature', S.FEATURE, 1, 0],
  ['ragscope.experiment', S.EXPERIMENT, 0, 0],
  [TL_ASSOC + 'experiment', S.EXPERIMENT, 1, 0],
  [AI_META + 'experiment', S.EXPERIMENT, 1, 0],
  ['ragscope.variant', S.VARIANT, 0, 0],
  [TL_ASSOC + 'variant', S.VARIANT, 1, 0],
  [AI_META + 'variant', S.VARIANT, 1, 0],
  // ---- retrieval
  ['gen_ai.data_source.id', S.DATA_SOURCE, 0, M],
  ['db.collection.name', S.DB_COLLECTION, 0, 0],
  ['db.vector.table_name', S.DB_COLLECTION, 1, TL],
  ['db.system.name', S.DB_SYSTEM, 0, 0],
  ['db.system', S.DB_SYSTEM, 1, 0],
  ['gen_ai.request.top_k', S.TOPK_REQ, 0, 0],
  ['llm.top_k', S.TOPK_REQ, 1, TL],
  ['gen_ai.retrieval.top_k', S.TOPK_RET, 0, M],
  ['db.vector.query.top_k', S.TOPK_RET, 1, M | TL],
  ['reranker.top_k', S.TOPK_RET, 1, OI],
  ['gen_ai.retrieval.documents', S.DOCS, 0, M],
  // ---- ragscope.*
  ['ragscope.rag.stage', S.RS_STAGE, 0, 0],
  ['ragscope.citation.cited_ids', S.RS_CITED, 0, 0],
  ['ragscope.citation.count', S.RS_CIT_COUNT, 0, 0],
  ['ragscope.citation.invalid_count', S.RS_CIT_INVALID, 0, 0],
  ['ragscope.response_cache.hit', S.RS_CACHE_HIT, 0, 0],
  ['ragscope.query.fingerprint', S.RS_QFP, 0, 0],
  ['ragscope.query.chars', S.RS_QCHARS, 0, 0],
  ['ragscope.query.tokens_estimate', S.RS_QTOK, 0, 0],
  ['ragscope.query.sketch', S.RS_QSKETCH, 0, 0],
  ['ragscope.query.topic', S.RS_QTOPIC, 0, 0],
  ['ragscope.context.chunks', S.RS_CTX_CHUNKS, 0, 0],
  ['ragscope.context.chars', S.RS_CTX_CHARS, 0, 0],
  ['ragscope.answer.confidence', S.RS_CONFIDENCE, 0, 0],
];

/** key → slot | rank << 6 | hints << 8 */
export const KEY_TABLE: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [key, slot, rank, hints] of ROWS) {
    if (m.has(key)) throw new Error(`attribute-table: duplicate key ${key}`);
    if (slot >= SLOT_COUNT || rank > 3) throw new Error(`attribute-table: bad row ${key}`);
    m.set(key, slot | (rank << 6) | (hints << 8));
  }
  return m;
})();

/** All attribute keys the normalizer reads by exact name (for docs/tests). */
export const KNOWN_KEYS: readonly string[] = ROWS.map((r) => r[0]);
