// Enrichment without re-encoding: the received ExportTraceServiceRequest bytes are copied with each span's
// extra KeyValues (ragscope.derived.*) appended to the span message, and the length prefixes of the span,
// its ScopeSpans and its ResourceSpans rewritten. Protobuf parsers merge a repeated field wherever its
// entries appear in a message, so KeyValues after a span's other fields are attributes of that span.
// Only the ResourceSpans → ScopeSpans → Span framing is read; spans and attribute values are never decoded.
// Why not decode + encode (otlp-encode.ts): forwarding a 512-span GenAI request that way costs ~15 µs per
// span on the ingest event loop; splicing costs well under 1 µs (bench/forward-encode.ts), and forwards the
// original bytes verbatim (integers beyond 2^53 and bytes values included).
import protobuf from 'protobufjs/minimal.js';
import type { Attributes, AttrValue } from '../model.js';
import { fieldTag, LEN, messageSchema, ProtobufReader } from '../receive/protobuf-reader.js';
import { writeAttributes } from './otlp-encode.js';

const ANY_MESSAGE = messageSchema({});
/** The repeated message field to descend into, per level: request → resource_spans(1) → scope_spans(2) → spans(2). */
const CHILD_TAG = [fieldTag(1, LEN), fieldTag(2, LEN), fieldTag(2, LEN)];
const SPAN_LEVEL = 2;
/** Span.attributes */
const ATTRIBUTES_FIELD = 9;

export interface Spliced {
  /** The enriched request, in pieces (views of the original bytes and of the extras between new length prefixes). */
  chunks: Uint8Array[];
  bytes: number;
  /** Spans met, in request order: the caller checks it against the number of extras it meant to add. */
  spans: number;
}

/**
 * The request with span i's extras (encodeSpanExtras) appended to the i-th span. Throws OtlpDecodeError on malformed framing (the request was decoded once already, so it does not).
 */
export function spliceSpanExtras(request: Uint8Array, extras: SpanExtras | null): Spliced {
  const r = new ProtobufReader(request);
  const state = { extraOf: (i: number) => (extras ? extraAt(extras, i) : undefined), spans: 0 };
  const chunks: Uint8Array[] = [];
  const bytes = copyLevel(r, r.buf.length, 0, chunks, state);
  return { chunks, bytes, spans: state.spans };
}

function copyLevel(r: ProtobufReader, end: number, level: number, out: Uint8Array[], state: { extraOf: (i: number) => Uint8Array | undefined; spans: number }): number {
  let written = 0;
  while (r.pos < end) {
    const start = r.pos;
    const tag = r.tag(end);
    if (tag !== CHILD_TAG[level]) {
      r.skip(tag, end, ANY_MESSAGE);
      out.push(r.buf.subarray(start, r.pos));
      written += r.pos - start;
      continue;
    }
    const childEnd = r.delimitedEnd(end);
    const header = out.push(EMPTY) - 1;
    let length: number;
    if (level === SPAN_LEVEL) {
      const extra = state.extraOf(state.spans++);
      out.push(r.buf.subarray(r.pos, childEnd));
      length = childEnd - r.pos;
      if (extra) {
        out.push(extra);
        length += extra.length;
      }
      r.pos = childEnd;
    } else {
      length = copyLevel(r, childEnd, level + 1, out, state);
    }
    out[header] = lengthDelimitedHeader(tag, length);
    written += out[header].length + length;
  }
  return written;
}

const EMPTY = new Uint8Array(0);

