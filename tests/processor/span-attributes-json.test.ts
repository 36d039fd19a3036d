// The protobuf decoder writes each span's SpanAttributes JSON while it decodes (receive/known-key-values.ts,
// store/attributes-json.ts) instead of the otel_traces row walking the attribute map. The row text must stay
// byte for byte what the map walk gives: the write-ahead log, the older-lines replay and every rollup's checked
// answers depend on it. Each case compares the rows of the decoded spans with the rows of the same spans whose
// attribute maps are fresh copies (which the decoder never saw, so their rows take the map walk), exactly.
import { describe, expect, it } from 'vitest';
import type { Attributes, DecodedSpan } from '../../processor/src/model.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { traceRowLine } from '../../processor/src/store/row-lines.js';
import { decodedAttributesJson } from '../../processor/src/store/attributes-json.js';
import { toStringMap } from '../../processor/src/store/rows.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { testNow } from '../helpers/clock.js';

const book = loadPriceBook(undefined);

/** A copy of the map with the same own keys in the same order (a __proto__ key stays an own property). */
function copyAttributes(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(attributes)) {
    Object.defineProperty(out, key, { value: attributes[key], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const withCopiedAttributes = (spans: DecodedSpan[]): DecodedSpan[] => spans.map((s) => ({ ...s, attributes: copyAttributes(s.attributes) }));

/** Every span's row from the decoder's text equals the map walk's; returns how many spans had decoder text. */
function expectSameTraceRows(spans: DecodedSpan[]): number {
  expect(spans.length).toBeGreaterThan(0);
  const copies = withCopiedAttributes(spans);
  let decoded = 0;
  spans.forEach((span, i) => {
    expect(decodedAttributesJson(copies[i].attributes)).toBeUndefined();
    const text = decodedAttributesJson(span.attributes);
    if (text !== undefined) {
      decoded++;
      expect(text).toBe(JSON.stringify(toStringMap(span.attributes)));
    }
    expect(traceRowLine(span, 'default')).toBe(traceRowLine(copies[i], 'default'));
  });
  return decoded;
}

// ---- a minimal protobuf writer (as in receive-protobuf.test.ts) ------------------------------------
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
const tag = (field: number, wireType: number): number[] => varintBytes((field << 3) | wireType);
const msg = (field: number, ...parts: Uint8Array[]): Uint8Array => {
  const body = cat(...parts);
  return cat(tag(field, 2), varintBytes(body.length), body);
};
const str = (field: number, value: string): Uint8Array => msg(field, Buffer.from(value, 'utf8'));
const raw = (field: number, bytes: number[]): Uint8Array => msg(field, Uint8Array.from(bytes));
const hex = (field: number, value: string): Uint8Array => msg(field, Buffer.from(value, 'hex'));
const vint = (field: number, value: number | bigint): Uint8Array => cat(tag(field, 0), varintBytes(value));
const double = (field: number, value: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return cat(tag(field, 1), b);
};
const fixed64 = (field: number, value: bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return cat(tag(field, 1), b);
};
const kv = (field: number, k: string, ...value: Uint8Array[]): Uint8Array => (value.length ? msg(field, str(1, k), msg(2, ...value)) : msg(field, str(1, k)));
const attr = (k: string, ...value: Uint8Array[]): Uint8Array => kv(9, k, ...value);

const START = BigInt(testNow() - 60_000) * 1_000_000n;
let spanCounter = 0;
/** A Span message with these attribute KeyValues, an event and a link carrying attributes too. */
function spanBytes(name: string, ...attributes: Uint8Array[]): Uint8Array {
  spanCounter++;
  return msg(
    2,
    hex(1, '5b8efff798038103d269b633813fc60c'),
    hex(2, (0x1000 + spanCounter).toString(16).padStart(16, '0')),
    str(5, name),
    vint(6, 3),
    fixed64(7, START),
    fixed64(8, START + 5_000_000n),
    ...attributes,
    msg(11, fixed64(1, START + 1_000n), str(2, 'ev "1"'), kv(3, 'ev.k', str(1, 'v\n'))),
    msg(13, hex(1, '0af7651916cd43dd8448eb211c80319c'), hex(2, 'b7ad6b7169203331'), kv(4, 'link.k', vint(3, 7))),
  );
}
const request = (...spans: Uint8Array[]): Uint8Array =>
  msg(1, msg(1, kv(1, 'service.name', str(1, 'svc "q"'))), msg(2, msg(1, str(1, 'scope'), str(2, '1.0')), ...spans));

const LONG = 'long value '.repeat(30);
/** Attributes of every kind: all AnyValue types, escapes, non-ASCII, invalid UTF-8, empty and long values. */
const VARIED = [
  attr('gen_ai.operation.name', str(1, 'chat')),
  attr('gen_ai.provider.name', str(1, 'openai')),
  attr('gen_ai.request.model', str(1, 'gpt-4o-mini')),
  attr('gen_ai.usage.input_tokens', vint(3, 120)),
  attr('gen_ai.usage.output_tokens', vint(3, 2n ** 53n + 1n)),
  attr('neg', vint(3, -5n)),
  attr('d.tenth', double(4, 0.1)),
  attr('d.negzero', double(4, -0)),
  attr('d.nan', double(4, NaN)),
  attr('d.inf', double(4, Infinity)),
  attr('d.big', double(4, 1e21)),
  attr('b.true', vint(2, 1)),
  attr('b.false', vint(2, 0)),
  attr('bytes', raw(7, [0x00, 0xab, 0xff])),
  attr('empty.anyvalue'),
  attr('empty.string', str(1, '')),
  attr('escapes', str(1, 'q"uote \\ back\nline\ttab \u0001 \u2028 </script>')),
  attr('ünïcödé 🚀', str(1, 'naïve café 日本語 🚀')),
  attr('invalid.utf8', raw(1, [0x61, 0xed, 0xa0, 0x80, 0x62, 0xff])),
  attr('key "with" quotes\\', str(1, 'v')),
  attr('', str(1, 'value without key')),
  attr('array', msg(5, msg(1, str(1, 'x')), msg(1, vint(3, 2)), msg(1, double(4, 1.5)))),
  attr('kvlist', msg(6, kv(1, 'inner', str(1, 'y')), kv(1, 'n', vint(2, 1)))),
  attr('long', str(1, LONG)),
  attr('user.id', str(1, 'user-7')),
];

describe('SpanAttributes text written while decoding', () => {
  it('bench payloads: identical otel_traces rows, cold and warm, and the whole pipeline output is identical', () => {
    let decoded = 0;
    let total = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        const payload = buildGenAiTracePayload({ spanCount: 128, startMs: testNow() - 3_600_000 + i * 60_000 }).protobuf;
        const spans = decodeTraces(payload);
        total += spans.length;
        decoded += expectSameTraceRows(spans);
        // The pipeline's rows (both tables) from the decoded spans and from the copies, byte for byte.
        const clock = () => testNow();
        const fast = new Pipeline({ priceBook: book, tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: clock }).processSpans(spans);
        const slow = new Pipeline({ priceBook: book, tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: clock }).processSpans(withCopiedAttributes(spans));
        expect(fast.accepted).toBe(spans.length);
        expect(fast.rows.genai_spans?.length ?? 0).toBeGreaterThan(0);
        expect(fast.rows).toStrictEqual(slow.rows);
      }
    }
    // Every bench span takes the decoder's text (no repeated or index-like keys there).
    expect(decoded).toBe(total);
  });

  it('every attribute kind, escapes, non-ASCII, invalid UTF-8, events and links: identical rows, cold and warm', () => {
    const payload = request(spanBytes('a', ...VARIED), spanBytes('b', ...VARIED), spanBytes('c', ...VARIED.slice().reverse()));
    for (let round = 0; round < 3; round++) {
      const spans = decodeTraces(payload);
      expect(spans).toHaveLength(3);
      expect(expectSameTraceRows(spans)).toBe(3);
      expect(Object.keys(spans[0].attributes)).toHaveLength(VARIED.length);
      expect(spans[0].events[0].attributes).toStrictEqual({ 'ev.k': 'v\n' });
    }
  });

  it('a repeated key, index-like keys and prototype names fall back to the map walk, with the same rows', () => {
    const cases: [string, Uint8Array[]][] = [
      ['repeated', [attr('k', str(1, 'first')), attr('x', str(1, 'y')), attr('k', str(1, 'last'))]],
      ['index-like', [attr('z', str(1, '1')), attr('10', str(1, 'ten')), attr('2', str(1, 'two'))]],
      ['digit start, not an index', [attr('b', str(1, '1')), attr('3d.model', str(1, 'x'))]],
      ['__proto__', [attr('k', str(1, 'v')), attr('__proto__', str(1, 'polluted?'))]],
      ['toString', [attr('toString', str(1, 'v')), attr('constructor', vint(3, 1))]],
    ];
    for (let round = 0; round < 2; round++) {
      const spans = decodeTraces(request(...cases.map(([name, attrs]) => spanBytes(name, ...attrs))));
      expect(spans.map((s) => s.name)).toEqual(cases.map(([name]) => name));
      expect(expectSameTraceRows(spans)).toBe(0);
      expect(traceRowLine(spans[0], 'default')).toContain('{"k":"last","x":"y"}');
      expect(traceRowLine(spans[1], 'default')).toContain('{"2":"two","10":"ten","z":"1"}');
    }
  });

  it('fixed64 times read through the little-endian scratch: edge values exact', () => {
    const times = [0n, 1n, 255n, 256n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 0x0102030405060708n, START];
    const spans = decodeTraces(request(...times.map((t) => msg(2, hex(1, '5b8efff798038103d269b633813fc60c'), hex(2, 'b7ad6b7169203331'), fixed64(7, t), fixed64(8, t)))));
    expect(spans.map((s) => s.startTimeUnixNano)).toEqual(times);
    expect(spans.map((s) => s.endTimeUnixNano)).toEqual(times);
  });

  it('a known KeyValue in a span does not hide a malformed one', () => {
    decodeTraces(request(spanBytes('ok', attr('k', str(1, 'v')))));
    // Same key and value, then the value's string field truncated: still an error naming the field.
    const bad = request(spanBytes('bad', attr('k', str(1, 'v')), msg(9, str(1, 'k'), cat([0x12, 0x03, 0x0a, 0x05, 0x61]))));
    expect(() => decodeTraces(bad)).toThrow(/attributes\[1\]\.value\.string_value.*truncated/);
  });
});
