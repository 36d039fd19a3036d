// OTLP/protobuf encoding of ExportTraceServiceRequest straight from the SDK's ReadableSpans, for
// ragscope's OTLP/HTTP protobuf trace exporter (otlp-exporter.ts).
//
// Why hand-written rather than @opentelemetry/otlp-transformer's ProtobufTraceSerializer: in the
// instrumentation benchmark, exporting was ~40 % of ragscope's per-call overhead, and the official
// serializer walks every batch twice (a size-estimating pass, then the writing pass), encodes every
// attribute key, the resource and the scope again on every span, and allocates a Uint8Array per id.
// This one writes in one pass into a Buffer (handed over without a copy, and reused once the exporter
// releases it), copies the cached bytes of attribute keys (they repeat on every span), of the resource and
// of the scope, writes ids from hex through a lookup table, and writes short ASCII strings byte by byte
// (UTF-8 through Buffer#write otherwise). Measured: 2.6-2.9x faster per span in the same process
// (bench/span-export.ts; docs/benchmarks.md, "Instrumentation overhead"). It emits the same message as the official
// serializer (tests/instrumentation/otlp-span-serializer.test.ts decodes both and compares).

import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const tag = (field: number, wire: number) => (field << 3) | wire;

// Span.flags bits (trace.proto): the W3C trace flags, and whether the parent's remoteness is known / remote.
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63;

/** Attribute keys whose encoded bytes are cached (keys are few and repeat; the bound keeps a key-per-call app from growing it). */
const MAX_CACHED_KEYS = 4096;

// Hex digit -> value, for writing ids without an intermediate Uint8Array. Non-hex characters read as 0.
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

const MIN_BUFFER = 64 * 1024;
/** Larger buffers (a one-off huge batch) are not kept for reuse. */
const MAX_KEPT_BUFFER = 16 * 1024 * 1024;
/** Buffers kept for reuse: exports in flight at once are usually one. */
const MAX_FREE_BUFFERS = 2;

/** The writer's buffer between a message handed out and the next serialize() (which allocates or reuses one). */
const NO_BUFFER = Buffer.alloc(0);

const varintSize = (v: number) => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);

