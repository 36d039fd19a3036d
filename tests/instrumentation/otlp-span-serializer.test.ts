// ragscope's hand-written OTLP/protobuf span serializer (instrumentation/src/otlp-span-serializer.ts) against
// OpenTelemetry's own (ProtobufTraceSerializer): spans made by the real SDK, both encodings decoded with
// the OTLP .proto definitions (protobufjs), the decoded messages must be identical. Also the pooled id
// generator (instrumentation/src/id-generator.ts).
import { SpanKind, SpanStatusCode, TraceFlags, context, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { describe, expect, it, vi } from 'vitest';
import { PooledIdGenerator } from '../../instrumentation/src/id-generator.js';
import { RagscopeOtlpTraceExporter } from '../../instrumentation/src/otlp-exporter.js';
import { OtlpSpanSerializer } from '../../instrumentation/src/otlp-span-serializer.js';
import { loadOtlpSchema } from '../helpers/otlp-protobufjs/decoder.js';
import { startReceiver } from './helpers/otlp-receiver.js';

function decode(bytes: Uint8Array): Record<string, unknown> {
  const type = loadOtlpSchema().lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  // Every field with its default, 64-bit integers as decimal strings, bytes as base64: a full, exact picture.
  return type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true, objects: true, oneofs: true });
}

const LONG = `${'x'.repeat(200)}-end`;
const ATTRIBUTES: Attributes = {
  'str.ascii': 'hello',
  'str.empty': '',
  'str.non_ascii': 'Grüße, 東京 🚀',
  'str.long': LONG,
  'str.long_non_ascii': `${'é'.repeat(300)}`,
  'int.zero': 0,
  'int.small': 42,
  'int.negative': -7,
  'int.big': 2 ** 40 + 3,
  'int.min_safe': Number.MIN_SAFE_INTEGER,
  'double.pi': 3.14159,
  'double.negative': -0.5,
  'double.huge': 1e300,
  'bool.true': true,
  'bool.false': false,
  'array.strings': ['a', '', 'ü', LONG],
  'array.ints': [1, -2, 2 ** 35],
  'array.doubles': [0.25, 1.5],
  'array.bools': [true, false],
  'array.empty': [],
  'ключ.non_ascii_key': 'value',
  '': 'empty key',
  'str.lone_surrogate': 'a\ud800b',
  'int.big_negative': -(2 ** 40) - 1,
  'double.nan': Number.NaN,
  'int.negative_zero': -0,
  // AnyValue beyond the Attributes type (the SDK accepts them): bytes, maps, nulls in arrays.
  'bytes.value': new Uint8Array([0, 1, 254, 255]) as never,
  'map.value': { inner: 'v', n: 2, deeper: { list: [1, 'two'] } } as never,
  'array.with_null': ['a', null, 'b'] as never,
};

function makeSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = (name: string) =>
    new TracerProvider({ resource: resourceFromAttributes({ 'service.name': name, 'deployment.environment.name': 'test', 'host.count': 2 }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const a = provider('svc-a');
  const b = provider('svc-ü');
  const tracers: Tracer[] = [a.getTracer('scope-one', '1.2.3'), a.getTracer('scope-two'), b.getTracer('scope-three', '0.0.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' })];
  const remoteParent = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=value,other=x'),
  });
  for (const [i, tracer] of tracers.entries()) {
    const root = tracer.startSpan(`root ${i}`, { kind: SpanKind.SERVER, attributes: ATTRIBUTES, startTime: [1_764_000_000 + i, 123_456_789] });
    root.addEvent('event.plain', [1_764_000_000 + i, 5]);
    root.addEvent('event.attrs', { 'e.str': 'ö', 'e.int': 5, 'e.arr': ['x'] }, [1_764_000_001, 999_999_999]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom – ünïcode' });
    const child = tracer.startSpan(
      `child ${i} ${'ä'.repeat(i * 50)}`,
      {
        kind: SpanKind.CLIENT,
        links: [
          { context: { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb', traceFlags: TraceFlags.NONE, isRemote: true, traceState: new TraceState('k=v') }, attributes: { 'link.attr': 'l', 'link.n': 1.25 } },
          { context: { traceId: '0000000000000000000000000000000f', spanId: '000000000000000f', traceFlags: TraceFlags.SAMPLED } },
        ],
      },
      trace.setSpan(context.active(), root),
    );
    child.setStatus({ code: SpanStatusCode.OK });
    child.end([1_764_000_002, 1]);
    const remoteChild = tracer.startSpan('remote child', { kind: SpanKind.CONSUMER, attributes: { only: 'one' } }, remoteParent);
    remoteChild.end();
    const internal = tracer.startSpan('', { kind: SpanKind.INTERNAL });
    internal.end();
    const producer = tracer.startSpan('producer', { kind: SpanKind.PRODUCER, attributes: { big: 'y'.repeat(70_000) } });
    producer.end();
    root.end([1_764_000_003 + i, 0]);
  }
  return exporter.getFinishedSpans();
}

describe('OtlpSpanSerializer', () => {
  it('encodes exactly the message OpenTelemetry’s serializer encodes (varied spans, two resources, three scopes)', () => {
    const spans = makeSpans();
    expect(spans.length).toBe(15);
    const official = ProtobufTraceSerializer.serializeRequest(spans)!;
    const ours = new OtlpSpanSerializer().serialize(spans);
    const expected = decode(official);
    const actual = decode(ours);
    const resourceSpans = expected.resourceSpans as { scopeSpans: { spans: unknown[] }[] }[];
    expect(resourceSpans).toHaveLength(2);
    const decodedSpans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)) as { name: string; attributes: { key: string }[]; events: unknown[]; links: unknown[] }[];
    expect(decodedSpans).toHaveLength(15);
    // The varied values reached the encoding (the SDK kept them), events and links too.
    const root = decodedSpans.find((s) => s.name === 'root 0')!;
    // (The SDK drops the empty key as invalid.)
    expect(root.attributes.map((a) => a.key)).toEqual(Object.keys(ATTRIBUTES).filter((k) => k !== ''));
    expect(root.events).toHaveLength(2);
    expect(decodedSpans.find((s) => s.name.startsWith('child 0'))!.links).toHaveLength(2);
    expect(actual).toEqual(expected);
    // Same fields in the same order, lengths minimally encoded: the bytes are the same too.
    expect(Buffer.from(ours).equals(Buffer.from(official))).toBe(true);
  });

  it('gives the same message again when reused (caches and buffer reuse), and for a single span', () => {
    const spans = makeSpans();
    const serializer = new OtlpSpanSerializer();
    const first = serializer.serialize(spans);
    const single = serializer.serialize([spans[3]!]);
    const again = serializer.serialize(spans);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expect(decode(single)).toEqual(decode(ProtobufTraceSerializer.serializeRequest([spans[3]!])!));
    expect(decode(first)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(spans)!));
  });

  it('a message much larger than the previous one per span (its buffer is sized from the previous) is still encoded whole', () => {
    const spans = makeSpans();
    const small = spans.filter((s) => s.name === '');
    const serializer = new OtlpSpanSerializer();
    // Bytes per span of tiny spans first, then a batch with 70 kB attributes: the buffer has to grow.
    for (const batch of [small, spans, small, spans.slice(3)]) {
      expect(decode(serializer.serialize(batch))).toEqual(decode(ProtobufTraceSerializer.serializeRequest(batch)!));
    }
  });

  it('a released message’s memory is reused; an unreleased one is never overwritten', () => {
    const spans = makeSpans();
    const serializer = new OtlpSpanSerializer();
    const first = serializer.serialize(spans.slice(0, 5));
    const firstCopy = Buffer.from(first);
    const second = serializer.serialize(spans.slice(5));
    // Not released: later messages are written elsewhere.
    expect(Buffer.from(first).equals(firstCopy)).toBe(true);
    expect(second.buffer === first.buffer).toBe(false);
    serializer.release(first);
    // The writer already holds the buffer of the next message; the released one is used by the one after.
    const third = serializer.serialize(spans.slice(5, 8));
    const fourth = serializer.serialize(spans.slice(8, 12));
    expect(third.buffer === first.buffer).toBe(false);
    expect(fourth.buffer === first.buffer).toBe(true);
    expect(decode(third)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(spans.slice(5, 8))!));
    expect(decode(fourth)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(spans.slice(8, 12))!));
    expect(decode(second)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(spans.slice(5))!));
    // Foreign bytes are ignored by release().
    serializer.release(new Uint8Array(10));
    expect(decode(serializer.serialize(spans))).toEqual(decode(ProtobufTraceSerializer.serializeRequest(spans)!));
  });

  it('RagscopeOtlpTraceExporter sends each batch as the official serializer encodes it (real HTTP, consecutive exports reuse memory)', async () => {
    const receiver = await startReceiver();
    try {
      const release = vi.spyOn(OtlpSpanSerializer.prototype, 'release');
      const exporter = new RagscopeOtlpTraceExporter({ url: `${receiver.url}/v1/traces` });
      const spans = makeSpans();
      const batches = [spans.slice(0, 4), spans.slice(4, 11), spans.slice(11), spans];
      for (const batch of batches) {
        const result = await new Promise<ExportResult>((resolve) => exporter.export(batch, resolve));
        expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      }
      await exporter.shutdown();
      // Each answered export handed its message's memory back for reuse.
      expect(release).toHaveBeenCalledTimes(batches.length);
      release.mockRestore();
      const bodies = receiver.received.filter((r) => r.path === '/v1/traces');
      expect(bodies).toHaveLength(batches.length);
      for (const [i, body] of bodies.entries()) {
        expect(body.contentType).toBe('application/x-protobuf');
        expect(decode(body.body)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(batches[i]!)!));
      }
    } finally {
      await receiver.close();
    }
  });

  it('encodes an empty batch as an empty request', () => {
    expect(new OtlpSpanSerializer().serialize([]).length).toBe(0);
  });
});

describe('PooledIdGenerator', () => {
  it('makes valid, distinct trace and span ids', () => {
    const ids = new PooledIdGenerator();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    // Many pools' worth (8 KiB / 24 bytes per pair ≈ 340 pairs): refills are exercised.
    for (let i = 0; i < 10_000; i++) {
      const t = ids.generateTraceId();
      const s = ids.generateSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(t).not.toBe('0'.repeat(32));
      expect(s).not.toBe('0'.repeat(16));
      traceIds.add(t);
      spanIds.add(s);
    }
    expect(traceIds.size).toBe(10_000);
    expect(spanIds.size).toBe(10_000);
  });

  it('ids are spread over every hex digit in every position (not a counter, not biased)', () => {
    const ids = new PooledIdGenerator();
    const seen: Set<string>[] = Array.from({ length: 32 }, () => new Set());
    for (let i = 0; i < 2000; i++) {
      const t = ids.generateTraceId();
      for (let p = 0; p < 32; p++) seen[p]!.add(t[p]!);
    }
    for (const digits of seen) expect(digits.size).toBe(16);
  });
});
