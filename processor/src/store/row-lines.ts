import type { CostResult, DecodedSpan, GenAiRecord, SpanOrigin } from '../model.js';
import { durationNanos, environmentOf, serviceNameOf, SPAN_KIND_NAMES, STATUS_CODE_NAMES, toStringMap } from './rows.js';
import { attributesJson } from './attributes-json.js';
import type { Row, TableName } from './write-queue.js';

// The hot-path form of rows.ts: each otel_traces / genai_spans row as its JSONCompactEachRow line (a JSON
// array in the column order below), written by the pipeline instead of a row object for the client to
// JSON.stringify. Measured on the bench payload (bench/ingest.ts, rounds interleaved): the text of both rows
// costs about 40% less than row objects + JSON.stringify. Arrays carry no key names (genai_spans has ~55 columns), so JSON.stringify writes far
// fewer bytes and ClickHouse parses fewer; JSON.stringify of one array stays faster than concatenating the
// text by hand (many small string pieces cost more to build and flatten than they save).
//
// rows.ts stays the readable definition of every column: tests/processor/row-lines.test.ts checks that each
// line, zipped with its column list, equals the object rows.ts builds. Add a column in both places.

/**
 * otel_traces columns in line order. The origin's columns come first (their JSON is written once per origin),
 * SpanAttributes last (its JSON is written by attributes-json.ts, not by JSON.stringify).
 */
export const TRACE_COLUMNS = [
  'ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion',
  'Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind', 'Duration',
  'StatusCode', 'StatusMessage', 'Events.Timestamp', 'Events.Name', 'Events.Attributes',
  'Links.TraceId', 'Links.SpanId', 'Links.TraceState', 'Links.Attributes', 'SpanAttributes',
] as const;

/** genai_spans columns in line order. */
export const GENAI_COLUMNS = [
  'TenantId', 'Timestamp', 'ServiceName', 'Environment', 'TraceId', 'SpanId', 'ParentSpanId', 'SpanName',
  'Operation', 'RagStage', 'Dialect', 'Provider', 'RequestModel', 'ResponseModel',
  'InputTokens', 'OutputTokens', 'CacheReadTokens', 'CacheWriteTokens', 'ReasoningTokens', 'UsageCounted',
  'CostUSD', 'CostInputUSD', 'CostCacheReadUSD', 'CostCacheWriteUSD', 'CostOutputUSD', 'CostReasoningUSD',
  'CostSource', 'PriceId', 'DurationMs', 'TtftMs', 'Streaming', 'StatusCode', 'ErrorType', 'FinishReasons',
  'ResponseId', 'ConversationId', 'SessionId', 'UserId', 'Feature', 'Experiment', 'Variant', 'DataSourceId',
  'TopK', 'DocumentIds', 'DocumentScores', 'CitedDocumentIds', 'CitationCount', 'InvalidCitationCount',
  'ResponseCacheHit', 'QueryFingerprint', 'QueryChars', 'QueryTokensEstimate', 'ContextChunks', 'ContextChars',
] as const;

/** Tables whose rows the pipeline writes as lines, and the columns of those lines. */
export const LINE_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  otel_traces: TRACE_COLUMNS,
  genai_spans: GENAI_COLUMNS,
};

// Backquoted for the INSERT's column list (Nested columns have dots in their names).
const QUOTED_COLUMNS = new Map<TableName, string[]>(
  Object.entries(LINE_COLUMNS).map(([table, columns]) => [table as TableName, columns.map((c) => `\`${c}\``)]),
);

/**
 * Format (and column list) for inserting `rows` into `table` through @clickhouse/client with stringifyRow
 * (clickhouse.ts): lines as JSONCompactEachRow, row objects as JSONEachRow. One insert holds one kind.
 */
export function insertFormat(
  table: TableName,
  rows: readonly Row[],
): { format: 'JSONCompactEachRow'; columns: [string, ...string[]] } | { format: 'JSONEachRow' } {
  const lines = rows.length > 0 && typeof rows[0] === 'string';
  for (const row of rows) {
    if ((typeof row === 'string') !== lines) throw new Error(`${table}: an insert mixes row lines and row objects`);
  }
  if (!lines) return { format: 'JSONEachRow' };
  const columns = QUOTED_COLUMNS.get(table);
  if (!columns) throw new Error(`${table}: no column list for row lines`);
  return { format: 'JSONCompactEachRow', columns: columns as [string, ...string[]] };
}

