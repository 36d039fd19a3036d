import type { DecodedSpan, SpanOrigin } from '../model.js';
import { GENAI_COLUMNS } from './genai-spans-columns.js';
import { durationNanos, serviceNameOf, SPAN_KIND_NAMES, STATUS_CODE_NAMES, toStringMap } from './rows.js';
import { attributesJson, writeAttributesJson } from './attributes-json.js';
import { LineRow, type ByteWriter } from './json-bytes.js';
import type { Row, TableName } from './write-queue.js';

// The hot-path form of rows: each otel_traces / genai_spans row as its JSONCompactEachRow line (a JSON array
// in column order), written by the pipeline instead of a row object for the client to JSON.stringify.
// Measured on the bench payload (bench/ingest.ts, rounds interleaved): the text of both rows costs about 40%
// less than row objects + JSON.stringify. Arrays carry no key names (genai_spans has ~55 columns), so
// JSON.stringify writes far fewer bytes and ClickHouse parses fewer; JSON.stringify of one array stays faster
// than concatenating the text by hand (many small string pieces cost more to build and flatten than they save).
//
// genai_spans lines come from its column list (genai-spans-columns.ts). For otel_traces, rows.ts's toTraceRow
// is the readable definition: tests/processor/row-lines.test.ts checks that each line, zipped with
// TRACE_COLUMNS, equals that object.

/**
 * otel_traces columns in line order. The origin's columns come first (their JSON is written once per origin),
 * SpanAttributes last (its JSON is written by attributes-json.ts, not by JSON.stringify).
 */
export const TRACE_COLUMNS = [
  'ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion',
  'Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind', 'Duration',
  'StatusCode', 'StatusMessage', 'Events.Timestamp', 'Events.Name', 'Events.Attributes',
  'Links.TraceId', 'Links.SpanId', 'Links.TraceState', 'Links.Attributes', 'SpanAttributes', 'TenantId',
] as const;

/**
 * Columns of otel_traces lines written before TenantId (migration 0024): a line from an older write-ahead log
 * is replayed with the column DEFAULT (the default tenant), the value every older row got.
 */
export const TRACE_COLUMNS_BEFORE_TENANT = TRACE_COLUMNS.length - 1;

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
  const lines = rows.length > 0 && isLineRow(rows[0]);
  for (const row of rows) {
    if (isLineRow(row) !== lines) throw new Error(`${table}: an insert mixes row lines and row objects`);
  }
  if (!lines) return { format: 'JSONEachRow' };
  return { format: 'JSONCompactEachRow', columns: lineColumns(table) };
}

/** The quoted column list of `table`'s row lines (insertFormat's, for lines known to be lines). */
export function lineColumns(table: TableName): [string, ...string[]] {
  const columns = QUOTED_COLUMNS.get(table);
  if (!columns) throw new Error(`${table}: no column list for row lines`);
  return columns as [string, ...string[]];
}

function isLineRow(row: Row): boolean {
  return typeof row === 'string' || row instanceof LineRow;
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

/** toTraceRow(span, tenant) as a JSONCompactEachRow line in TRACE_COLUMNS order (without the newline). */
export function traceRowLine(span: DecodedSpan, tenant: string): string {
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
  return `${originPrefix(span.origin)}${rest.slice(1, -1)},${attributesJson(span.attributes)},${tenantJson(tenant)}]`;
}

const tenantJsons = new Map<string, string>();
function tenantJson(tenant: string): string {
  let json = tenantJsons.get(tenant);
  if (json === undefined) tenantJsons.set(tenant, (json = JSON.stringify(tenant)));
  return json;
}

// The same origin prefix as UTF-8 bytes, for rows written straight into the record (writeTraceRow).
const originPrefixBytes = new WeakMap<SpanOrigin, Buffer>();
const tenantBytes = new Map<string, Buffer>();
/** The event and link columns of a span without events and links. */
const NO_EVENTS_OR_LINKS = Buffer.from('[],[],[],[],[],[],[]');

/** traceRowLine(span, tenant) written as UTF-8 into `w` (json-bytes.ts): the same bytes, no string per row. */
export function writeTraceRow(w: ByteWriter, span: DecodedSpan, tenant: string): void {
  const origin = span.origin;
  let prefix = originPrefixBytes.get(origin);
  if (prefix === undefined) originPrefixBytes.set(origin, (prefix = Buffer.from(originPrefix(origin))));
  w.bytes(prefix);
  w.byte(34);
  w.ascii(span.startTimeUnixNano.toString());
  w.byte(34);
  w.byte(44);
  w.string(span.traceId);
  w.byte(44);
  w.string(span.spanId);
  w.byte(44);
  w.string(span.parentSpanId);
  w.byte(44);
  w.string(span.traceState);
  w.byte(44);
  w.string(span.name);
  w.byte(44);
  w.string(SPAN_KIND_NAMES[span.kind] ?? 'Unspecified');
  w.byte(44);
  w.byte(34);
  w.ascii(durationNanos(span).toString());
  w.byte(34);
  w.byte(44);
  w.string(STATUS_CODE_NAMES[span.statusCode] ?? 'Unset');
  w.byte(44);
  w.string(span.statusMessage);
  w.byte(44);
  const events = span.events;
  const links = span.links;
  if (events.length === 0 && links.length === 0) w.bytes(NO_EVENTS_OR_LINKS);
  else {
    // The arrays JSON.stringify writes in traceRowLine; a map of text is attributesJson's (writeAttributesJson).
    writeArray(w, events, (e) => {
      w.byte(34);
      w.ascii(e.timeUnixNano.toString());
      w.byte(34);
    });
    w.byte(44);
    writeArray(w, events, (e) => w.string(e.name));
    w.byte(44);
    writeArray(w, events, (e) => writeAttributesJson(w, e.attributes));
    for (const field of ['traceId', 'spanId', 'traceState'] as const) {
      w.byte(44);
      writeArray(w, links, (l) => w.string(l[field]));
    }
    w.byte(44);
    writeArray(w, links, (l) => writeAttributesJson(w, l.attributes));
  }
  w.byte(44);
  writeAttributesJson(w, span.attributes);
  w.byte(44);
  let t = tenantBytes.get(tenant);
  if (t === undefined) {
    t = Buffer.from(tenantJson(tenant));
    if (tenantBytes.size < 1024) tenantBytes.set(tenant, t);
  }
  w.bytes(t);
  w.byte(93);
}

/** An otel_traces row the record writes straight into its bytes (writeTraceRow); line() is traceRowLine. */
export class TraceLineRow extends LineRow {
  constructor(
    readonly span: DecodedSpan,
    readonly tenant: string,
  ) {
    super();
  }

  write(w: ByteWriter): void {
    writeTraceRow(w, this.span, this.tenant);
  }

  line(): string {
    return traceRowLine(this.span, this.tenant);
  }
}

/** `[item,item,…]`, each item written by `write` (spans with events or links only: the common span has neither). */
function writeArray<T>(w: ByteWriter, items: readonly T[], write: (item: T) => void): void {
  w.byte(91);
  for (let i = 0; i < items.length; i++) {
    if (i > 0) w.byte(44);
    write(items[i]);
  }
  w.byte(93);
}
