import type {
  AttrValue,
  Attributes,
  DecodedLogRecord,
  DecodedSpan,
  InstrumentationScope,
  SpanEvent,
  SpanLink,
  SpanOrigin,
} from '../model.js';
import { bigIntToAttrValue, newOrigin, setAttribute } from './attribute-values.js';
import { FieldPath } from './field-path.js';
import { OtlpDecodeError } from './otlp-decode-error.js';

// OTLP/JSON (protobuf JSON mapping with the OTLP exceptions): lowerCamelCase keys (snake_case accepted),
// trace/span ids as hex (case-insensitive, not base64), enums as integers or names, 64-bit integers as
// decimal strings or numbers, unknown fields ignored, null meaning "not set".

type JsonObject = Record<string, unknown>;

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UNSIGNED_DECIMAL = /^\d+$/;
const SIGNED_DECIMAL = /^-?\d+$/;

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODE_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const SEVERITY_NUMBER_NAMES: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((level, i) => {
  SEVERITY_NUMBER_NAMES[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
  for (let n = 2; n <= 4; n++) SEVERITY_NUMBER_NAMES[`SEVERITY_NUMBER_${level}${n}`] = i * 4 + n;
});

/** Decodes an OTLP/JSON ExportTraceServiceRequest. Throws OtlpDecodeError on malformed input. */
export function decodeTracesJson(body: Uint8Array | string): DecodedSpan[] {
  const path = new FieldPath();
  const root = parseRoot(body, path);
  const spans: DecodedSpan[] = [];
  forEachObject(root, 'resourceSpans', 'resource_spans', path, (resourceSpans) => {
    const resource = decodeResource(resourceSpans, path);
    forEachObject(resourceSpans, 'scopeSpans', 'scope_spans', path, (scopeSpans) => {
      const origin = decodeOrigin(scopeSpans, resource, path);
      forEachObject(scopeSpans, 'spans', 'spans', path, (span) => spans.push(decodeSpan(span, origin, path)));
    });
  });
  return spans;
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest. Throws OtlpDecodeError on malformed input. */
export function decodeLogsJson(body: Uint8Array | string): DecodedLogRecord[] {
  const path = new FieldPath();
  const root = parseRoot(body, path);
  const records: DecodedLogRecord[] = [];
  forEachObject(root, 'resourceLogs', 'resource_logs', path, (resourceLogs) => {
    const resource = decodeResource(resourceLogs, path);
    forEachObject(resourceLogs, 'scopeLogs', 'scope_logs', path, (scopeLogs) => {
      const origin = decodeOrigin(scopeLogs, resource, path);
      forEachObject(scopeLogs, 'logRecords', 'log_records', path, (record) =>
        records.push(decodeLogRecord(record, origin, path)),
      );
    });
  });
  return records;
}

function parseRoot(body: Uint8Array | string, path: FieldPath): JsonObject {
  let text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError('', `invalid JSON: ${(err as Error).message}`);
  }
  // Only a \uD800-\uDFFF escape can put a lone surrogate into a decoded string (UTF-8 bytes cannot), and
  // ClickHouse refuses a whole insert over one, so strings are repaired only when such an escape occurs.
  if (SURROGATE_ESCAPE.test(text)) parsed = toWellFormed(parsed);
  return expectObject(parsed, path);
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

// Matches code units, not code points (no `u` flag): a high surrogate without its low half, or the reverse.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const wellFormed = (s: string) => s.replace(LONE_SURROGATE, '\ufffd');

/** Replaces lone surrogates in every string (keys included) with U+FFFD. */
function toWellFormed(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(toWellFormed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a "__proto__" key stays a plain property, as JSON.parse made it.
      Object.defineProperty(out, wellFormed(key), { value: toWellFormed(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** The field under its lowerCamelCase name, else its proto (snake_case) name; null counts as absent. */
function get(obj: JsonObject, camel: string, snake: string): unknown {
  const value = obj[camel];
  if (value !== undefined && value !== null) return value;
  return obj[snake] ?? undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, path: FieldPath, leaf?: string): JsonObject {
  if (!isObject(value)) throw path.error(`expected object, got ${quote(value)}`, leaf);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function forEachObject(
  parent: JsonObject,
  camel: string,
  snake: string,
  path: FieldPath,
  visit: (item: JsonObject) => void,
): void {
  const list = get(parent, camel, snake);
  if (list === undefined) return;
  if (!Array.isArray(list)) throw path.error(`expected array, got ${quote(list)}`, camel);
  for (let i = 0; i < list.length; i++) {
    path.push(camel, i);
    visit(expectObject(list[i], path));
    path.pop();
  }
}

function decodeResource(parent: JsonObject, path: FieldPath): Attributes {
  const resource: Attributes = {};
  const value = get(parent, 'resource', 'resource');
  if (value === undefined) return resource;
  path.push('resource', -1);
  decodeAttributesInto(expectObject(value, path), resource, path);
  path.pop();
  return resource;
}

function decodeOrigin(parent: JsonObject, resource: Attributes, path: FieldPath): SpanOrigin {
  const origin = newOrigin(resource);
  const value = get(parent, 'scope', 'scope');
  if (value === undefined) return origin;
  path.push('scope', -1);
  const scopeJson = expectObject(value, path);
  const scope: InstrumentationScope = origin.scope;
  scope.name = string(scopeJson, 'name', 'name', path);
  scope.version = string(scopeJson, 'version', 'version', path);
  decodeAttributesInto(scopeJson, scope.attributes, path);
  path.pop();
  return origin;
}

function decodeSpan(json: JsonObject, origin: SpanOrigin, path: FieldPath): DecodedSpan {
  const span: DecodedSpan = {
    origin,
    traceId: hexId(json, 'traceId', 'trace_id', path),
    spanId: hexId(json, 'spanId', 'span_id', path),
    parentSpanId: hexId(json, 'parentSpanId', 'parent_span_id', path),
    traceState: string(json, 'traceState', 'trace_state', path),
    name: string(json, 'name', 'name', path),
    kind: enumValue(json, 'kind', 'kind', SPAN_KIND_NAMES, path),
    startTimeUnixNano: uint64(json, 'startTimeUnixNano', 'start_time_unix_nano', path),
    endTimeUnixNano: uint64(json, 'endTimeUnixNano', 'end_time_unix_nano', path),
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  };
  decodeAttributesInto(json, span.attributes, path);
  forEachObject(json, 'events', 'events', path, (event) => span.events.push(decodeEvent(event, path)));
  forEachObject(json, 'links', 'links', path, (link) => span.links.push(decodeLink(link, path)));
  const status = get(json, 'status', 'status');
  if (status !== undefined) {
    path.push('status', -1);
    const statusJson = expectObject(status, path);
    span.statusCode = enumValue(statusJson, 'code', 'code', STATUS_CODE_NAMES, path);
    span.statusMessage = string(statusJson, 'message', 'message', path);
    path.pop();
  }
  // flags (W3C trace flags + remote-parent bits) is validated but not part of DecodedSpan.
  uint32(json, 'flags', 'flags', path);
  return span;
}

function decodeEvent(json: JsonObject, path: FieldPath): SpanEvent {
  const event: SpanEvent = {
    timeUnixNano: uint64(json, 'timeUnixNano', 'time_unix_nano', path),
    name: string(json, 'name', 'name', path),
    attributes: {},
  };
  decodeAttributesInto(json, event.attributes, path);
  return event;
}

function decodeLink(json: JsonObject, path: FieldPath): SpanLink {
  const link: SpanLink = {
    traceId: hexId(json, 'traceId', 'trace_id', path),
    spanId: hexId(json, 'spanId', 'span_id', path),
    traceState: string(json, 'traceState', 'trace_state', path),
    attributes: {},
  };
  decodeAttributesInto(json, link.attributes, path);
  uint32(json, 'flags', 'flags', path);
  return link;
}

function decodeLogRecord(json: JsonObject, origin: SpanOrigin, path: FieldPath): DecodedLogRecord {
  const record: DecodedLogRecord = {
    origin,
    timeUnixNano: uint64(json, 'timeUnixNano', 'time_unix_nano', path),
    observedTimeUnixNano: uint64(json, 'observedTimeUnixNano', 'observed_time_unix_nano', path),
    severityNumber: enumValue(json, 'severityNumber', 'severity_number', SEVERITY_NUMBER_NAMES, path),
    severityText: string(json, 'severityText', 'severity_text', path),
    body: null,
    attributes: {},
    traceId: hexId(json, 'traceId', 'trace_id', path),
    spanId: hexId(json, 'spanId', 'span_id', path),
    flags: uint32(json, 'flags', 'flags', path),
    eventName: string(json, 'eventName', 'event_name', path),
  };
  const body = get(json, 'body', 'body');
  if (body !== undefined) {
    path.push('body', -1);
    record.body = anyValue(body, path);
    path.pop();
  }
  decodeAttributesInto(json, record.attributes, path);
  return record;
}

function decodeAttributesInto(parent: JsonObject, target: Record<string, AttrValue>, path: FieldPath): void {
  forEachObject(parent, 'attributes', 'attributes', path, (kv) => decodeKeyValueInto(kv, target, path));
}

function decodeKeyValueInto(kv: JsonObject, target: Record<string, AttrValue>, path: FieldPath): void {
  const key = string(kv, 'key', 'key', path);
  const value = get(kv, 'value', 'value');
  let decoded: AttrValue = null;
  if (value !== undefined) {
    path.push('value', -1);
    decoded = anyValue(value, path);
    path.pop();
  }
  setAttribute(target, key, decoded);
}

/** An AnyValue with no field set is null; with several set (invalid oneof), the lowest field number wins. */
function anyValue(value: unknown, path: FieldPath): AttrValue {
  const json = expectObject(value, path);
  let v: unknown;
  if ((v = get(json, 'stringValue', 'string_value')) !== undefined) {
    if (typeof v !== 'string') throw path.error(`expected string, got ${quote(v)}`, 'stringValue');
    return v;
  }
  if ((v = get(json, 'boolValue', 'bool_value')) !== undefined) {
    if (typeof v !== 'boolean') throw path.error(`expected boolean, got ${quote(v)}`, 'boolValue');
    return v;
  }
  if ((v = get(json, 'intValue', 'int_value')) !== undefined) return int64(v, path, 'intValue');
  if ((v = get(json, 'doubleValue', 'double_value')) !== undefined) return double(v, path, 'doubleValue');
  if ((v = get(json, 'arrayValue', 'array_value')) !== undefined) {
    path.push('arrayValue', -1);
    const values: AttrValue[] = [];
    const list = get(expectObject(v, path), 'values', 'values');
    if (list !== undefined) {
      if (!Array.isArray(list)) throw path.error(`expected array, got ${quote(list)}`, 'values');
      for (let i = 0; i < list.length; i++) {
        path.push('values', i);
        values.push(list[i] === null ? null : anyValue(list[i], path));
        path.pop();
      }
    }
    path.pop();
    return values;
  }
  if ((v = get(json, 'kvlistValue', 'kvlist_value')) !== undefined) {
    path.push('kvlistValue', -1);
    const values: { [key: string]: AttrValue } = {};
    forEachObject(expectObject(v, path), 'values', 'values', path, (kv) => decodeKeyValueInto(kv, values, path));
    path.pop();
    return values;
  }
  if ((v = get(json, 'bytesValue', 'bytes_value')) !== undefined) {
    if (typeof v !== 'string') throw path.error(`expected base64 string, got ${quote(v)}`, 'bytesValue');
    return Buffer.from(v, 'base64').toString('hex');
  }
  return null;
}

function string(json: JsonObject, camel: string, snake: string, path: FieldPath): string {
  const value = get(json, camel, snake);
  if (value === undefined) return '';
  if (typeof value !== 'string') throw path.error(`expected string, got ${quote(value)}`, camel);
  return value;
}

/** Ids are hex in OTLP/JSON; their length/validity is the store stage's call (partial success), not a decode error. */
function hexId(json: JsonObject, camel: string, snake: string, path: FieldPath): string {
  const value = get(json, camel, snake);
  if (value === undefined) return '';
  if (typeof value !== 'string') throw path.error(`expected hex string, got ${quote(value)}`, camel);
  return value.toLowerCase();
}

function uint64(json: JsonObject, camel: string, snake: string, path: FieldPath): bigint {
  const value = get(json, camel, snake);
  if (value === undefined) return 0n;
  let result: bigint | undefined;
  if (typeof value === 'string') {
    if (UNSIGNED_DECIMAL.test(value)) result = BigInt(value);
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    result = BigInt(value);
  }
  if (result === undefined || result > UINT64_MAX) {
    throw path.error(`expected integer string, got ${quote(value)}`, camel);
  }
  return result;
}

function uint32(json: JsonObject, camel: string, snake: string, path: FieldPath): number {
  const value = get(json, camel, snake);
  if (value === undefined) return 0;
  const n = typeof value === 'string' && UNSIGNED_DECIMAL.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw path.error(`expected unsigned 32-bit integer, got ${quote(value)}`, camel);
  }
  return n;
}

function enumValue(json: JsonObject, camel: string, snake: string, names: Record<string, number>, path: FieldPath): number {
  const value = get(json, camel, snake);
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) return value;
  if (typeof value === 'string') {
    const named = names[value];
    if (named !== undefined && Object.prototype.hasOwnProperty.call(names, value)) return named;
    if (SIGNED_DECIMAL.test(value)) {
      const n = Number(value);
      if (n >= -0x80000000 && n <= 0x7fffffff) return n;
    }
  }
  throw path.error(`expected enum integer or name, got ${quote(value)}`, camel);
}

function int64(value: unknown, path: FieldPath, leaf: string): number | string {
  let result: bigint | undefined;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    if (Number.isInteger(value)) result = BigInt(value);
  } else if (typeof value === 'string' && SIGNED_DECIMAL.test(value)) {
    result = BigInt(value);
  }
  if (result === undefined || result < INT64_MIN || result > INT64_MAX) {
    throw path.error(`expected 64-bit integer, got ${quote(value)}`, leaf);
  }
  return bigIntToAttrValue(result);
}

function double(value: unknown, path: FieldPath, leaf: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isNaN(n)) return n;
  }
  throw path.error(`expected number, got ${quote(value)}`, leaf);
}

function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = describe(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
