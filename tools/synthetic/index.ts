// Deterministic synthetic RAG traffic for tests, benchmarks, dashboards and the demo (docs/analytics.md).
export { generateDataset, fingerprintOf, startOfCurrentHourMs, setConfidence, CONFIDENCE_ATTRIBUTE, type GenerateOptions } from './generate.js';
export { sendDataset, waitUntilStored, orderedSpans, logRecordsOf, type SendOptions, type SendStats } from './send.js';
export { loadDirect, type DirectOptions, type DirectStats } from './direct.js';
export {
  encodeTraces,
  encodeLogs,
  feedbackApiBodies,
  feedbackLogRecords,
  evaluationLogRecords,
  toDecodedSpan,
  toDecodedLog,
  resourceAttributes,
  type SpanWithRequest,
  type SynthLogRecord,
} from './otlp.js';
export { CHAT_MODELS, EMBEDDING_MODEL, FEATURES, RERANK_MODEL, syntheticPriceBook, modelPrices, type ModelSpec, type FeatureSpec } from './catalog.js';
export { Prng } from './prng.js';
export * from './model.js';
export { generateConversations, IMPLICIT_DEFAULTS, type ConversationDataset, type ConversationOptions, type PlannedTurn, type PlannedRelation } from './conversations.js';
export { sketchOf } from './generate.js';
