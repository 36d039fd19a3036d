import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api';
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { AttrValue, DecodedLogRecord, DecodedSpan } from '../../processor/src/model.js';
import { decodeLogs, decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { decodeLogsJson, decodeTracesJson } from '../../processor/src/receive/json-decoder.js';
import { decodeLogsProtobufjs, decodeTracesProtobufjs } from '../helpers/otlp-protobufjs/decoder.js';

// Payloads come from the real OpenTelemetry SDK and the real OTLP serializers (the bytes exporters send);
// the three decoders must produce the same DecodedSpan / DecodedLogRecord values.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE_PARENT_ID = '00f067aa0ba902b7';
const LINKED_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const LINKED_SPAN_ID = 'b7ad6b7169203331';
const SECONDS = 1_767_323_045;

const ns = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
const hr = (offsetNanos: number): HrTime => [SECONDS, offsetNanos];

interface TraceFixture {
  spans: ReadableSpan[];
  protobuf: Uint8Array;
  json: Uint8Array;
  chat: ReadableSpan;
  retrieval: ReadableSpan;
  tool: ReadableSpan;
}

/** Values that the span API refuses (it takes only primitives and homogeneous arrays) but OTLP carries;
 * they are put on the finished span so the serializer's AnyValue paths (bytes, kvlist, int64) are exercised. */
function complexAttributes(): Record<string, unknown> {
  const kvlist: Record<string, unknown> = { model: 'gpt-4o', params: { temperature: 0.25, stop: ['\n', 'END'] }, n: 2 };
  Object.defineProperty(kvlist, '__proto__', { value: 'just a key', enumerable: true, configurable: true, writable: true });
  return {
    bytes: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
    kvlist,
    'int64.big': 2 ** 60,
    'int64.big.negative': -(2 ** 60),
    'int64.max.safe': Number.MAX_SAFE_INTEGER,
    'int64.min.safe': Number.MIN_SAFE_INTEGER,
    'int64.above.safe': 2 ** 53 + 2,
    'mixed.array': [1, 'two', true, 2.5, null, { k: 'v' }, new Uint8Array([1, 2])],
  };
}

function buildTraceFixture(): TraceFixture {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receive-test', 'service.instance.id': 'i-1', 'host.cpu.count': 8 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@ragscope/receive-test', '2.0.1');
  const toolTracer = provider.getTracer('tools');
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: REMOTE_PARENT_ID,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
  });

  const chat = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      startTime: hr(123_456_789),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1234,
        'negative.int': -42,
        'gen_ai.request.temperature': 0.7,
        'tiny.double': 1e-300,
        'gen_ai.request.stream': true,
        'flag.false': false,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'int.array': [1, 2, 3],
        'double.array': [0.5, 1.5],
        'bool.array': [true, false],
        'array.with.null': ['a', null, 'b'],
        'empty.array': [],
        unicode: 'héllo wörld — 你好 🚀',
        'empty.string': '',
        'long.string': 'context chunk '.repeat(40),
      },
      links: [
        {
          context: {
            traceId: LINKED_TRACE_ID,
            spanId: LINKED_SPAN_ID,
            traceFlags: TraceFlags.SAMPLED,
            traceState: createTraceState('vendor=abc'),
          },
          attributes: { 'link.reason': 'retry', 'link.attempt': 2 },
        },
      ],
    },
    remoteParent,
  );
  chat.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'What is RAG?', 'chunk.count': 3 }, hr(200_000_000));
  chat.addEvent('first_token', undefined, hr(450_000_001));
  chat.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited: 429' });
  const inChat = trace.setSpan(ROOT_CONTEXT, chat);
  const retrieval = tracer.startSpan('retrieval docs', { startTime: hr(130_000_000), attributes: { 'gen_ai.operation.name': 'retrieval' } }, inChat);
  retrieval.setStatus({ code: SpanStatusCode.OK });
  retrieval.end(hr(180_000_000));
  const tool = toolTracer.startSpan('execute_tool search', { kind: SpanKind.INTERNAL, startTime: hr(500_000_000) }, inChat);
  tool.end(hr(600_000_000));
  chat.end(hr(900_000_000));

  const spans = exporter.getFinishedSpans();
  const finishedChat = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
  Object.assign(finishedChat.attributes, complexAttributes());
  (finishedChat.instrumentationScope as { attributes?: Record<string, unknown> }).attributes = { 'scope.team': 'rag', 'scope.replicas': 3 };

  const protobuf = ProtobufTraceSerializer.serializeRequest(spans)!;
  const json = JsonTraceSerializer.serializeRequest(spans)!;
  return {
    spans,
    protobuf,
    json,
    chat: finishedChat,
    retrieval: spans.find((s) => s.name === 'retrieval docs')!,
    tool: spans.find((s) => s.name === 'execute_tool search')!,
  };
}

