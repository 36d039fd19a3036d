// The ragscope.* attribute names the processor reads (docs/conventions.md).
// instrumentation/src/attributes.ts holds the emitting side; keep the two in agreement.

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
