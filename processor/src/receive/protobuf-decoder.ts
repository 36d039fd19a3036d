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
import { int64ToAttrValue, newOrigin, setAttribute } from './attribute-values.js';
import { FieldPath } from './field-path.js';

export { OtlpDecodeError } from './otlp-decode-error.js';

// Hand-written decoder for ExportTraceServiceRequest / ExportLogsServiceRequest (opentelemetry-proto v1.x).
// Every read is bounds-checked against the end of the enclosing message, so a length prefix can never
// make the decoder read (or allocate) past the input, and every loop consumes at least one byte.

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/** The fields a decoder knows, by number, so a known field with a wrong wire type is an error, not skipped. */
interface MessageSchema {
  names: string[];
  wireTypes: number[];
}

function schema(fields: Record<number, [name: string, wireType: number]>): MessageSchema {
  const names: string[] = [];
  const wireTypes: number[] = [];
  for (const [number, [name, wireType]] of Object.entries(fields)) {
    names[Number(number)] = name;
    wireTypes[Number(number)] = wireType;
  }
  return { names, wireTypes };
}

const EXPORT_TRACE_REQUEST = schema({ 1: ['resource_spans', LEN] });
const EXPORT_LOGS_REQUEST = schema({ 1: ['resource_logs', LEN] });
const RESOURCE_SPANS = schema({ 1: ['resource', LEN], 2: ['scope_spans', LEN], 3: ['schema_url', LEN] });
const RESOURCE_LOGS = schema({ 1: ['resource', LEN], 2: ['scope_logs', LEN], 3: ['schema_url', LEN] });
const SCOPE_SPANS = schema({ 1: ['scope', LEN], 2: ['spans', LEN], 3: ['schema_url', LEN] });
const SCOPE_LOGS = schema({ 1: ['scope', LEN], 2: ['log_records', LEN], 3: ['schema_url', LEN] });
const RESOURCE = schema({ 1: ['attributes', LEN], 2: ['dropped_attributes_count', VARINT], 3: ['entity_refs', LEN] });
const SCOPE = schema({
  1: ['name', LEN],
  2: ['version', LEN],
  3: ['attributes', LEN],
  4: ['dropped_attributes_count', VARINT],
});
const SPAN = schema({
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
const EVENT = schema({
  1: ['time_unix_nano', I64],
  2: ['name', LEN],
  3: ['attributes', LEN],
  4: ['dropped_attributes_count', VARINT],
});
const LINK = schema({
  1: ['trace_id', LEN],
  2: ['span_id', LEN],
  3: ['trace_state', LEN],
  4: ['attributes', LEN],
  5: ['dropped_attributes_count', VARINT],
  6: ['flags', I32],
});
const STATUS = schema({ 2: ['message', LEN], 3: ['code', VARINT] });
const LOG_RECORD = schema({
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
const KEY_VALUE = schema({ 1: ['key', LEN], 2: ['value', LEN] });
const ANY_VALUE = schema({
  1: ['string_value', LEN],
  2: ['bool_value', VARINT],
  3: ['int_value', VARINT],
  4: ['double_value', I64],
  5: ['array_value', LEN],
  6: ['kvlist_value', LEN],
  7: ['bytes_value', LEN],
});
const VALUES_LIST = schema({ 1: ['values', LEN] });

const TRUNCATED_VARINT = 'truncated varint';
const TRUNCATED_LENGTH = 'truncated length-delimited field';
const TRUNCATED_FIXED64 = 'truncated fixed64 field';
const TRUNCATED_FIXED32 = 'truncated fixed32 field';

// Attribute keys and short values (model names, operation names, ...) repeat across spans: interning them
// skips the native string creation and hands V8 already-internalized property keys.
const INTERN_MAX_LENGTH = 40;
const INTERN_SLOTS = 4096;
const internTable: (string | undefined)[] = new Array(INTERN_SLOTS);

class Reader {
  readonly buf: Buffer;
  pos = 0;
  readonly path = new FieldPath();
  /** Halves of the last varint read by varint64(). */
  lo = 0;
  hi = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  fail(reason: string, leaf?: string): never {
    throw this.path.error(reason, leaf);
  }

  /** A field tag: (field number << 3) | wire type. */
  tag(end: number): number {
    const value = this.varint32(end);
    if (value >>> 3 === 0) this.fail(`invalid field number 0 (tag ${value})`);
    return value;
  }

  /** A varint truncated to its low 32 bits (unsigned), as protobuf does for uint32/int32/enum fields. */
  varint32(end: number, leaf?: string): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
    let byte = buf[pos++];
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
      if (shift >= 70) this.fail('malformed varint (longer than 10 bytes)', leaf);
      byte = buf[pos++];
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    this.pos = pos;
    return value >>> 0;
  }

  /** A full 64-bit varint into this.lo / this.hi (unsigned 32-bit halves). */
  varint64(end: number, leaf?: string): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
      if (shift >= 70) this.fail('malformed varint (longer than 10 bytes)', leaf);
      byte = buf[pos++];
      const bits = byte & 0x7f;
      if (shift < 28) {
        lo |= bits << shift;
      } else if (shift === 28) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else {
        hi |= bits << (shift - 32);
      }
      if (byte < 0x80) break;
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** Reads a length prefix and returns the end offset of the field's payload. */
  delimitedEnd(end: number, leaf?: string): number {
    const buf = this.buf;
    let pos = this.pos;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
      if (shift >= 70) this.fail('malformed varint (longer than 10 bytes)', leaf);
      const byte = buf[pos++];
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    if (length > end - pos) {
      this.fail(`${TRUNCATED_LENGTH} (length ${length}, ${end - pos} bytes left)`, leaf);
    }
    this.pos = pos;
    return pos + length;
  }

  string(end: number, leaf: string): string {
    const stop = this.delimitedEnd(end, leaf);
    const start = this.pos;
    this.pos = stop;
    const length = stop - start;
    if (length === 0) return '';
    const buf = this.buf;
    if (length > INTERN_MAX_LENGTH) return buf.toString('utf8', start, stop);
    // A sampled hash (length, both ends, middle) is enough to pick a slot; the full compare decides.
    const last = stop - 1;
    const slot =
      (Math.imul(length ^ (buf[start] << 8) ^ (buf[last] << 16) ^ (buf[start + (length >> 1)] << 24) ^ (buf[last - (length >> 2)] << 4), 0x9e3779b1) >>> 20) &
      (INTERN_SLOTS - 1);
    const cached = internTable[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === length) return cached;
    }
    const fresh = buf.toString('utf8', start, stop);
    // Only strings with one char per byte are cached; a non-ASCII byte decodes to U+FFFD or a multi-byte
    // char, which can never compare equal to a byte, so a cache hit always means an all-ASCII match.
    if (fresh.length === length) internTable[slot] = fresh;
    return fresh;
  }

  hex(end: number, leaf: string): string {
    const stop = this.delimitedEnd(end, leaf);
    const start = this.pos;
    this.pos = stop;
    return stop === start ? '' : this.buf.toString('hex', start, stop);
  }

  fixed64(end: number, leaf: string): bigint {
    if (end - this.pos < 8) this.fail(TRUNCATED_FIXED64, leaf);
    const value = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return value;
  }

  fixed32(end: number, leaf: string): number {
    if (end - this.pos < 4) this.fail(TRUNCATED_FIXED32, leaf);
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }

  double(end: number, leaf: string): number {
    if (end - this.pos < 8) this.fail(TRUNCATED_FIXED64, leaf);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** Skips a field the decoder does not use; a known field with the wrong wire type is malformed. */
  skip(tagValue: number, end: number, message: MessageSchema): void {
    const field = tagValue >>> 3;
    const wireType = tagValue & 7;
    const name = message.names[field];
    if (name !== undefined && message.wireTypes[field] !== wireType) {
      this.fail(`wrong wire type ${wireType} (expected ${message.wireTypes[field]})`, name);
    }
    this.skipValue(field, wireType, end, name ?? `field_${field}`, 0);
  }

  private skipValue(field: number, wireType: number, end: number, leaf: string, groupDepth: number): void {
    switch (wireType) {
      case VARINT:
        this.varint64(end, leaf);
        return;
      case I64:
        if (end - this.pos < 8) this.fail(TRUNCATED_FIXED64, leaf);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.delimitedEnd(end, leaf);
        return;
      case I32:
        if (end - this.pos < 4) this.fail(TRUNCATED_FIXED32, leaf);
        this.pos += 4;
        return;
      case SGROUP: {
        // Deprecated proto2 groups never occur in OTLP, but skipping them keeps unknown-field handling complete.
        if (groupDepth >= 32) this.fail('groups nested too deeply', leaf);
        for (;;) {
          if (this.pos >= end) this.fail('unterminated group', leaf);
          const inner = this.tag(end);
          if ((inner & 7) === EGROUP) {
            if (inner >>> 3 !== field) this.fail('mismatched end-group tag', leaf);
            return;
          }
          this.skipValue(inner >>> 3, inner & 7, end, leaf, groupDepth + 1);
        }
      }
      case EGROUP:
        this.fail('unexpected end-group tag', leaf);
      default:
        this.fail(`invalid wire type ${wireType}`, leaf);
    }
  }
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Decodes a binary ExportTraceServiceRequest. Throws OtlpDecodeError on malformed input. */
export function decodeTraces(data: Uint8Array): DecodedSpan[] {
  const r = new Reader(asBuffer(data));
  const spans: DecodedSpan[] = [];
  const end = r.buf.length;
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
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
  const r = new Reader(asBuffer(data));
  const records: DecodedLogRecord[] = [];
  const end = r.buf.length;
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
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

function decodeResourceSpans(r: Reader, end: number, out: DecodedSpan[]): void {
  const resource: Attributes = {};
  let scopeIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(2, LEN)) {
      r.path.push('scope_spans', scopeIndex++);
      decodeScopeSpans(r, r.delimitedEnd(end), newOrigin(resource), out);
      r.path.pop();
    } else if (t === tag(1, LEN)) {
      r.path.push('resource', -1);
      decodeResource(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE_SPANS);
    }
  }
}

function decodeResourceLogs(r: Reader, end: number, out: DecodedLogRecord[]): void {
  const resource: Attributes = {};
  let scopeIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(2, LEN)) {
      r.path.push('scope_logs', scopeIndex++);
      decodeScopeLogs(r, r.delimitedEnd(end), newOrigin(resource), out);
      r.path.pop();
    } else if (t === tag(1, LEN)) {
      r.path.push('resource', -1);
      decodeResource(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE_LOGS);
    }
  }
}

function decodeResource(r: Reader, end: number, resource: Attributes): void {
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
      r.path.push('attributes', attrIndex++);
      decodeKeyValueInto(r, r.delimitedEnd(end), resource);
      r.path.pop();
    } else {
      r.skip(t, end, RESOURCE);
    }
  }
}