const fixture = buildTraceFixture();

const expectedChatAttributes: Record<string, AttrValue> = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.usage.input_tokens': 1234,
  'negative.int': -42,
  'gen_ai.request.temperature': 0.7,
  'tiny.double': 1e-300,
  'gen_ai.request.stream': true,
  'flag.false': false,
  'gen_ai.response.finish_reasons': ['stop', 'length'],
  'int.array': [1, 2, 3],
  'double.array': [0.5, 1.5],
  'bool.array': [true, false],
  'array.with.null': ['a', null, 'b'],
  'empty.array': [],
  unicode: 'héllo wörld — 你好 🚀',
  'empty.string': '',
  'long.string': 'context chunk '.repeat(40),
  bytes: 'deadbeef00ff',
  kvlist: { model: 'gpt-4o', params: { temperature: 0.25, stop: ['\n', 'END'] }, n: 2, ['__proto__']: 'just a key' },
  'int64.big': '1152921504606846976',
  'int64.big.negative': '-1152921504606846976',
  'int64.max.safe': 9007199254740991,
  'int64.min.safe': -9007199254740991,
  'int64.above.safe': '9007199254740994',
  'mixed.array': [1, 'two', true, 2.5, null, { k: 'v' }, '0102'],
};

function byName(spans: DecodedSpan[]): Record<string, DecodedSpan> {
  return Object.fromEntries(spans.map((s) => [s.name, s]));
}

