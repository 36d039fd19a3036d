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
import { int64ToAttrValue, newAttributes, newOrigin, setAttribute } from './attribute-values.js';
import { I32, I64, LEN, ProtobufReader, VARINT, fieldTag, messageSchema } from './protobuf-reader.js';

export { OtlpDecodeError } from './otlp-decode-error.js';

// Hand-written decoder for ExportTraceServiceRequest / ExportLogsServiceRequest (opentelemetry-proto v1.x),
// on top of the bounds-checked wire reader in protobuf-reader.ts.

const EXPORT_TRACE_REQUEST = messageSchema({ 1: ['resource_spans', LEN] });
const EXPORT_LOGS_REQUEST = messageSchema({ 1: ['resource_logs', LEN] });
const RESOURCE_SPANS = messageSchema({ 1: ['resource', LEN], 2: ['scope_spans', LEN], 3: ['schema_url', LEN] });
const RESOURCE_LOGS = messageSchema({ 1: ['resource', LEN], 2: ['scope_logs', LEN], 3: ['schema_url', LEN] });
const SCOPE_SPANS = messageSchema({ 1: ['scope', LEN], 2: ['spans', LEN], 3: ['schema_url', LEN] });
const SCOPE_LOGS = messageSchema({ 1: ['scope', LEN], 2: ['log_records', LEN], 3: ['schema_url', LEN] });
const RESOURCE = messageSchema({ 1: ['attributes', LEN], 2: ['dropped_attributes_count', VARINT], 3: ['entity_refs', LEN] });
const SCOPE = messageSchema({
  1: ['name', LEN],
  2: ['version', LEN],
  3: ['attributes', LEN],
  4: ['dropped_attributes_count', VARINT],
});
const SPAN = messageSchema({
  1: ['trace_id', LEN],
  2: ['span_id', LEN],
  3: ['trace_state', LEN],
  4: ['parent_span_id', LEN],
  5: ['name', LEN],
  6: ['kind', VARINT],
  7: ['start_time_unix_nano', I64],
  8: ['end_time_unix_nano', I64],
  9: ['attributes', LEN],
  10: ['dropped_attributes_count', VARINT],
  11: ['events', LEN],
  12: ['dropped_events_count', VARINT],
  13: ['links', LEN],
  14: ['dropped_links_count', VARINT],
  15: ['status', LEN],
  16: ['flags', I32],
});
const EVENT = messageSchema({
  1: ['time_unix_nano', I64],
  2: ['name', LEN],
  3: ['attributes', LEN],
  4: ['dropped_attributes_count', VARINT],
});
const LINK = messageSchema({
  1: ['trace_id', LEN],
  2: ['span_id', LEN],
  3: ['trace_state', LEN],
  4: ['attributes', LEN],
  5: ['dropped_attributes_count', VARINT],
  6: ['flags', I32],
});
const STATUS = messageSchema({ 2: ['message', LEN], 3: ['code', VARINT] });
const LOG_RECORD = messageSchema({
  1: ['time_unix_nano', I64],
  2: ['severity_number', VARINT],
  3: ['severity_text', LEN],
  5: ['body', LEN],
  6: ['attributes', LEN],
  7: ['dropped_attributes_count', VARINT],
  8: ['flags', I32],
  9: ['trace_id', LEN],
  10: ['span_id', LEN],
  11: ['observed_time_unix_nano', I64],
  12: ['event_name', LEN],
});
const KEY_VALUE = messageSchema({ 1: ['key', LEN], 2: ['value', LEN] });
const ANY_VALUE = messageSchema({
  1: ['string_value', LEN],
  2: ['bool_value', VARINT],
  3: ['int_value', VARINT],
  4: ['double_value', I64],
  5: ['array_value', LEN],
  6: ['kvlist_value', LEN],
  7: ['bytes_value', LEN],
});
const VALUES_LIST = messageSchema({ 1: ['values', LEN] });

/** Decodes a binary ExportTraceServiceRequest. Throws OtlpDecodeError on malformed input. */
export function decodeTraces(data: Uint8Array): DecodedSpan[] {
  const r = new ProtobufReader(data);
  const spans: DecodedSpan[] = [];
  const end = r.buf.length;
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      r.path.push('resource_spans', index++);
      decodeResourceSpans(r, r.delimitedEnd(end), spans);
      r.path.pop();
    } else {
      r.skip(t, end, EXPORT_TRACE_REQUEST);
    }
  }
  return spans;
}

