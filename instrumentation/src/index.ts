// @ragscope/instrumentation: OpenTelemetry for LLM and RAG apps (GenAI semantic conventions).
// See docs/instrumentation.md.

export { register, getRegistered, ragscopeInstrumentations, applyEnvironmentDefaults } from './sdk.js';
export type { RegisterOptions, RagscopeHandle, TelemetryStats } from './sdk.js';
export type { ForeignApiCopy } from './api-copies.js';

export { RagscopeSpanProcessor, applyContentPolicy, normalizeAnthropicSpan, ANTHROPIC_SDK_SCOPE } from './span-processor.js';
export { RagscopeOpenAIInstrumentation, OPENAI_SUPPORTED_VERSIONS, OPENAI_SCOPE } from './openai.js';
export type { RagscopeOpenAIInstrumentationConfig } from './openai.js';
export { AnthropicInstrumentation, ANTHROPIC_FALLBACK_VERSIONS } from './anthropic.js';

export { configure, runtimeConfig, captureContentFromEnv } from './config.js';
export type { ContentOptions, RuntimeConfig } from './config.js';
export { defaultRedact, Redactor } from './redaction.js';
export type { RedactFn, RedactionContext } from './redaction.js';
export { fingerprintQuery, normalizeQuery, estimateTokens } from './fingerprint.js';
export type { QueryFingerprint } from './fingerprint.js';
export { simHash64, sketchHex, hammingDistance, sketchFeatures } from './sketch.js';

export { traceRag, markResponseCacheHit, recordQuery, currentTraceId, currentFeedbackTarget } from './request.js';
export type { RagContext, RagRequest } from './request.js';
export { traceEmbedding, traceRetrieval, traceRerank, traceContextAssembly, traceGeneration, tracePostProcessing, recordCitations, recordAnswerConfidence } from './stages.js';
export type {
  Stage,
  RetrievedDocument,
  EmbeddingOptions,
  EmbeddingStage,
  RetrievalOptions,
  RetrievalStage,
  RerankOptions,
  RerankStage,
  ContextAssemblyStage,
  GenerationOptions,
  GenerationStage,
  PostProcessingStage,
} from './stages.js';
export { analyzeCitations } from './citations.js';
export type { CitationSource, CitationOptions, CitationResult } from './citations.js';

export { recordFeedback, recordEvaluation, RagscopeLogRecordProcessor, PLACEHOLDER_SPAN_ID } from './feedback.js';
export type { FeedbackInput, EvaluationInput, EvaluationTarget, RecordResult } from './feedback.js';

export {
  RAGSCOPE_ATTRIBUTES,
  RAG_STAGES,
  GEN_AI,
  OTHER_ATTRIBUTES,
  CONTEXT_BAGGAGE_KEYS,
  CONTENT_ATTRIBUTES,
  EVALUATION_EVENT_NAME,
  USER_FEEDBACK_EVALUATION_NAME,
} from './attributes.js';
export type { RagStage } from './attributes.js';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';