describe('trace decoders on real SDK payloads', () => {
  const decoded = {
    hand: decodeTraces(fixture.protobuf),
    protobufjs: decodeTracesProtobufjs(fixture.protobuf),
    json: decodeTracesJson(fixture.json),
  };

  it('the hand-written decoder yields the expected spans', () => {
    const spans = byName(decoded.hand);
    expect(decoded.hand).toHaveLength(3);
    const chat = spans['chat gpt-4o-mini'];
    expect(chat).toStrictEqual({
      origin: {
        resource: { 'service.name': 'receive-test', 'service.instance.id': 'i-1', 'host.cpu.count': 8 },
        scope: { name: '@ragscope/receive-test', version: '2.0.1', attributes: { 'scope.team': 'rag', 'scope.replicas': 3 } },
      },
      traceId: TRACE_ID,
      spanId: fixture.chat.spanContext().spanId,
      parentSpanId: REMOTE_PARENT_ID,
      traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
      name: 'chat gpt-4o-mini',
      kind: 3,
      startTimeUnixNano: 1_767_323_045_123_456_789n,
      endTimeUnixNano: 1_767_323_045_900_000_000n,
      attributes: expectedChatAttributes,
      events: [
        { timeUnixNano: 1_767_323_045_200_000_000n, name: 'gen_ai.content.prompt', attributes: { 'gen_ai.prompt': 'What is RAG?', 'chunk.count': 3 } },
        { timeUnixNano: 1_767_323_045_450_000_001n, name: 'first_token', attributes: {} },
      ],
      links: [
        { traceId: LINKED_TRACE_ID, spanId: LINKED_SPAN_ID, traceState: 'vendor=abc', attributes: { 'link.reason': 'retry', 'link.attempt': 2 } },
      ],
      statusCode: 2,
      statusMessage: 'rate limited: 429',
    });
    // an own `__proto__` key, not a replaced prototype
    const kvlist = chat.attributes.kvlist as Record<string, AttrValue>;
    expect(Object.getPrototypeOf(kvlist)).toBe(Object.prototype);
    expect(Object.keys(kvlist)).toContain('__proto__');

    const retrieval = spans['retrieval docs'];
    expect(retrieval).toMatchObject({
      traceId: TRACE_ID,
      spanId: fixture.retrieval.spanContext().spanId,
      parentSpanId: fixture.chat.spanContext().spanId,
      kind: 1,
      startTimeUnixNano: ns(fixture.retrieval.startTime),
      endTimeUnixNano: 1_767_323_045_180_000_000n,
      attributes: { 'gen_ai.operation.name': 'retrieval' },
      events: [],
      links: [],
      statusCode: 1,
      statusMessage: '',
    });
    const tool = spans['execute_tool search'];
    expect(tool.origin.scope).toStrictEqual({ name: 'tools', version: '', attributes: {} });
    expect(tool.statusCode).toBe(0);
    expect(tool.parentSpanId).toBe(fixture.chat.spanContext().spanId);
  });

  it('shares resource and scope objects by reference', () => {
    const spans = byName(decoded.hand);
    const chat = spans['chat gpt-4o-mini'];
    const retrieval = spans['retrieval docs'];
    const tool = spans['execute_tool search'];
    expect(retrieval.origin).toBe(chat.origin);
    expect(tool.origin).not.toBe(chat.origin);
    expect(tool.origin.resource).toBe(chat.origin.resource);
    for (const spans of [decoded.protobufjs, decoded.json]) {
      const named = byName(spans);
      expect(named['retrieval docs'].origin).toBe(named['chat gpt-4o-mini'].origin);
      expect(named['execute_tool search'].origin.resource).toBe(named['chat gpt-4o-mini'].origin.resource);
    }
  });

  it('protobufjs and JSON decoders agree exactly with the hand-written decoder', () => {
    expect(decoded.protobufjs).toStrictEqual(decoded.hand);
    expect(decoded.json).toStrictEqual(decoded.hand);
  });

  it('ids come out as lowercase hex and a root span has an empty parent id', () => {
    const root = tracerSpans(1)[0];
    const payload = ProtobufTraceSerializer.serializeRequest([root])!;
    for (const span of [decodeTraces(payload)[0], decodeTracesProtobufjs(payload)[0], decodeTracesJson(JsonTraceSerializer.serializeRequest([root])!)[0]]) {
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(span.parentSpanId).toBe('');
      expect(span.traceId).toBe(root.spanContext().traceId);
    }
  });

  it('decodes a GenAI batch of many spans identically in all three decoders', () => {
    const spans = tracerSpans(300);
    const hand = decodeTraces(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(hand).toHaveLength(300);
    expect(decodeTracesProtobufjs(ProtobufTraceSerializer.serializeRequest(spans)!)).toStrictEqual(hand);
    expect(decodeTracesJson(JsonTraceSerializer.serializeRequest(spans)!)).toStrictEqual(hand);
    expect(new Set(hand.map((s) => s.spanId)).size).toBe(300);
    expect(hand.map((s) => s.attributes['gen_ai.usage.input_tokens'])).toEqual(spans.map((s) => s.attributes['gen_ai.usage.input_tokens']));
  });

  it('an empty request decodes to no spans', () => {
    expect(decodeTraces(new Uint8Array(0))).toEqual([]);
    expect(decodeTracesProtobufjs(new Uint8Array(0))).toEqual([]);
    expect(decodeTracesJson('{}')).toEqual([]);
    expect(decodeTracesJson('{"resourceSpans":[]}')).toEqual([]);
  });
});

function tracerSpans(count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('batch');
  for (let i = 0; i < count; i++) {
    tracer
      .startSpan(`chat ${i % 7}`, {
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5'][i % 3],
          'gen_ai.usage.input_tokens': 100 + i,
          'gen_ai.usage.output_tokens': i * 3,
          'gen_ai.response.id': `resp-${i}`,
          'gen_ai.request.temperature': i / 10,
        },
      })
      .end();
  }
  return exporter.getFinishedSpans();
}

