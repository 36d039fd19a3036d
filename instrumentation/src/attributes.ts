// Attribute names @ragscope/instrumentation emits (docs/conventions.md).
// processor/src/normalize/ragscope-attributes.ts holds the reading side; keep the two in agreement
// (same keys, same values): tests/instrumentation/attributes.test.ts checks it.

export const RAGSCOPE_ATTRIBUTES = {
  FEATURE: 'ragscope.feature',
  EXPERIMENT: 'ragscope.experiment',
  VARIANT: 'ragscope.variant',
  RAG_STAGE: 'ragscope.rag.stage',
  RETRIEVAL_DOCUMENT_COUNT: 'ragscope.retrieval.document_count',
  RETRIEVAL_RELEVANCE_MIN: 'ragscope.retrieval.relevance.min',
  RETRIEVAL_RELEVANCE_MAX: 'ragscope.retrieval.relevance.max',
  RETRIEVAL_RELEVANCE_AVG: 'ragscope.retrieval.relevance.avg',
  CONTEXT_CHUNKS: 'ragscope.context.chunks',
  CONTEXT_CHARS: 'ragscope.context.chars',
  CONTEXT_TOKENS_ESTIMATE: 'ragscope.context.tokens_estimate',
  CITATION_CITED_IDS: 'ragscope.citation.cited_ids',
  CITATION_COUNT: 'ragscope.citation.count',
  CITATION_INVALID_COUNT: 'ragscope.citation.invalid_count',
  CITATION_USAGE_RATE: 'ragscope.citation.usage_rate',
  RESPONSE_CACHE_HIT: 'ragscope.response_cache.hit',
  QUERY_FINGERPRINT: 'ragscope.query.fingerprint',
  QUERY_CHARS: 'ragscope.query.chars',
  QUERY_TOKENS_ESTIMATE: 'ragscope.query.tokens_estimate',
  /** The app's confidence in its answer, a double in [0, 1], on the span that produced the answer. */
  ANSWER_CONFIDENCE: 'ragscope.answer.confidence',
  QUERY_SKETCH: 'ragscope.query.sketch',
  QUERY_TOPIC: 'ragscope.query.topic',
  FEEDBACK_ID: 'ragscope.feedback.id',
  FEEDBACK_KIND: 'ragscope.feedback.kind',
  FEEDBACK_COMMENT: 'ragscope.feedback.comment',
  FEEDBACK_TAGS: 'ragscope.feedback.tags',
  EVALUATION_PREDICTED: 'ragscope.evaluation.predicted',
  EVALUATION_ACTUAL: 'ragscope.evaluation.actual',
} as const;

/** Values of `ragscope.rag.stage`. */
export const RAG_STAGES = [
  'request',
  'embedding',
  'retrieval',
  'rerank',
  'context_assembly',
  'generation',
  'post_processing',
] as const;
export type RagStage = (typeof RAG_STAGES)[number];

/**
 * The OpenTelemetry GenAI (and neighbouring) names this package writes. They are copied, not imported:
 * `@opentelemetry/semantic-conventions` exports the `gen_ai.*` names only from its unstable `incubating`
 * entry point, which asks to be copied. Everything GenAI is still "Development": this is the one place
 * to follow a rename.
 */
export const GEN_AI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  /** Deprecated (now `gen_ai.provider.name`); only ever removed by ragscope, never written. */
  SYSTEM: 'gen_ai.system',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_STREAM: 'gen_ai.request.stream',
  REQUEST_TOP_K: 'gen_ai.request.top_k',
  REQUEST_SEED: 'gen_ai.request.seed',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  USAGE_CACHE_CREATION_INPUT_TOKENS: 'gen_ai.usage.cache_creation.input_tokens',
  /** The newer name of cache_creation (semantic-conventions-genai); the Anthropic SDK writes it. */
  USAGE_CACHE_WRITE_INPUT_TOKENS: 'gen_ai.usage.cache_write.input_tokens',
  USAGE_REASONING_OUTPUT_TOKENS: 'gen_ai.usage.reasoning.output_tokens',
  EMBEDDINGS_DIMENSION_COUNT: 'gen_ai.embeddings.dimension.count',
  DATA_SOURCE_ID: 'gen_ai.data_source.id',
  RETRIEVAL_DOCUMENTS: 'gen_ai.retrieval.documents',
  RETRIEVAL_QUERY_TEXT: 'gen_ai.retrieval.query.text',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
  SYSTEM_INSTRUCTIONS: 'gen_ai.system_instructions',
  TOOL_CALL_ARGUMENTS: 'gen_ai.tool.call.arguments',
  TOOL_CALL_RESULT: 'gen_ai.tool.call.result',
  EVALUATION_NAME: 'gen_ai.evaluation.name',
  EVALUATION_SCORE_VALUE: 'gen_ai.evaluation.score.value',
  EVALUATION_SCORE_LABEL: 'gen_ai.evaluation.score.label',
  EVALUATION_EXPLANATION: 'gen_ai.evaluation.explanation',
} as const;

export const OTHER_ATTRIBUTES = {
  USER_ID: 'user.id',
  SESSION_ID: 'session.id',
  ERROR_TYPE: 'error.type',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  /** Retries the SDK made (OTel HTTP semconv: the ordinal of the resend); absent when there was none. */
  HTTP_REQUEST_RESEND_COUNT: 'http.request.resend_count',
  EVENT_NAME: 'event.name',
} as const;

/** The log event that carries user feedback and automated evaluations. */
export const EVALUATION_EVENT_NAME = 'gen_ai.evaluation.result';
/** `gen_ai.evaluation.name` of user feedback. */
export const USER_FEEDBACK_EVALUATION_NAME = 'user_feedback';

/**
 * The request-context keys: each is a baggage key and, copied by RagscopeSpanProcessor, the attribute
 * of the same name on every span started under it.
 */
export const CONTEXT_BAGGAGE_KEYS = [
  OTHER_ATTRIBUTES.USER_ID,
  OTHER_ATTRIBUTES.SESSION_ID,
  GEN_AI.CONVERSATION_ID,
  RAGSCOPE_ATTRIBUTES.FEATURE,
  RAGSCOPE_ATTRIBUTES.EXPERIMENT,
  RAGSCOPE_ATTRIBUTES.VARIANT,
] as const;

/**
 * Attributes that carry content (prompts, completions, retrieved text, queries). They leave the
 * process only when content capture is on, and then only through the redactor.
 */
export const CONTENT_ATTRIBUTES = [
  GEN_AI.INPUT_MESSAGES,
  GEN_AI.OUTPUT_MESSAGES,
  GEN_AI.SYSTEM_INSTRUCTIONS,
  GEN_AI.TOOL_CALL_ARGUMENTS,
  GEN_AI.TOOL_CALL_RESULT,
  GEN_AI.RETRIEVAL_QUERY_TEXT,
  // Deprecated content attributes some libraries still write.
  'gen_ai.prompt',
  'gen_ai.completion',
  'anthropic.tool_result.content',
] as const;
