import { FieldPath } from './field-path.js';

// Protobuf wire-format reading for the hand-written OTLP decoder. Every read is bounds-checked against the
// end of the enclosing message, so a length prefix can never make the reader read (or allocate) past the
// input, and every read consumes at least one byte, so decoding loops always terminate.

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const SGROUP = 3;
export const EGROUP = 4;
export const I32 = 5;

export const fieldTag = (field: number, wireType: number): number => (field << 3) | wireType;

/** The fields a decoder knows, by number, so a known field with a wrong wire type is an error, not skipped. */
export interface MessageSchema {
  names: string[];
  wireTypes: number[];
}

export function messageSchema(fields: Record<number, [name: string, wireType: number]>): MessageSchema {
  const names: string[] = [];
  const wireTypes: number[] = [];
  for (const [number, [name, wireType]] of Object.entries(fields)) {
    names[Number(number)] = name;
    wireTypes[Number(number)] = wireType;
  }
  return { names, wireTypes };
}

const TRUNCATED_VARINT = 'truncated varint';
const TRUNCATED_LENGTH = 'truncated length-delimited field';
const TRUNCATED_FIXED64 = 'truncated fixed64 field';
const TRUNCATED_FIXED32 = 'truncated fixed32 field';

// Attribute keys and short values (model names, operation names, ...) repeat across spans: interning them
// skips the native string creation and hands V8 already-internalized property keys.
const INTERN_MAX_LENGTH = 40;
const INTERN_SLOTS = 4096;
/** Top 12 bits of the 32-bit hash select one of the 4096 slots. */
const INTERN_SHIFT = 20;
const internTable: (string | undefined)[] = new Array(INTERN_SLOTS);

export class ProtobufReader {
  readonly buf: Buffer;
  pos = 0;
  readonly path = new FieldPath();
  /** Halves of the last varint read by varint64(). */
  lo = 0;
  hi = 0;

  constructor(data: Uint8Array) {
    this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
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
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
      if (shift >= 70) this.fail('malformed varint (longer than 10 bytes)', leaf);
      const byte = buf[pos++];
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
    if (pos < end && buf[pos] < 0x80) {
      // One-byte length (< 128): most keys, values and small messages; skips the general loop's 2 ** shift.
      length = buf[pos++];
    } else {
      for (let shift = 0; ; shift += 7) {
        if (pos >= end) this.fail(TRUNCATED_VARINT, leaf);
        if (shift >= 70) this.fail('malformed varint (longer than 10 bytes)', leaf);
        const byte = buf[pos++];
        length += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) break;
      }
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
    const sample =
      length ^ (buf[start] << 8) ^ (buf[last] << 16) ^ (buf[start + (length >> 1)] << 24) ^ (buf[last - (length >> 2)] << 4);
    const slot = Math.imul(sample, 0x9e3779b1) >>> INTERN_SHIFT;
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

  // Where the last trace id read by traceIdHex() starts in buf, and its hex string.
  private lastTraceIdStart = -1;
  private lastTraceId = '';

  /**
   * hex() for span trace ids: consecutive spans of a request mostly belong to one trace, so when the bytes
   * equal the previous trace id's, its string is returned again (no native call, one shared string whose
   * hash the dedupe maps compute once).
   */
  traceIdHex(end: number, leaf: string): string {
    const stop = this.delimitedEnd(end, leaf);
    const start = this.pos;
    this.pos = stop;
    const length = stop - start;
    if (length === 0) return '';
    const buf = this.buf;
    const last = this.lastTraceIdStart;
    if (last >= 0 && this.lastTraceId.length === length * 2) {
      let i = 0;
      while (i < length && buf[last + i] === buf[start + i]) i++;
      if (i === length) return this.lastTraceId;
    }
    this.lastTraceIdStart = start;
    this.lastTraceId = buf.toString('hex', start, stop);
    return this.lastTraceId;
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
        return this.fail('unexpected end-group tag', leaf);
      default:
        this.fail(`invalid wire type ${wireType}`, leaf);
    }
  }
}
