// One trace for the built-in trace page: its spans from otel_traces (the columns Grafana's trace view
// reads) joined in the browser with each span's GenAI row (genai_spans) and the evaluations and
// feedback recorded for the trace. Run on the read-only client with the trace id as a query parameter.
import type { ReadOnlyQuery } from '../query/read-only.js';

export const TRACE_ID = /^[0-9a-f]{32}$/;

/** The trace's time range first (otel_traces_trace_id_ts), so the span scan reads only its partitions. */
const SPANS_SQL = `
WITH
  (SELECT min(Start) FROM otel_traces_trace_id_ts WHERE TraceId = {trace_id:String}) AS trace_start,
  (SELECT max(End) + 1 FROM otel_traces_trace_id_ts WHERE TraceId = {trace_id:String}) AS trace_end
SELECT SpanId, ParentSpanId, ServiceName, SpanName, SpanKind,
       toString(toUnixTimestamp64Nano(Timestamp)) AS StartNs, Duration, StatusCode, StatusMessage,
       SpanAttributes, ResourceAttributes
FROM otel_traces
WHERE TraceId = {trace_id:String} AND Timestamp >= trace_start AND Timestamp <= trace_end
ORDER BY Timestamp, SpanId`;

const GENAI_SQL = `
SELECT SpanId, Operation, RagStage, Provider, RequestModel, ResponseModel,
       InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens,
       toString(CostUSD) AS CostUSD, CostSource, TtftMs, StatusCode, ErrorType, FinishReasons,
       DataSourceId, TopK, DocumentIds, DocumentScores, CitedDocumentIds, CitationCount, InvalidCitationCount,
       ResponseCacheHit, UserId, SessionId, Feature, Experiment, Variant
FROM genai_spans
WHERE TraceId = {trace_id:String}`;

const EVALUATIONS_SQL = `
SELECT SpanId, Name, Value, Label, Explanation, Evaluator
FROM evaluations
WHERE TraceId = {trace_id:String}
ORDER BY Timestamp, Name`;

const FEEDBACK_SQL = `
SELECT Kind, Thumbs, Rating, Comment, UserId
FROM feedback_latest
WHERE TraceId = {trace_id:String}
ORDER BY Timestamp`;

export function traceQueries(traceId: string): Record<'spans' | 'genai' | 'evaluations' | 'feedback', ReadOnlyQuery> {
  const params = { trace_id: traceId };
  return {
    spans: { query: SPANS_SQL, params },
    genai: { query: GENAI_SQL, params },
    evaluations: { query: EVALUATIONS_SQL, params },
    feedback: { query: FEEDBACK_SQL, params },
  };
}