interface LogFixture {
  protobuf: Uint8Array;
  json: Uint8Array;
  spanId: string;
}

async function buildLogFixture(): Promise<LogFixture> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receive-test' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('@ragscope/receive-logs', '1.0.0', { attributes: { 'scope.kind': 'events' } });
  const spanId = 'a3ce929d0e0e4736';
  const inSpan = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId, traceFlags: TraceFlags.SAMPLED });
  logger.emit({
    eventName: 'gen_ai.client.inference.operation.details',
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: { messages: [{ role: 'user', content: 'What is RAG?' }], tokens: 12, raw: new Uint8Array([7, 8, 9]) },
    attributes: { 'gen_ai.request.model': 'gpt-4o', 'payload.bytes': new Uint8Array([0xca, 0xfe]), nested: { ok: true, list: [1, 'x'] }, big: 2 ** 62 },
    timestamp: hr(1),
    observedTimestamp: hr(2),
    context: inSpan,
  });
  logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'plain text body', timestamp: hr(3), observedTimestamp: hr(4) });
  logger.emit({ eventName: 'no.body', timestamp: hr(5), observedTimestamp: hr(6) });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  return { protobuf: ProtobufLogsSerializer.serializeRequest(records)!, json: JsonLogsSerializer.serializeRequest(records)!, spanId };
}

const logs = await buildLogFixture();

describe('log decoders on real SDK payloads', () => {
  const hand = decodeLogs(logs.protobuf);

  it('the hand-written decoder yields the expected records', () => {
    const origin = { resource: { 'service.name': 'receive-test' }, scope: { name: '@ragscope/receive-logs', version: '1.0.0', attributes: { 'scope.kind': 'events' } } };
    expect(hand).toStrictEqual<DecodedLogRecord[]>([
      {
        origin,
        timeUnixNano: 1_767_323_045_000_000_001n,
        observedTimeUnixNano: 1_767_323_045_000_000_002n,
        severityNumber: 9,
        severityText: 'INFO',
        body: { messages: [{ role: 'user', content: 'What is RAG?' }], tokens: 12, raw: '070809' },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'payload.bytes': 'cafe', nested: { ok: true, list: [1, 'x'] }, big: '4611686018427387904' },
        traceId: TRACE_ID,
        spanId: logs.spanId,
        flags: 1,
        eventName: 'gen_ai.client.inference.operation.details',
      },
      {
        origin,
        timeUnixNano: 1_767_323_045_000_000_003n,
        observedTimeUnixNano: 1_767_323_045_000_000_004n,
        severityNumber: 13,
        severityText: 'WARN',
        body: 'plain text body',
        attributes: {},
        traceId: '',
        spanId: '',
        flags: 0,
        eventName: '',
      },
      {
        origin,
        timeUnixNano: 1_767_323_045_000_000_005n,
        observedTimeUnixNano: 1_767_323_045_000_000_006n,
        severityNumber: 0,
        severityText: '',
        body: null,
        attributes: {},
        traceId: '',
        spanId: '',
        flags: 0,
        eventName: 'no.body',
      },
    ]);
    expect(hand[1].origin).toBe(hand[0].origin);
  });

  it('protobufjs and JSON decoders agree exactly', () => {
    expect(hand).toHaveLength(3);
    expect(decodeLogsProtobufjs(logs.protobuf)).toStrictEqual(hand);
    expect(decodeLogsJson(logs.json)).toStrictEqual(hand);
  });
});
