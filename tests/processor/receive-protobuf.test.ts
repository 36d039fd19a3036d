import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { AttrValue } from '../../processor/src/model.js';
import { OtlpDecodeError, decodeLogs, decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { decodeLogsProtobufjs, decodeTracesProtobufjs } from '../helpers/otlp-protobufjs/decoder.js';

// Hand-built protobuf wire bytes for what real exporters rarely send: unknown fields, any field order,
// int64 edge values, odd ids, and malformed input that must fail with OtlpDecodeError naming the field.

// ---- a minimal protobuf writer -------------------------------------------------------------------
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => Buffer.from(p)));
const key = (field: number, wireType: number): number[] => varintBytes((field << 3) | wireType);
const msg = (field: number, ...parts: Uint8Array[]): Uint8Array => {
  const body = cat(...parts);
  return cat(key(field, LEN), varintBytes(body.length), body);
};
const str = (field: number, value: string): Uint8Array => msg(field, Buffer.from(value, 'utf8'));
const raw = (field: number, bytes: number[] | Uint8Array): Uint8Array => msg(field, Uint8Array.from(bytes));
const hexBytes = (field: number, hex: string): Uint8Array => msg(field, Buffer.from(hex, 'hex'));
const vint = (field: number, value: number | bigint): Uint8Array => cat(key(field, VARINT), varintBytes(value));
const fixed64 = (field: number, value: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return cat(key(field, I64), b);
};
const fixed32 = (field: number, value: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return cat(key(field, I32), b);
};
const double = (field: number, value: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return cat(key(field, I64), b);
};
/** KeyValue in `field` with AnyValue fields `value` (omit value for a KeyValue without one). */
const kv = (field: number, k: string, ...value: Uint8Array[]): Uint8Array =>
  value.length ? msg(field, str(1, k), msg(2, ...value)) : msg(field, str(1, k));

/** One unknown field of every wire type, with numbers no OTLP message uses. */
const noise = (): Uint8Array =>
  cat(
    vint(1000, 123456789012n),
    fixed64(1001, 0xdeadbeefn),
    str(1002, 'future field'),
    fixed32(1003, 7),
    key(1004, SGROUP),
    vint(1, 5),
    str(2, 'in a group'),
    key(1004, EGROUP),
  );

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

interface SpanOptions {
  noisy?: boolean;
  reversed?: boolean;
}

function spanMessage({ noisy = false, reversed = false }: SpanOptions = {}): Uint8Array {
  const n = (): Uint8Array => (noisy ? noise() : new Uint8Array(0));
  const fields = [
    hexBytes(1, TRACE),
    hexBytes(2, SPAN),
    str(3, 'k=v'),
    hexBytes(4, PARENT),
    str(5, 'chat'),
    vint(6, 3),
    fixed64(7, 1_700_000_000_000_000_001n),
    fixed64(8, 1_700_000_000_500_000_000n),
    kv(9, 'gen_ai.usage.input_tokens', vint(3, 42), n()),
    kv(9, 'ratio', double(4, 0.25)),
    kv(9, 'list', msg(5, msg(1, str(1, 'a'), n()), msg(1, vint(2, 1)), n())),
    kv(9, 'map', msg(6, kv(1, 'inner', str(1, 'x')), n())),
    vint(10, 0),
    msg(11, fixed64(1, 1_700_000_000_100_000_000n), str(2, 'evt'), kv(3, 'e', vint(2, 1)), n()),
    msg(13, hexBytes(1, TRACE), hexBytes(2, PARENT), str(3, 'a=b'), kv(4, 'l', str(1, 'y')), fixed32(6, 0x301), n()),
    msg(15, str(2, 'failed'), vint(3, 2), n()),
    fixed32(16, 0x101),
    n(),
  ];
  return msg(2, ...(reversed ? fields.reverse() : fields));
}

function traceRequest(options: SpanOptions = {}): Uint8Array {
  const n = (): Uint8Array => (options.noisy ? noise() : new Uint8Array(0));
  const resource = msg(1, kv(1, 'service.name', str(1, 'svc')), vint(2, 0), n());
  const scopeSpans = msg(2, msg(1, str(1, 'scope'), str(2, '1.0'), kv(3, 'sa', vint(2, 1)), n()), spanMessage(options), n());
  const resourceSpans = options.reversed ? msg(1, scopeSpans, str(3, 'https://schema'), resource) : msg(1, resource, scopeSpans, str(3, 'https://schema'), n());
  return cat(resourceSpans, n());
}