function decodeScope(r: Reader, end: number, scope: InstrumentationScope): void {
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case tag(1, LEN):
        scope.name = r.string(end, 'name');
        break;
      case tag(2, LEN):
        scope.version = r.string(end, 'version');
        break;
      case tag(3, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), scope.attributes);
        r.path.pop();
        break;
      default:
        r.skip(t, end, SCOPE);
    }
  }
}

function decodeScopeSpans(r: Reader, end: number, origin: SpanOrigin, out: DecodedSpan[]): void {
  let spanIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(2, LEN)) {
      r.path.push('spans', spanIndex++);
      out.push(decodeSpan(r, r.delimitedEnd(end), origin));
      r.path.pop();
    } else if (t === tag(1, LEN)) {
      r.path.push('scope', -1);
      decodeScope(r, r.delimitedEnd(end), origin.scope);
      r.path.pop();
    } else {
      r.skip(t, end, SCOPE_SPANS);
    }
  }
}

function decodeScopeLogs(r: Reader, end: number, origin: SpanOrigin, out: DecodedLogRecord[]): void {
  let recordIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(2, LEN)) {
      r.path.push('log_records', recordIndex++);
      out.push(decodeLogRecord(r, r.delimitedEnd(end), origin));
      r.path.pop();
    } else if (t === tag(1, LEN)) {
      r.path.push('scope', -1);
      decodeScope(r, r.delimitedEnd(end), origin.scope);
      r.path.pop();
    } else {
      r.skip(t, end, SCOPE_LOGS);
    }
  }
}