/** Decodes a binary ExportLogsServiceRequest. Throws OtlpDecodeError on malformed input. */
export function decodeLogs(data: Uint8Array): DecodedLogRecord[] {
  const r = new ProtobufReader(data);
  const records: DecodedLogRecord[] = [];
  const end = r.buf.length;
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      r.path.push('resource_logs', index++);
      decodeResourceLogs(r, r.delimitedEnd(end), records);
      r.path.pop();
    } else {
      r.skip(t, end, EXPORT_LOGS_REQUEST);
    }
  }
  return records;
}

// Resource and scope objects are created before their fields are seen (protobuf allows any field order)
// and filled in place, so every span of the group shares them by reference.

function decodeResourceSpans(r: ProtobufReader, end: number, out: DecodedSpan[]): void {
  const resource: Attributes = {};
  let scopeIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(2, LEN)) {
      r.path.push('scope_spans', scopeIndex++);
      decodeScopeSpans(r, r.delimitedEnd(end), newOrigin(resource), out);
      r.path.pop();
    } else if (t === fieldTag(1, LEN)) {
      r.path.push('resource', -1);
      decodeResource(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE_SPANS);
    }
  }
}

function decodeResourceLogs(r: ProtobufReader, end: number, out: DecodedLogRecord[]): void {
  const resource: Attributes = {};
  let scopeIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(2, LEN)) {
      r.path.push('scope_logs', scopeIndex++);
      decodeScopeLogs(r, r.delimitedEnd(end), newOrigin(resource), out);
      r.path.pop();
    } else if (t === fieldTag(1, LEN)) {
      r.path.push('resource', -1);
      decodeResource(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE_LOGS);
    }
  }
}

function decodeResource(r: ProtobufReader, end: number, resource: Attributes): void {
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      r.path.push('attributes', attrIndex++);
      decodeKeyValueInto(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE);
    }
  }
}

function decodeScope(r: ProtobufReader, end: number, scope: InstrumentationScope): void {
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, LEN):
        scope.name = r.string(end, 'name');
        break;
      case fieldTag(2, LEN):
        scope.version = r.string(end, 'version');
        break;
      case fieldTag(3, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), scope.attributes);
        r.path.pop();
        break;
      default:
        r.skip(t, end, SCOPE);
    }
  }
}

function decodeScopeSpans(r: ProtobufReader, end: number, origin: SpanOrigin, out: DecodedSpan[]): void {
  let spanIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(2, LEN)) {
      r.path.push('spans', spanIndex++);
      out.push(decodeSpan(r, r.delimitedEnd(end), origin));
      r.path.pop();
    } else if (t === fieldTag(1, LEN)) {
      r.path.push('scope', -1);
      decodeScope(r, r.delimitedEnd(end), origin.scope);
      r.path.pop();
    } else {
      r.skip(t, end, SCOPE_SPANS);
    }
  }
}

function decodeScopeLogs(r: ProtobufReader, end: number, origin: SpanOrigin, out: DecodedLogRecord[]): void {
  let recordIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(2, LEN)) {
      r.path.push('log_records', recordIndex++);
      out.push(decodeLogRecord(r, r.delimitedEnd(end), origin));
      r.path.pop();
    } else if (t === fieldTag(1, LEN)) {
      r.path.push('scope', -1);
      decodeScope(r, r.delimitedEnd(end), origin.scope);
      r.path.pop();
    } else {
      r.skip(t, end, SCOPE_LOGS);
    }
  }
}

function decodeSpan(r: ProtobufReader, end: number, origin: SpanOrigin): DecodedSpan {
  const span: DecodedSpan = {
    origin,
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: newAttributes(),
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, LEN):
        span.traceId = r.traceIdHex(end, 'trace_id');
        break;
      case fieldTag(2, LEN):
        span.spanId = r.hex(end, 'span_id');
        break;
      case fieldTag(3, LEN):
        span.traceState = r.string(end, 'trace_state');
        break;
      case fieldTag(4, LEN):
        span.parentSpanId = r.hex(end, 'parent_span_id');
        break;
      case fieldTag(5, LEN):
        span.name = r.string(end, 'name');
        break;
      case fieldTag(6, VARINT):
        span.kind = r.varint32(end, 'kind') | 0;
        break;
      case fieldTag(7, I64):
        span.startTimeUnixNano = r.fixed64(end, 'start_time_unix_nano');
        break;
      case fieldTag(8, I64):
        span.endTimeUnixNano = r.fixed64(end, 'end_time_unix_nano');
        break;
      case fieldTag(9, LEN): {
        r.path.push('attributes', attrIndex++);
        const kvEnd = r.delimitedEnd(end);
        if (!decodeScalarKeyValueInto(r, kvEnd, span.attributes)) decodeKeyValueInto(r, kvEnd, span.attributes);
        r.path.pop();
        break;
      }
      case fieldTag(11, LEN):
        r.path.push('events', span.events.length);
        span.events.push(decodeEvent(r, r.delimitedEnd(end)));
        r.path.pop();
        break;
      case fieldTag(13, LEN):
        r.path.push('links', span.links.length);
        span.links.push(decodeLink(r, r.delimitedEnd(end)));
        r.path.pop();
        break;
      case fieldTag(15, LEN):
        r.path.push('status', -1);
        decodeStatusInto(r, r.delimitedEnd(end), span);
        r.path.pop();
        break;
      default:
        r.skip(t, end, SPAN);
    }
  }
  return span;
}