const expectedSpan = {
  origin: { resource: { 'service.name': 'svc' }, scope: { name: 'scope', version: '1.0', attributes: { sa: true } } },
  traceId: TRACE,
  spanId: SPAN,
  parentSpanId: PARENT,
  traceState: 'k=v',
  name: 'chat',
  kind: 3,
  startTimeUnixNano: 1_700_000_000_000_000_001n,
  endTimeUnixNano: 1_700_000_000_500_000_000n,
  attributes: { 'gen_ai.usage.input_tokens': 42, ratio: 0.25, list: ['a', true], map: { inner: 'x' } },
  events: [{ timeUnixNano: 1_700_000_000_100_000_000n, name: 'evt', attributes: { e: true } }],
  links: [{ traceId: TRACE, spanId: PARENT, traceState: 'a=b', attributes: { l: 'y' } }],
  statusCode: 2,
  statusMessage: 'failed',
};

/** A span whose attributes are the given KeyValues, wrapped in a full request. */
function requestWithAttributes(...keyValues: Uint8Array[]): Uint8Array {
  return msg(1, msg(2, msg(2, hexBytes(1, TRACE), hexBytes(2, SPAN), ...keyValues)));
}

function attributesOf(payload: Uint8Array): Record<string, AttrValue> {
  const hand = decodeTraces(payload);
  expect(decodeTracesProtobufjs(payload)).toStrictEqual(hand);
  return hand[0].attributes;
}

function decodeError(run: () => unknown): OtlpDecodeError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return err as OtlpDecodeError;
  }
  throw new Error('expected an OtlpDecodeError, but decoding succeeded');
}