function decodeSpan(r: Reader, end: number, origin: SpanOrigin): DecodedSpan {
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
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case tag(1, LEN):
        span.traceId = r.hex(end, 'trace_id');
        break;
      case tag(2, LEN):
        span.spanId = r.hex(end, 'span_id');
        break;
      case tag(3, LEN):
        span.traceState = r.string(end, 'trace_state');
        break;
      case tag(4, LEN):
        span.parentSpanId = r.hex(end, 'parent_span_id');
        break;
      case tag(5, LEN):
        span.name = r.string(end, 'name');
        break;
      case tag(6, VARINT):
        span.kind = r.varint32(end, 'kind') | 0;
        break;
      case tag(7, I64):
        span.startTimeUnixNano = r.fixed64(end, 'start_time_unix_nano');
        break;
      case tag(8, I64):
        span.endTimeUnixNano = r.fixed64(end, 'end_time_unix_nano');
        break;
      case tag(9, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), span.attributes);
        r.path.pop();
        break;
      case tag(11, LEN):
        r.path.push('events', span.events.length);
        span.events.push(decodeEvent(r, r.delimitedEnd(end)));
        r.path.pop();
        break;
      case tag(13, LEN):
        r.path.push('links', span.links.length);
        span.links.push(decodeLink(r, r.delimitedEnd(end)));
        r.path.pop();
        break;
      case tag(15, LEN):
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