function decodeStatusInto(r: ProtobufReader, end: number, span: DecodedSpan): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(3, VARINT)) {
      span.statusCode = r.varint32(end, 'code') | 0;
    } else if (t === fieldTag(2, LEN)) {
      span.statusMessage = r.string(end, 'message');
    } else {
      r.skip(t, end, STATUS);
    }
  }
}

function decodeEvent(r: ProtobufReader, end: number): SpanEvent {
  const event: SpanEvent = { timeUnixNano: 0n, name: '', attributes: {} };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, I64):
        event.timeUnixNano = r.fixed64(end, 'time_unix_nano');
        break;
      case fieldTag(2, LEN):
        event.name = r.string(end, 'name');
        break;
      case fieldTag(3, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), event.attributes);
        r.path.pop();
        break;
      default:
        r.skip(t, end, EVENT);
    }
  }
  return event;
}

function decodeLink(r: ProtobufReader, end: number): SpanLink {
  const link: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {} };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, LEN):
        link.traceId = r.hex(end, 'trace_id');
        break;
      case fieldTag(2, LEN):
        link.spanId = r.hex(end, 'span_id');
        break;
      case fieldTag(3, LEN):
        link.traceState = r.string(end, 'trace_state');
        break;
      case fieldTag(4, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), link.attributes);
        r.path.pop();
        break;
      default:
        r.skip(t, end, LINK);
    }
  }
  return link;
}

function decodeLogRecord(r: ProtobufReader, end: number, origin: SpanOrigin): DecodedLogRecord {
  const record: DecodedLogRecord = {
    origin,
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    traceId: '',
    spanId: '',
    flags: 0,
    eventName: '',
  };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, I64):
        record.timeUnixNano = r.fixed64(end, 'time_unix_nano');
        break;
      case fieldTag(2, VARINT):
        record.severityNumber = r.varint32(end, 'severity_number') | 0;
        break;
      case fieldTag(3, LEN):
        record.severityText = r.string(end, 'severity_text');
        break;
      case fieldTag(5, LEN):
        r.path.push('body', -1);
        record.body = decodeAnyValue(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case fieldTag(6, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), record.attributes);
        r.path.pop();
        break;
      case fieldTag(8, I32):
        record.flags = r.fixed32(end, 'flags');
        break;
      case fieldTag(9, LEN):
        record.traceId = r.hex(end, 'trace_id');
        break;
      case fieldTag(10, LEN):
        record.spanId = r.hex(end, 'span_id');
        break;
      case fieldTag(11, I64):
        record.observedTimeUnixNano = r.fixed64(end, 'observed_time_unix_nano');
        break;
      case fieldTag(12, LEN):
        record.eventName = r.string(end, 'event_name');
        break;
      default:
        r.skip(t, end, LOG_RECORD);
    }
  }
  return record;
}

function decodeKeyValueInto(r: ProtobufReader, end: number, target: Record<string, AttrValue>): void {
  let key = '';
  let value: AttrValue = null;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      key = r.string(end, 'key');
    } else if (t === fieldTag(2, LEN)) {
      r.path.push('value', -1);
      value = decodeAnyValue(r, r.delimitedEnd(end));
      r.path.pop();
    } else {
      r.skip(t, end, KEY_VALUE);
    }
  }
  setAttribute(target, key, value);
}

// Tags of the common attribute's fields: KeyValue.key, KeyValue.value, AnyValue's scalar cases.
const KEY_TAG = fieldTag(1, LEN);
const VALUE_TAG = fieldTag(2, LEN);
const STRING_VALUE_TAG = fieldTag(1, LEN);
const BOOL_VALUE_TAG = fieldTag(2, VARINT);
const INT_VALUE_TAG = fieldTag(3, VARINT);
const DOUBLE_VALUE_TAG = fieldTag(4, I64);