describe('protobuf decoding of valid but unusual wire data', () => {
  it('decodes a hand-built request to the expected span', () => {
    expect(decodeTraces(traceRequest())).toStrictEqual([expectedSpan]);
    expect(decodeTracesProtobufjs(traceRequest())).toStrictEqual([expectedSpan]);
  });

  it('skips unknown fields of every wire type (incl. groups) at every level', () => {
    const noisy = traceRequest({ noisy: true });
    expect(noisy.length).toBeGreaterThan(traceRequest().length + 200);
    expect(decodeTraces(noisy)).toStrictEqual([expectedSpan]);
    expect(decodeTracesProtobufjs(noisy)).toStrictEqual([expectedSpan]);
  });

  it('accepts fields in any order (resource after its spans, status before ids)', () => {
    const reversed = traceRequest({ reversed: true });
    const [span] = decodeTraces(reversed);
    expect(span).toStrictEqual(expectedSpan);
    expect(decodeTracesProtobufjs(reversed)).toStrictEqual([span]);
  });

  it('int64 values: numbers while safe, decimal strings beyond 2^53, two’s complement negatives', () => {
    const cases: [bigint, AttrValue][] = [
      [0n, 0],
      [1n, 1],
      [-1n, -1],
      [2n ** 31n, 2147483648],
      [2n ** 32n + 5n, 4294967301],
      [2n ** 53n - 1n, 9007199254740991],
      [-(2n ** 53n) + 1n, -9007199254740991],
      [2n ** 53n, '9007199254740992'],
      [-(2n ** 53n), '-9007199254740992'],
      [2n ** 63n - 1n, '9223372036854775807'],
      [-(2n ** 63n), '-9223372036854775808'],
    ];
    const attrs = attributesOf(requestWithAttributes(...cases.map(([value], i) => kv(9, `i${i}`, vint(3, value)))));
    expect(Object.values(attrs)).toStrictEqual(cases.map(([, expected]) => expected));
  });

  it('doubles, bools, bytes, empty values, missing keys', () => {
    const attrs = attributesOf(
      requestWithAttributes(
        kv(9, 'nan', double(4, NaN)),
        kv(9, 'inf', double(4, -Infinity)),
        kv(9, 'true.as.2', vint(2, 2)),
        kv(9, 'false', vint(2, 0)),
        kv(9, 'bytes', raw(7, [0x00, 0xab, 0xff])),
        kv(9, 'empty.bytes', raw(7, [])),
        kv(9, 'empty.anyvalue', new Uint8Array(0)),
        kv(9, 'no.value'),
        msg(9, msg(2, str(1, 'value without key'))),
        kv(9, 'empty.array', msg(5)),
        kv(9, 'empty.kvlist', msg(6)),
      ),
    );
    expect(attrs).toStrictEqual({
      nan: NaN,
      inf: -Infinity,
      'true.as.2': true,
      false: false,
      bytes: '00abff',
      'empty.bytes': '',
      'empty.anyvalue': null,
      'no.value': null,
      '': 'value without key',
      'empty.array': [],
      'empty.kvlist': {},
    });
  });

  it('every shape of a scalar attribute decodes as protobufjs decodes it (the one-pass path and the general one)', () => {
    const long = (n: number) => 'x'.repeat(n);
    const keyValues: Uint8Array[] = [
      kv(9, 'plain', str(1, 'text')),
      kv(9, 'empty.string', str(1, '')),
      kv(9, 'len.127', str(1, long(127))),
      kv(9, 'len.128', str(1, long(128))),
      kv(9, 'len.16383', str(1, long(16_383))),
      kv(9, 'len.16384', str(1, long(16_384))),
      kv(9, long(127), str(1, 'key of 127 bytes')),
      kv(9, long(128), str(1, 'key of 128 bytes')),
      kv(9, 'ü.key', str(1, 'ünïcode ✓')),
      msg(9, msg(2, str(1, 'value first')), str(1, 'value.before.key')),
      kv(9, 'two.strings', str(1, 'first'), str(1, 'second')),
      kv(9, 'string.then.int', str(1, 'text'), vint(3, 7n)),
      kv(9, 'int.then.string', vint(3, 7n), str(1, 'text')),
      kv(9, 'bool.two.byte.varint', vint(2, 128)),
      kv(9, 'bool.true', vint(2, 1)),
      kv(9, 'int.zero', vint(3, 0n)),
      kv(9, 'int.ten.bytes', vint(3, -5n)),
      kv(9, 'int.max', vint(3, 2n ** 63n - 1n)),
      kv(9, 'double', double(4, 0.125)),
      kv(9, 'double.negative.zero', double(4, -0)),
      msg(9, str(1, 'key.twice.first'), str(1, 'key.twice'), msg(2, str(1, 'v'))),
      msg(9, str(1, 'value.twice'), msg(2, str(1, 'a')), msg(2, str(1, 'b'))),
      cat(key(9, LEN), varintBytes(0)),
    ];
    const attrs = attributesOf(requestWithAttributes(...keyValues));
    expect(attrs['len.16384']).toBe(long(16_384));
    expect(attrs['value.before.key']).toBe('value first');
    expect(attrs['two.strings']).toBe('second');
    expect(attrs['string.then.int']).toBe(7);
    expect(attrs['int.then.string']).toBe('text');
    expect(attrs['bool.two.byte.varint']).toBe(true);
    expect(attrs['int.ten.bytes']).toBe(-5);
    expect(attrs['int.max']).toBe('9223372036854775807');
    expect(Object.is(attrs['double.negative.zero'], -0)).toBe(true);
    expect(attrs['key.twice']).toBe('v');
    expect(attrs['value.twice']).toBe('b');
    expect(attrs['']).toBeNull();
    expect(Object.keys(attrs)).toHaveLength(keyValues.length);
    // protobufjs refuses invalid UTF-8; the decoder replaces it, as Buffer#toString does.
    expect(decodeTraces(requestWithAttributes(kv(9, 'invalid.utf8', raw(1, [0x61, 0xff, 0xfe, 0x62]))))[0].attributes).toStrictEqual({ 'invalid.utf8': 'a\ufffd\ufffdb' });
  });

  it('a malformed scalar attribute is named exactly, whichever path would have read it', () => {
    const span = (...attributes: Uint8Array[]): Uint8Array => msg(1, msg(2, msg(2, str(5, 'span'), ...attributes)));
    const cases: [Uint8Array, string, RegExp][] = [
      // A string value whose length runs past its AnyValue.
      [msg(9, str(1, 'k'), msg(2, cat(key(1, LEN), varintBytes(9), [0x61]))), 'attributes[1].value.string_value', /truncated length-delimited field/],
      // An int value whose varint never ends inside its AnyValue.
      [msg(9, str(1, 'k'), msg(2, cat(key(3, VARINT), [0x80, 0x80]))), 'attributes[1].value.int_value', /truncated varint/],
      // A double value of four bytes.
      [msg(9, str(1, 'k'), msg(2, cat(key(4, I64), [0, 0, 0, 0]))), 'attributes[1].value.double_value', /truncated fixed64/],
      // A key whose length runs past its KeyValue.
      [msg(9, cat(key(1, LEN), varintBytes(40), [0x6b])), 'attributes[1].key', /truncated length-delimited field/],
    ];
    for (const [bad, path, reason] of cases) {
      const err = decodeError(() => decodeTraces(span(kv(9, 'fine', str(1, 'ok')), bad)));
      expect(err.path).toBe(`resource_spans[0].scope_spans[0].spans[0].${path}`);
      expect(err.message).toMatch(reason);
    }
  });

  it('a repeated key keeps the last value; a __proto__ key stays an ordinary property', () => {
    const attrs = attributesOf(
      requestWithAttributes(kv(9, 'k', str(1, 'first')), kv(9, '__proto__', str(1, 'polluted?')), kv(9, 'k', str(1, 'last'))),
    );
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual(['k', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(attrs, '__proto__')?.value).toBe('polluted?');
    expect(attrs.k).toBe('last');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ids of any length pass through as lowercase hex (the store stage validates them)', () => {
    const payload = msg(1, msg(2, msg(2, raw(1, [0xab, 0xcd, 0xef]), raw(2, []), str(5, 'odd ids'))));
    const [span] = decodeTraces(payload);
    expect(span.traceId).toBe('abcdef');
    expect(span.spanId).toBe('');
    expect(span.parentSpanId).toBe('');
    expect(decodeTracesProtobufjs(payload)).toStrictEqual([span]);
  });

  it('strings: UTF-8, invalid UTF-8, and many distinct short keys come out right', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36).padStart(6, '0')}`);
    const payload = requestWithAttributes(
      kv(9, 'abc', str(1, 'abc')),
      kv(9, 'invalid', raw(1, [0x61, 0x62, 0xff])),
      kv(9, 'after', str(1, 'abc')),
      kv(9, 'latin1.lookalike', raw(1, [0x61, 0x62, 0xe9])),
      kv(9, 'emoji', str(1, '🚀 ünïcödé')),
      ...keys.map((k) => kv(9, k, str(1, k.toUpperCase()))),
    );
    const attrs = decodeTraces(payload)[0].attributes;
    expect(attrs.abc).toBe('abc');
    expect(attrs.invalid).toBe('ab\ufffd');
    expect(attrs.after).toBe('abc');
    expect(attrs['latin1.lookalike']).toBe('ab\ufffd');
    expect(attrs.emoji).toBe('🚀 ünïcödé');
    for (const k of keys) expect(attrs[k]).toBe(k.toUpperCase());
    // decoding twice (warm string cache) gives the same result
    expect(decodeTraces(payload)[0].attributes).toStrictEqual(attrs);
  });

  it('skips the reserved Status field 1; unknown enum values pass through as numbers', () => {
    const payload = msg(1, msg(2, msg(2, vint(6, 42), msg(15, vint(1, 2), vint(3, 1)))));
    const [span] = decodeTraces(payload);
    expect(span.kind).toBe(42);
    expect(span.statusCode).toBe(1);
    expect(decodeTracesProtobufjs(payload)).toStrictEqual([span]);
  });

  it('each ResourceSpans gets its own resource; each ScopeSpans its own origin', () => {
    const payload = cat(
      msg(1, msg(1, kv(1, 'service.name', str(1, 'a'))), msg(2, msg(2, str(5, 'a1')), msg(2, str(5, 'a2'))), msg(2, msg(2, str(5, 'a3')))),
      msg(1, msg(1, kv(1, 'service.name', str(1, 'b'))), msg(2, msg(2, str(5, 'b1')))),
    );
    const [a1, a2, a3, b1] = decodeTraces(payload);
    expect([a1.name, a2.name, a3.name, b1.name]).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(a2.origin).toBe(a1.origin);
    expect(a3.origin).not.toBe(a1.origin);
    expect(a3.origin.resource).toBe(a1.origin.resource);
    expect(b1.origin.resource).toStrictEqual({ 'service.name': 'b' });
    expect(a1.origin.resource).toStrictEqual({ 'service.name': 'a' });
  });

  it('log records: every LogRecord field, incl. event_name (12) and observed time (11)', () => {
    const record = msg(
      2,
      fixed64(1, 1_700_000_000_000_000_001n),
      vint(2, 17),
      str(3, 'ERROR'),
      msg(5, msg(6, kv(1, 'role', str(1, 'user')), kv(1, 'tokens', vint(3, 7)))),
      kv(6, 'gen_ai.system', str(1, 'openai')),
      vint(7, 0),
      fixed32(8, 1),
      hexBytes(9, TRACE),
      hexBytes(10, SPAN),
      fixed64(11, 1_700_000_000_000_000_002n),
      str(12, 'gen_ai.choice'),
      noise(),
    );
    const payload = msg(1, msg(1, kv(1, 'service.name', str(1, 'svc'))), msg(2, msg(1, str(1, 'logger')), record, msg(2)));
    const records = decodeLogs(payload);
    expect(records).toStrictEqual([
      {
        origin: { resource: { 'service.name': 'svc' }, scope: { name: 'logger', version: '', attributes: {} } },
        timeUnixNano: 1_700_000_000_000_000_001n,
        observedTimeUnixNano: 1_700_000_000_000_000_002n,
        severityNumber: 17,
        severityText: 'ERROR',
        body: { role: 'user', tokens: 7 },
        attributes: { 'gen_ai.system': 'openai' },
        traceId: TRACE,
        spanId: SPAN,
        flags: 1,
        eventName: 'gen_ai.choice',
      },
      {
        origin: records[0].origin,
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
      },
    ]);
    expect(decodeLogsProtobufjs(payload)).toStrictEqual(records);
  });
});

/** A real exporter payload: two spans with events, links, attributes and a status. */
function realPayload(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'malformed-test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('malformed', '1.0.0');
  const root = tracer.startSpan('rag.request', { kind: SpanKind.SERVER, attributes: { 'user.id': 'u-1', 'ragscope.query.chars': 120 } });
  const chat = tracer.startSpan(
    'chat gpt-4o',
    {
      attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.request.temperature': 0.3, 'gen_ai.response.finish_reasons': ['stop'] },
      links: [{ context: { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED }, attributes: { why: 'retry' } }],
    },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  chat.addEvent('gen_ai.choice', { index: 0 });
  chat.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  chat.end();
  root.end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

describe('malformed protobuf', () => {
  it('a truncated request fails with OtlpDecodeError at every cut point, in both decoders', () => {
    const payload = realPayload();
    expect(decodeTraces(payload)).toHaveLength(2);
    for (let cut = 1; cut < payload.length; cut++) {
      const truncated = payload.subarray(0, cut);
      const err = decodeError(() => decodeTraces(truncated));
      expect(err.message).toMatch(/truncated|unexpected end|malformed/);
      expect(() => decodeTracesProtobufjs(truncated)).toThrow(OtlpDecodeError);
    }
  });

  it('names the field path of a nested length running past its message', () => {
    const badKeyValue = cat(str(1, 'k'), key(2, LEN), varintBytes(50), [1, 2, 3]);
    const span = (...attributes: Uint8Array[]): Uint8Array => msg(2, str(5, 'span'), ...attributes);
    const payload = msg(
      1,
      msg(2, span()),
      msg(2, span(), span(), span(), span(kv(9, 'a', str(1, 'x')), kv(9, 'b', str(1, 'y')), msg(9, badKeyValue))),
    );
    const err = decodeError(() => decodeTraces(payload));
    expect(err.path).toBe('resource_spans[0].scope_spans[1].spans[3].attributes[2].value');
    expect(err.message).toMatch(/^resource_spans\[0\]\.scope_spans\[1\]\.spans\[3\]\.attributes\[2\]\.value: truncated length-delimited field/);
  });

  it('a known field with the wrong wire type is an error naming the field', () => {
    const inSpan = (...fields: Uint8Array[]): Uint8Array => msg(1, msg(2, msg(2, ...fields)));
    expect(decodeError(() => decodeTraces(inSpan(vint(5, 1)))).message).toBe('resource_spans[0].scope_spans[0].spans[0].name: wrong wire type 0 (expected 2)');
    expect(decodeError(() => decodeTraces(inSpan(vint(7, 1)))).message).toMatch(/spans\[0\]\.start_time_unix_nano: wrong wire type 0 \(expected 1\)$/);
    expect(decodeError(() => decodeTraces(inSpan(kv(9, 'k', fixed32(1, 1))))).message).toMatch(
      /spans\[0\]\.attributes\[0\]\.value\.string_value: wrong wire type 5 \(expected 2\)$/,
    );
    expect(decodeError(() => decodeTraces(Uint8Array.from(vint(1, 1)))).message).toBe('resource_spans: wrong wire type 0 (expected 2)');
    expect(decodeError(() => decodeLogs(msg(1, msg(2, msg(2, str(12, 'ok'), vint(8, 1)))))).message).toBe(
      'resource_logs[0].scope_logs[0].log_records[0].flags: wrong wire type 0 (expected 5)',
    );
  });

  it('a huge length prefix fails fast without allocating', () => {
    const huge = [
      cat(key(1, LEN), varintBytes(0xffffffff), [1, 2, 3]),
      cat(key(1, LEN), varintBytes(2n ** 63n), [1, 2, 3]),
      cat(key(1, LEN), varintBytes(2n ** 64n - 1n)),
      msg(1, msg(2, cat(key(2, LEN), varintBytes(2 ** 31), str(5, 'x')))),
    ];
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      for (const payload of huge) {
        expect(() => decodeTraces(payload)).toThrow(/truncated length-delimited field/);
        expect(() => decodeTracesProtobufjs(payload)).toThrow(OtlpDecodeError);
      }
    }
    // A guard against reading or allocating the announced gigabytes, not a speed measurement (8000 decodes take
    // well under a second here): generous for a loaded 2-core machine. The memory bound below is the sharper check.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('rejects over-long varints, invalid wire types, field number 0 and broken groups', () => {
    const cases: [Uint8Array, RegExp][] = [
      [cat(key(1000, VARINT), Array(11).fill(0xff), [0x01]), /field_1000: malformed varint/],
      [msg(1, msg(2, msg(2, cat(key(6, VARINT), Array(10).fill(0x80), [0x01])))), /spans\[0\]\.kind: malformed varint/],
      [Uint8Array.from([(7 << 3) | 6, 0]), /invalid wire type 6/],
      [Uint8Array.from([(7 << 3) | 7, 0]), /invalid wire type 7/],
      [Uint8Array.from([0x02, 0x00]), /invalid field number 0/],
      [Uint8Array.from(key(9, EGROUP)), /unexpected end-group/],
      [cat(key(9, SGROUP), vint(1, 1)), /unterminated group/],
      [cat(key(9, SGROUP), key(8, EGROUP)), /mismatched end-group/],
      [Uint8Array.from([0x0a]), /^resource_spans\[0\]: truncated varint$/],
      [msg(1, msg(2, msg(2, cat(key(7, I64), [1, 2, 3])))), /start_time_unix_nano: truncated fixed64 field$/],
    ];
    for (const [payload, message] of cases) {
      expect(decodeError(() => decodeTraces(payload)).message).toMatch(message);
    }
  });

  it('deeply nested values fail cleanly instead of overflowing the stack', () => {
    let value = str(1, 'bottom');
    for (let i = 0; i < 2_000; i++) value = msg(5, msg(1, value));
    const payload = requestWithAttributes(msg(9, str(1, 'deep'), msg(2, value)));
    expect(decodeError(() => decodeTraces(payload)).message).toMatch(/nesting deeper than 100 levels/);
    expect(() => decodeTracesProtobufjs(payload)).toThrow(OtlpDecodeError);
    // 30 levels is fine
    let shallow = str(1, 'bottom');
    for (let i = 0; i < 30; i++) shallow = msg(5, msg(1, shallow));
    let expected: AttrValue = 'bottom';
    for (let i = 0; i < 30; i++) expected = [expected];
    expect(attributesOf(requestWithAttributes(msg(9, str(1, 'deep'), msg(2, shallow))))).toStrictEqual({ deep: expected });
  });

  it('random corruption either decodes or throws OtlpDecodeError — never another error, never hangs', () => {
    const payload = realPayload();
    let seed = 0x2545f491;
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    let decoded = 0;
    let rejected = 0;
    const started = performance.now();
    for (let round = 0; round < 3_000; round++) {
      let mutated: Uint8Array;
      if (round % 10 === 9) {
        mutated = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      } else {
        mutated = Uint8Array.from(payload);
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
          mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        }
      }
      for (const decode of [decodeTraces, decodeLogs]) {
        try {
          decode(mutated);
          decoded++;
        } catch (err) {
          if (!(err instanceof OtlpDecodeError)) throw err;
          rejected++;
        }
      }
    }
    expect(decoded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    // "Never hangs": a guard against a decoder looping on corrupt input, generous for a loaded 2-core machine.
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