// All spans of one ScopeSpans share their origin object, so its columns are serialized once: the line's
// opening bracket and the four origin values, e.g. `["rag-api",{"service.name":"rag-api",…},"scope","1.0",`.
// The origin is complete when rows are built: decoding finishes before the pipeline runs.
const originPrefixes = new WeakMap<SpanOrigin, string>();

function originPrefix(origin: SpanOrigin): string {
  let prefix = originPrefixes.get(origin);
  if (prefix === undefined) {
    const json = JSON.stringify([serviceNameOf(origin), toStringMap(origin.resource), origin.scope.name, origin.scope.version]);
    prefix = `${json.slice(0, -1)},`;
    originPrefixes.set(origin, prefix);
  }
  return prefix;
}

const NO_ITEMS: never[] = [];

/** toTraceRow(span) as a JSONCompactEachRow line in TRACE_COLUMNS order (without the newline). */
export function traceRowLine(span: DecodedSpan): string {
  const events = span.events;
  const links = span.links;
  const rest = JSON.stringify([
    span.startTimeUnixNano.toString(),
    span.traceId,
    span.spanId,
    span.parentSpanId,
    span.traceState,
    span.name,
    SPAN_KIND_NAMES[span.kind] ?? 'Unspecified',
    durationNanos(span).toString(),
    STATUS_CODE_NAMES[span.statusCode] ?? 'Unset',
    span.statusMessage,
    events.length === 0 ? NO_ITEMS : events.map((e) => e.timeUnixNano.toString()),
    events.length === 0 ? NO_ITEMS : events.map((e) => e.name),
    events.length === 0 ? NO_ITEMS : events.map((e) => toStringMap(e.attributes)),
    links.length === 0 ? NO_ITEMS : links.map((l) => l.traceId),
    links.length === 0 ? NO_ITEMS : links.map((l) => l.spanId),
    links.length === 0 ? NO_ITEMS : links.map((l) => l.traceState),
    links.length === 0 ? NO_ITEMS : links.map((l) => toStringMap(l.attributes)),
  ]);
  // `rest` is `[…]`: its inside goes between the origin's prefix and the SpanAttributes object.
  return `${originPrefix(span.origin)}${rest.slice(1, -1)},${attributesJson(span.attributes)}]`;
}

/** toGenAiRow(…) as a JSONCompactEachRow line in GENAI_COLUMNS order (without the newline). */
export function genAiRowLine(span: DecodedSpan, record: GenAiRecord, cost: CostResult, tenant: string): string {
  const r = record;
  const docs = r.documents;
  return JSON.stringify([
    tenant,
    span.startTimeUnixNano.toString(),
    serviceNameOf(span.origin),
    environmentOf(span.origin),
    span.traceId,
    span.spanId,
    span.parentSpanId,
    span.name,
    r.operation,
    r.ragStage,
    r.dialect,
    r.provider,
    r.requestModel,
    r.responseModel,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.reasoningTokens,
    r.usageCounted ? 1 : 0,
    cost.totalUsd,
    cost.inputUsd,
    cost.cacheReadUsd,
    cost.cacheWriteUsd,
    cost.outputUsd,
    cost.reasoningUsd,
    cost.source,
    cost.priceId,
    Number(durationNanos(span)) / 1e6,
    r.ttftMs,
    r.streaming,
    STATUS_CODE_NAMES[span.statusCode] ?? 'Unset',
    r.errorType,
    r.finishReasons,
    r.responseId,
    r.conversationId,
    r.sessionId,
    r.userId,
    r.feature,
    r.experiment,
    r.variant,
    r.dataSourceId,
    r.topK,
    docs.length === 0 ? NO_ITEMS : docs.map((d) => d.id),
    docs.length === 0 ? NO_ITEMS : docs.map((d) => d.score),
    r.citedDocumentIds,
    r.citationCount,
    r.invalidCitationCount,
    r.responseCacheHit,
    r.queryFingerprint,
    r.queryChars,
    r.queryTokensEstimate,
    r.contextChunks,
    r.contextChars,
  ]);
}