/**
 * The common attribute in one pass: a KeyValue of its key, then its value, a string, bool, int or double
 * AnyValue, every length prefix one or two bytes, nothing else. Reads nothing and returns false for any other
 * shape or anything malformed: decodeKeyValueInto then reads it with its checks and names the field of an
 * error. The general per-field loop (tag dispatch, field-path bookkeeping, three nested calls per attribute)
 * made decoding the bench payload 11-13 % slower (docs/benchmarks.md, session 7).
 */
function decodeScalarKeyValueInto(r: ProtobufReader, end: number, target: Record<string, AttrValue>): boolean {
  const buf = r.buf;
  const start = r.pos;
  if (end - start < 4 || buf[start] !== KEY_TAG) return false;
  const keyLength = buf[start + 1];
  if (keyLength >= 0x80) return false;
  const valueAt = start + 2 + keyLength;
  // The value's tag, a one- or two-byte length, and at least its own tag inside.
  if (end - valueAt < 3 || buf[valueAt] !== VALUE_TAG) return false;
  let anyStart = valueAt + 2;
  let anyLength = buf[valueAt + 1];
  if (anyLength >= 0x80) {
    const high = buf[valueAt + 2];
    if (high >= 0x80) return false;
    anyLength = (anyLength & 0x7f) | (high << 7);
    anyStart++;
  }
  if (anyStart + anyLength !== end || anyLength < 2) return false;
  let value: AttrValue;
  switch (buf[anyStart]) {
    case STRING_VALUE_TAG: {
      let length = buf[anyStart + 1];
      let textStart = anyStart + 2;
      if (length >= 0x80) {
        if (textStart >= end) return false;
        const high = buf[textStart];
        if (high >= 0x80) return false;
        length = (length & 0x7f) | (high << 7);
        textStart++;
      }
      if (textStart + length !== end) return false;
      r.pos = start + 1;
      const key = r.string(valueAt, 'key');
      r.pos = anyStart + 1;
      value = r.string(end, 'string_value');
      setAttribute(target, key, value);
      return true;
    }
    case BOOL_VALUE_TAG:
      if (anyLength !== 2 || buf[anyStart + 1] >= 0x80) return false;
      value = buf[anyStart + 1] !== 0;
      break;
    case INT_VALUE_TAG: {
      // The varint must end exactly at the value's end, within protobuf's ten bytes.
      let last = anyStart + 1;
      while (last < end - 1 && buf[last] >= 0x80) last++;
      if (last !== end - 1 || buf[last] >= 0x80 || end - anyStart - 1 > 10) return false;
      r.pos = anyStart + 1;
      r.varint64(end, 'int_value');
      value = int64ToAttrValue(r.lo, r.hi);
      break;
    }
    case DOUBLE_VALUE_TAG:
      if (anyLength !== 9) return false;
      value = buf.readDoubleLE(anyStart + 1);
      break;
    default:
      return false;
  }
  r.pos = start + 1;
  const key = r.string(valueAt, 'key');
  setAttribute(target, key, value);
  r.pos = end;
  return true;
}

/** An AnyValue without a set field is null. */
function decodeAnyValue(r: ProtobufReader, end: number): AttrValue {
  let value: AttrValue = null;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case fieldTag(1, LEN):
        value = r.string(end, 'string_value');
        break;
      case fieldTag(2, VARINT):
        r.varint64(end, 'bool_value');
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case fieldTag(3, VARINT):
        r.varint64(end, 'int_value');
        value = int64ToAttrValue(r.lo, r.hi);
        break;
      case fieldTag(4, I64):
        value = r.double(end, 'double_value');
        break;
      case fieldTag(5, LEN):
        r.path.push('array_value', -1);
        value = decodeArrayValue(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case fieldTag(6, LEN):
        r.path.push('kvlist_value', -1);
        value = decodeKeyValueList(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case fieldTag(7, LEN):
        value = r.hex(end, 'bytes_value');
        break;
      default:
        r.skip(t, end, ANY_VALUE);
    }
  }
  return value;
}

function decodeArrayValue(r: ProtobufReader, end: number): AttrValue[] {
  const values: AttrValue[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      r.path.push('values', values.length);
      values.push(decodeAnyValue(r, r.delimitedEnd(end)));
      r.path.pop();
    } else {
      r.skip(t, end, VALUES_LIST);
    }
  }
  return values;
}

function decodeKeyValueList(r: ProtobufReader, end: number): { [key: string]: AttrValue } {
  const values: { [key: string]: AttrValue } = {};
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === fieldTag(1, LEN)) {
      r.path.push('values', index++);
      decodeKeyValueInto(r, r.delimitedEnd(end), values);
      r.path.pop();
    } else {
      r.skip(t, end, VALUES_LIST);
    }
  }
  return values;
}