/** tag + varint length (the tags here are single-byte). */
function lengthDelimitedHeader(tag: number, length: number): Uint8Array {
  const header = Buffer.allocUnsafe(6);
  header[0] = tag;
  let n = 1;
  while (length >= 0x80) {
    header[n++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  header[n++] = length;
  return header.subarray(0, n);
}

/** The extra attributes of a request's spans, encoded as Span.attributes entries: two objects, however many spans. */
export interface SpanExtras {
  bytes: Buffer;
  /** Span i's entries are bytes[ends[i - 1] .. ends[i]] (ends[-1] = 0). */
  ends: Uint32Array;
}

/** Span i's entries, or undefined when it has none. */
export function extraAt({ bytes, ends }: SpanExtras, i: number): Uint8Array | undefined {
  const start = i === 0 ? 0 : ends[i - 1];
  return i < ends.length && ends[i] > start ? bytes.subarray(start, ends[i]) : undefined;
}

/**
 * Encodes each span's extra attributes; null when no span has any. The derived attributes repeat (tenant,
 * provider, model, operation …): their encoded entries are cached per key and value; numbers (cost_usd) are
 * always written as double_value, after a cached prefix.
 */
export function encodeSpanExtras(extras: readonly (Attributes | undefined)[]): SpanExtras | null {
  // Encoded entries, or [prefix, number] for numbers; `pieceEnds[i]` = pieces of spans 0..i.
  const pieces: (Uint8Array | number)[] = [];
  const pieceEnds: number[] = [];
  let size = 0;
  for (const extra of extras) {
    if (extra) {
      for (const key in extra) {
        const value = extra[key];
        if (typeof value === 'number') {
          const prefix = doublePrefix(key);
          pieces.push(prefix, value);
          size += prefix.length + DOUBLE_VALUE_LENGTH;
        } else {
          const entry = typeof value === 'string' || typeof value === 'boolean' ? cachedEntry(key, value) : writerEntry(key, value);
          pieces.push(entry);
          size += entry.length;
        }
      }
    }
    pieceEnds.push(pieces.length);
  }
  if (size === 0) return null;
  const bytes = Buffer.allocUnsafe(size);
  const ends = new Uint32Array(extras.length);
  let offset = 0;
  let p = 0;
  for (let i = 0; i < pieceEnds.length; i++) {
    for (; p < pieceEnds[i]; p++) {
      const piece = pieces[p];
      if (typeof piece === 'number') {
        bytes[offset] = (4 << 3) | 1; // AnyValue.double_value, fixed64
        bytes.writeDoubleLE(piece, offset + 1);
        offset += DOUBLE_VALUE_LENGTH;
      } else {
        bytes.set(piece, offset);
        offset += piece.length;
      }
    }
    ends[i] = offset;
  }
  return { bytes, ends };
}

/** AnyValue { double_value }: tag + 8 bytes. */
const DOUBLE_VALUE_LENGTH = 9;
const CACHE_LIMIT = 4096;
let cachedValues = 0;
const entries = new Map<string, Map<string | boolean, Uint8Array>>();
const doublePrefixes = new Map<string, Uint8Array>();

function cachedEntry(key: string, value: string | boolean): Uint8Array {
  let byValue = entries.get(key);
  if (!byValue) entries.set(key, (byValue = new Map()));
  let entry = byValue.get(value);
  if (!entry) {
    if (++cachedValues > CACHE_LIMIT) {
      entries.clear();
      entries.set(key, byValue);
      byValue.clear();
      cachedValues = 1;
    }
    byValue.set(value, (entry = writerEntry(key, value)));
  }
  return entry;
}

function doublePrefix(key: string): Uint8Array {
  let prefix = doublePrefixes.get(key);
  if (!prefix) {
    if (doublePrefixes.size >= CACHE_LIMIT) doublePrefixes.clear();
    doublePrefixes.set(key, (prefix = keyValuePrefix(key, DOUBLE_VALUE_LENGTH)));
  }
  return prefix;
}

function writerEntry(key: string, value: AttrValue): Uint8Array {
  const w = protobuf.Writer.create();
  writeAttributes(w, ATTRIBUTES_FIELD, { [key]: value });
  return w.finish();
}

/** The entry's bytes up to its AnyValue's content (of `anyValueLength` bytes). */
function keyValuePrefix(key: string, anyValueLength: number): Uint8Array {
  const w = protobuf.Writer.create();
  const keyBytes = Buffer.from(key);
  const keyValueLength = 1 + varintSize(keyBytes.length) + keyBytes.length + 1 + varintSize(anyValueLength) + anyValueLength;
  w.uint32((ATTRIBUTES_FIELD << 3) | LEN).uint32(keyValueLength);
  w.uint32((1 << 3) | LEN).bytes(keyBytes);
  w.uint32((2 << 3) | LEN).uint32(anyValueLength);
  return w.finish();
}

const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);
