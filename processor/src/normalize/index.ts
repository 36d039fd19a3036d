export { normalizeSpan, carriesUsage, isWrapperOperation, type Dialect } from './normalize.js';
export { UsageDeduplicator, DEFAULT_DEDUPE_CACHE_SIZE, type SpanRecordPair } from './dedupe.js';
export { normalizeProvider, providerFromModel } from './providers.js';
export { RAGSCOPE_ATTRIBUTES, RAG_STAGES, type RagStage } from './ragscope-attributes.js';
export { KNOWN_KEYS } from './attribute-table.js';
