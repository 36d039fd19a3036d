-- One wide, immutable row per GenAI span, normalized from whatever instrumentation produced it.
-- Typed columns: analytics never cast Map values. Tenant first in the sort key, then time
-- (the Langfuse v3 lesson: no ReplacingMergeTree/FINAL on the hot path).
-- Token columns are NULL when the span reported no usage (never 0). Input tokens INCLUDE cache
-- read/write tokens; output tokens INCLUDE reasoning tokens (OTel GenAI semantics).
-- UsageCounted = 0 marks a wrapper span whose usage duplicates a model-call span below it:
-- sum tokens and cost WHERE UsageCounted = 1.
CREATE TABLE IF NOT EXISTS genai_spans (
    TenantId LowCardinality(String),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    ServiceName LowCardinality(String),
    Environment LowCardinality(String),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    SpanName LowCardinality(String),
    Operation LowCardinality(String),
    RagStage LowCardinality(String),
    Dialect LowCardinality(String),
    Provider LowCardinality(String),
    RequestModel LowCardinality(String),
    ResponseModel LowCardinality(String),
    InputTokens Nullable(UInt64),
    OutputTokens Nullable(UInt64),
    CacheReadTokens Nullable(UInt64),
    CacheWriteTokens Nullable(UInt64),
    ReasoningTokens Nullable(UInt64),
    UsageCounted UInt8,
    CostUSD Nullable(Decimal(18, 12)),
    CostInputUSD Nullable(Decimal(18, 12)),
    CostCacheReadUSD Nullable(Decimal(18, 12)),
    CostCacheWriteUSD Nullable(Decimal(18, 12)),
    CostOutputUSD Nullable(Decimal(18, 12)),
    CostReasoningUSD Nullable(Decimal(18, 12)),
    CostSource LowCardinality(String),
    PriceId LowCardinality(String),
    DurationMs Float64,
    TtftMs Nullable(Float64),
    Streaming Nullable(Bool),
    StatusCode LowCardinality(String),
    ErrorType LowCardinality(String),
    FinishReasons Array(LowCardinality(String)),
    ResponseId String CODEC(ZSTD(1)),
    ConversationId String CODEC(ZSTD(1)),
    SessionId String CODEC(ZSTD(1)),
    UserId String CODEC(ZSTD(1)),
    Feature LowCardinality(String),
    Experiment LowCardinality(String),
    Variant LowCardinality(String),
    DataSourceId LowCardinality(String),
    TopK Nullable(UInt32),
    DocumentIds Array(String) CODEC(ZSTD(1)),
    DocumentScores Array(Nullable(Float64)) CODEC(ZSTD(1)),
    CitedDocumentIds Array(String) CODEC(ZSTD(1)),
    CitationCount Nullable(UInt32),
    InvalidCitationCount Nullable(UInt32),
    ResponseCacheHit Nullable(Bool),
    QueryFingerprint String CODEC(ZSTD(1)),
    QueryChars Nullable(UInt32),
    QueryTokensEstimate Nullable(UInt32),
    ContextChunks Nullable(UInt32),
    ContextChars Nullable(UInt32),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_response_id ResponseId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_user_id UserId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (TenantId, toStartOfHour(Timestamp), ServiceName, Operation, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(${RAW_TTL_DAYS})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;