/** A growable output buffer with the protobuf primitives this encoding needs. */
class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, MIN_BUFFER);
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned 32-bit varint (lengths, tags, counts); the caller has ensured 5 bytes. */
  uvarint(v: number): void {
    const buf = this.buf;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A 64-bit varint of an integral JS number (int64: negatives in two's complement, 10 bytes). */
  varint64(value: number): void {
    this.ensure(10);
    if (value >= 0 && value <= 0xffffffff) return this.uvarint(value);
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 4294967296) >>> 0;
    } else {
      const abs = -value;
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 4294967296) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    const buf = this.buf;
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** HrTime [seconds, nanos] as fixed64 nanoseconds, split in 32-bit halves without BigInt (exact: every partial product stays below 2^53). */
  hrTime(t: HrTime): void {
    this.ensure(8);
    const seconds = t[0];
    const nanos = t[1];
    const fromLow16 = (seconds & 0xffff) * 1e9;
    const fromHigh = ((seconds / 0x10000) >>> 0) * 1e9;
    const low = (fromLow16 >>> 0) + (((fromHigh & 0xffff) * 0x10000) >>> 0) + nanos;
    const high = (Math.floor(fromLow16 / 4294967296) + ((fromHigh / 0x10000) >>> 0) + Math.floor(low / 4294967296)) >>> 0;
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(5 + b.length);
    this.uvarint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Pre-encoded bytes (cached keys, resource, scope). */
  raw(b: Buffer): void {
    const n = b.length;
    this.ensure(n);
    if (n > 64) {
      b.copy(this.buf, this.pos);
      this.pos += n;
      return;
    }
    // Short (attribute keys): a loop beats the native copy's call overhead.
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  /** A length-delimited string: ASCII byte by byte (short strings: cheaper than a native call), else UTF-8. */
  string(s: string): void {
    const len = s.length;
    if (len < 128) {
      this.ensure(1 + len * 3);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf[this.pos] = len;
        this.pos = start + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + n);
    this.uvarint(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** A hex id as bytes (length-delimited); the SDK's ids are lowercase hex of even length. */
  hexId(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(5 + n);
    this.uvarint(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.pos++] = (HEX[hex.charCodeAt(2 * i) & 0x7f]! << 4) | HEX[hex.charCodeAt(2 * i + 1) & 0x7f]!;
  }

  /** Reserves `reserve` bytes for the length of a nested message; returns where its content starts. */
  begin(reserve: number): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  /** Writes the length of the message begun at `start` into its reserved bytes, moving the content if the length needs more or fewer. */
  end(start: number, reserve: number): void {
    const len = this.pos - start;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copy(this.buf, start - reserve + size, start, this.pos);
      this.pos += size - reserve;
    }
    let p = start - reserve;
    let v = len;
    const buf = this.buf;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }



}

function writeAnyValue(w: Writer, value: unknown): void {
  if (typeof value === 'string') {
    w.ensure(1);
    w.buf[w.pos++] = tag(1, WIRE_LEN);
    w.string(value);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= INT64_MIN && value < INT64_LIMIT) {
      w.ensure(1);
      w.buf[w.pos++] = tag(3, WIRE_VARINT);
      w.varint64(value);
    } else {
      w.ensure(1);
      w.buf[w.pos++] = tag(4, WIRE_FIXED64);
      w.double(value);
    }
  } else if (typeof value === 'boolean') {
    w.ensure(2);
    w.buf[w.pos++] = tag(2, WIRE_VARINT);
    w.buf[w.pos++] = value ? 1 : 0;
  } else if (value instanceof Uint8Array) {
    w.ensure(1);
    w.buf[w.pos++] = tag(7, WIRE_LEN);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.ensure(1);
    w.buf[w.pos++] = tag(5, WIRE_LEN);
    const array = w.begin(1);
    for (const item of value) {
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      const start = w.begin(1);
      writeAnyValue(w, item);
      w.end(start, 1);
    }
    w.end(array, 1);
  } else if (typeof value === 'object' && value !== null) {
    w.ensure(1);
    w.buf[w.pos++] = tag(6, WIRE_LEN);
    const list = w.begin(1);
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      const kv = w.begin(1);
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      w.string(k);
      w.ensure(1);
      w.buf[w.pos++] = tag(2, WIRE_LEN);
      const v = w.begin(1);
      writeAnyValue(w, (value as Record<string, unknown>)[k]);
      w.end(v, 1);
      w.end(kv, 1);
    }
    w.end(list, 1);
  }
  // undefined / null: an empty AnyValue, as the official serializer writes.
}

/** Encodes ExportTraceServiceRequest messages; one instance per exporter (it keeps its buffer and caches). */
export class OtlpSpanSerializer {
  private readonly w = new Writer(MIN_BUFFER);
  /** Bytes per span of the last message (an estimate for sizing the next one's buffer). */
  private bytesPerSpan = 512;
  /** Buffers handed back by release(), written into by the next serialize() calls. */
  private readonly free: Buffer[] = [];
  /** The memory of the messages handed out and not yet released (each has its own ArrayBuffer: allocUnsafeSlow). */
  private readonly handedOut = new WeakSet<ArrayBufferLike>();
  /** Key -> bytes of `KeyValue.key` (tag, length, UTF-8) followed by the tag of `KeyValue.value`. */
  private readonly keys = new Map<string, Buffer>();
  /** Encoded `ResourceSpans.resource` field (tag included) per Resource object. */
  private readonly resources = new WeakMap<Resource, Buffer>();
  /** Encoded `ScopeSpans.scope` field (tag included) per scope object. */
  private readonly scopes = new WeakMap<InstrumentationScope, Buffer>();

  serialize(spans: ReadableSpan[]): Uint8Array {
    const w = this.w;
    w.pos = 0;
    // Room for the whole message up front, from the size per span of the previous message: growing by
    // doubling copied the message several times and allocated ~2x its size in discarded buffers
    // (external memory, which also brings V8's garbage collections forward).
    const expected = Math.ceil(spans.length * this.bytesPerSpan * 1.125) + 1024;
    if (w.buf.length < expected) w.buf = Buffer.allocUnsafeSlow(Math.max(MIN_BUFFER, expected));
    // Group by resource, then scope, by identity (as the official serializer does); insertion order kept.
    const groups = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
    for (const span of spans) {
      let byScope = groups.get(span.resource);
      if (byScope === undefined) groups.set(span.resource, (byScope = new Map()));
      const list = byScope.get(span.instrumentationScope);
      if (list === undefined) byScope.set(span.instrumentationScope, [span]);
      else list.push(span);
    }
    for (const [resource, byScope] of groups) {
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      const rs = w.begin(3);
      w.raw(this.resourceBytes(resource));
      for (const [scope, list] of byScope) {
        w.ensure(1);
        w.buf[w.pos++] = tag(2, WIRE_LEN);
        const ss = w.begin(3);
        w.raw(this.scopeBytes(scope));
        for (const span of list) this.writeSpan(span);
        if (scope.schemaUrl) {
          w.ensure(1);
          w.buf[w.pos++] = tag(3, WIRE_LEN);
          w.string(scope.schemaUrl);
        }
        w.end(ss, 3);
      }
      if (resource.schemaUrl) {
        w.ensure(1);
        w.buf[w.pos++] = tag(3, WIRE_LEN);
        w.string(resource.schemaUrl);
      }
      w.end(rs, 3);
    }
    // The message is handed over without a copy; the next one is written into a released buffer (or a
    // new one). Copying out and reusing one buffer cost more: a fresh multi-megabyte copy per export.
    if (w.pos === 0) return new Uint8Array(0);
    if (spans.length > 0) this.bytesPerSpan = Math.ceil(w.pos / spans.length);
    const out = w.buf.subarray(0, w.pos);
    this.handedOut.add(out.buffer);
    // The next message is written into a released buffer, or into one allocated when its size is known.
    w.buf = this.free.pop() ?? NO_BUFFER;
    w.pos = 0;
    return out;
  }

  /**
   * Takes back the memory of a message returned by serialize() once it is no longer needed (sent and
   * answered: no retry can read it again); it is then overwritten by a later message. Anything else is
   * ignored. Optional: unreleased messages are garbage-collected as usual.
   */
  release(message: Uint8Array): void {
    const memory = message.buffer;
    if (!this.handedOut.has(memory)) return;
    this.handedOut.delete(memory);
    if (this.free.length < MAX_FREE_BUFFERS && memory.byteLength <= MAX_KEPT_BUFFER) this.free.push(Buffer.from(memory as ArrayBuffer));
  }

  private writeSpan(span: ReadableSpan): void {
    const w = this.w;
    w.ensure(1);
    w.buf[w.pos++] = tag(2, WIRE_LEN);
    const start = w.begin(2);
    const ctx = span.spanContext();
    w.ensure(1);
    w.buf[w.pos++] = tag(1, WIRE_LEN);
    w.hexId(ctx.traceId);
    w.ensure(1);
    w.buf[w.pos++] = tag(2, WIRE_LEN);
    w.hexId(ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) {
      w.ensure(1);
      w.buf[w.pos++] = tag(3, WIRE_LEN);
      w.string(traceState);
    }
    const parent = span.parentSpanContext;
    if (parent?.spanId) {
      w.ensure(1);
      w.buf[w.pos++] = tag(4, WIRE_LEN);
      w.hexId(parent.spanId);
    }
    w.ensure(1);
    w.buf[w.pos++] = tag(5, WIRE_LEN);
    w.string(span.name);
    const kind = span.kind == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      w.ensure(2);
      w.buf[w.pos++] = tag(6, WIRE_VARINT);
      w.buf[w.pos++] = kind;
    }
    w.ensure(1);
    w.buf[w.pos++] = tag(7, WIRE_FIXED64);
    w.hrTime(span.startTime);
    w.ensure(1);
    w.buf[w.pos++] = tag(8, WIRE_FIXED64);
    w.hrTime(span.endTime);
    if (span.attributes) this.writeAttributes(span.attributes, 9);
    this.count(10, span.droppedAttributesCount);
    for (const event of span.events) this.writeEvent(event);
    this.count(12, span.droppedEventsCount);
    for (const link of span.links) this.writeLink(link);
    this.count(14, span.droppedLinksCount);
    // Status: message (2) when set, code (3) always.
    w.ensure(1);
    w.buf[w.pos++] = tag(15, WIRE_LEN);
    const status = w.begin(1);
    if (span.status.message) {
      w.ensure(1);
      w.buf[w.pos++] = tag(2, WIRE_LEN);
      w.string(span.status.message);
    }
    w.ensure(1);
    w.buf[w.pos++] = tag(3, WIRE_VARINT);
    w.varint64(span.status.code);
    w.end(status, 1);
    this.flags(16, ctx.traceFlags, parent?.isRemote);
    w.end(start, 2);
  }

  private writeEvent(event: TimedEvent): void {
    const w = this.w;
    w.ensure(1);
    w.buf[w.pos++] = tag(11, WIRE_LEN);
    const start = w.begin(1);
    w.ensure(1);
    w.buf[w.pos++] = tag(1, WIRE_FIXED64);
    w.hrTime(event.time);
    w.ensure(1);
    w.buf[w.pos++] = tag(2, WIRE_LEN);
    w.string(event.name);
    if (event.attributes) this.writeAttributes(event.attributes, 3);
    this.count(4, event.droppedAttributesCount ?? 0);
    w.end(start, 1);
  }

  private writeLink(link: Link): void {
    const w = this.w;
    w.ensure(1);
    w.buf[w.pos++] = tag(13, WIRE_LEN);
    const start = w.begin(1);
    const ctx: SpanContext = link.context;
    w.ensure(1);
    w.buf[w.pos++] = tag(1, WIRE_LEN);
    w.hexId(ctx.traceId);
    w.ensure(1);
    w.buf[w.pos++] = tag(2, WIRE_LEN);
    w.hexId(ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) {
      w.ensure(1);
      w.buf[w.pos++] = tag(3, WIRE_LEN);
      w.string(traceState);
    }
    if (link.attributes) this.writeAttributes(link.attributes, 4);
    this.count(5, link.droppedAttributesCount ?? 0);
    this.flags(6, ctx.traceFlags, ctx.isRemote);
    w.end(start, 1);
  }

  /** A uint32 count field, written even when 0 (as the official serializer does). */
  private count(field: number, n: number): void {
    const w = this.w;
    w.ensure(7);
    w.uvarint(tag(field, WIRE_VARINT));
    w.uvarint(n >>> 0);
  }

  private flags(field: number, traceFlags: number, isRemote: boolean | undefined): void {
    let flags = (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE;
    if (isRemote) flags |= FLAGS_IS_REMOTE;
    const w = this.w;
    w.ensure(2);
    w.uvarint(tag(field, WIRE_FIXED32));
    w.fixed32(flags);
  }

  /** Repeated KeyValue in `field`; each key's bytes come from the cache. */
  private writeAttributes(attributes: Attributes, field: number): void {
    const w = this.w;
    const fieldTag = tag(field, WIRE_LEN);
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      w.ensure(1);
      w.buf[w.pos++] = fieldTag;
      const kv = w.begin(1);
      w.raw(this.keyBytes(key));
      const value = w.begin(1);
      writeAnyValue(w, attributes[key] as AttributeValue | undefined);
      w.end(value, 1);
      w.end(kv, 1);
    }
  }

  private keyBytes(key: string): Buffer {
    let bytes = this.keys.get(key);
    if (bytes !== undefined) return bytes;
    const n = Buffer.byteLength(key, 'utf8');
    bytes = Buffer.allocUnsafe(1 + varintSize(n) + n + 1);
    let p = 0;
    bytes[p++] = tag(1, WIRE_LEN);
    let v = n;
    while (v > 0x7f) {
      bytes[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    bytes[p++] = v;
    p += bytes.write(key, p, n, 'utf8');
    bytes[p] = tag(2, WIRE_LEN);
    if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(key, bytes);
    return bytes;
  }

  /** Encodes a sub-message with this serializer's writer and returns a copy of its bytes. */
  private encodeAside(write: () => void): Buffer {
    const w = this.w;
    const saved = w.pos;
    write();
    const bytes = Buffer.from(w.buf.subarray(saved, w.pos));
    w.pos = saved;
    return bytes;
  }

  private resourceBytes(resource: Resource): Buffer {
    const cached = this.resources.get(resource);
    if (cached !== undefined) return cached;
    const bytes = this.encodeAside(() => {
      const w = this.w;
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      const start = w.begin(1);
      if (resource.attributes) this.writeAttributes(resource.attributes, 1);
      this.count(2, 0);
      w.end(start, 1);
    });
    // Attributes of a resource still waiting for asynchronous detectors may change: not cached then.
    if (!resource.asyncAttributesPending) this.resources.set(resource, bytes);
    return bytes;
  }

  private scopeBytes(scope: InstrumentationScope): Buffer {
    const cached = this.scopes.get(scope);
    if (cached !== undefined) return cached;
    const bytes = this.encodeAside(() => {
      const w = this.w;
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      const start = w.begin(1);
      w.ensure(1);
      w.buf[w.pos++] = tag(1, WIRE_LEN);
      w.string(scope.name);
      if (scope.version) {
        w.ensure(1);
        w.buf[w.pos++] = tag(2, WIRE_LEN);
        w.string(scope.version);
      }
      const attributes = (scope as { attributes?: Attributes }).attributes;
      if (attributes) this.writeAttributes(attributes, 3);
      const dropped = (scope as { droppedAttributesCount?: number }).droppedAttributesCount;
      if (dropped) this.count(4, dropped);
      w.end(start, 1);
    });
    this.scopes.set(scope, bytes);
    return bytes;
  }
}