function decodeStatusInto(r: Reader, end: number, span: DecodedSpan): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(3, VARINT)) {
      span.statusCode = r.varint32(end, 'code') | 0;
    } else if (t === tag(2, LEN)) {
      span.statusMessage = r.string(end, 'message');
    } else {
      r.skip(t, end, STATUS);
    }
  }
}

function decodeEvent(r: Reader, end: number): SpanEvent {
  const event: SpanEvent = { timeUnixNano: 0n, name: '', attributes: {} };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case tag(1, I64):
        event.timeUnixNano = r.fixed64(end, 'time_unix_nano');
        break;
      case tag(2, LEN):
        event.name = r.string(end, 'name');
        break;
      case tag(3, LEN):
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

function decodeLink(r: Reader, end: number): SpanLink {
  const link: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {} };
  let attrIndex = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case tag(1, LEN):
        link.traceId = r.hex(end, 'trace_id');
        break;
      case tag(2, LEN):
        link.spanId = r.hex(end, 'span_id');
        break;
      case tag(3, LEN):
        link.traceState = r.string(end, 'trace_state');
        break;
      case tag(4, LEN):
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

function decodeLogRecord(r: Reader, end: number, origin: SpanOrigin): DecodedLogRecord {
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
      case tag(1, I64):
        record.timeUnixNano = r.fixed64(end, 'time_unix_nano');
        break;
      case tag(2, VARINT):
        record.severityNumber = r.varint32(end, 'severity_number') | 0;
        break;
      case tag(3, LEN):
        record.severityText = r.string(end, 'severity_text');
        break;
      case tag(5, LEN):
        r.path.push('body', -1);
        record.body = decodeAnyValue(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case tag(6, LEN):
        r.path.push('attributes', attrIndex++);
        decodeKeyValueInto(r, r.delimitedEnd(end), record.attributes);
        r.path.pop();
        break;
      case tag(8, I32):
        record.flags = r.fixed32(end, 'flags');
        break;
      case tag(9, LEN):
        record.traceId = r.hex(end, 'trace_id');
        break;
      case tag(10, LEN):
        record.spanId = r.hex(end, 'span_id');
        break;
      case tag(11, I64):
        record.observedTimeUnixNano = r.fixed64(end, 'observed_time_unix_nano');
        break;
      case tag(12, LEN):
        record.eventName = r.string(end, 'event_name');
        break;
      default:
        r.skip(t, end, LOG_RECORD);
    }
  }
  return record;
}

function decodeKeyValueInto(r: Reader, end: number, target: Record<string, AttrValue>): void {
  let key = '';
  let value: AttrValue = null;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
      key = r.string(end, 'key');
    } else if (t === tag(2, LEN)) {
      r.path.push('value', -1);
      value = decodeAnyValue(r, r.delimitedEnd(end));
      r.path.pop();
    } else {
      r.skip(t, end, KEY_VALUE);
    }
  }
  setAttribute(target, key, value);
}

/** An AnyValue without a set field is null. */
function decodeAnyValue(r: Reader, end: number): AttrValue {
  let value: AttrValue = null;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case tag(1, LEN):
        value = r.string(end, 'string_value');
        break;
      case tag(2, VARINT):
        r.varint64(end, 'bool_value');
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case tag(3, VARINT):
        r.varint64(end, 'int_value');
        value = int64ToAttrValue(r.lo, r.hi);
        break;
      case tag(4, I64):
        value = r.double(end, 'double_value');
        break;
      case tag(5, LEN):
        r.path.push('array_value', -1);
        value = decodeArrayValue(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case tag(6, LEN):
        r.path.push('kvlist_value', -1);
        value = decodeKeyValueList(r, r.delimitedEnd(end));
        r.path.pop();
        break;
      case tag(7, LEN):
        value = r.hex(end, 'bytes_value');
        break;
      default:
        r.skip(t, end, ANY_VALUE);
    }
  }
  return value;
}

function decodeArrayValue(r: Reader, end: number): AttrValue[] {
  const values: AttrValue[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
      r.path.push('values', values.length);
      values.push(decodeAnyValue(r, r.delimitedEnd(end)));
      r.path.pop();
    } else {
      r.skip(t, end, VALUES_LIST);
    }
  }
  return values;
}

function decodeKeyValueList(r: Reader, end: number): { [key: string]: AttrValue } {
  const values: { [key: string]: AttrValue } = {};
  let index = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === tag(1, LEN)) {
      r.path.push('values', index++);
      decodeKeyValueInto(r, r.delimitedEnd(end), values);
      r.path.pop();
    } else {
      r.skip(t, end, VALUES_LIST);
    }
  }
  return values;
}
