// Row lines written straight into the write-ahead-log record's bytes (store/json-bytes.ts, writeTraceRow,
// writeGenAiRow) must be exactly the UTF-8 of the string-based lines (traceRowLine, genAiRowLine): the log
// format, the insert body and the deduplication tokens' blocks depend on these bytes.
import { describe, expect, it } from 'vitest';
import type { Attributes, DecodedSpan } from '../../processor/src/model.js';
import { ByteWriter, LineRow } from '../../processor/src/store/json-bytes.js';
import { TraceLineRow, traceRowLine, writeTraceRow } from '../../processor/src/store/row-lines.js';
import { compileRowValues, compileRowWriter, GenAiLineRow, genAiRowLine, writeGenAiRow, type ColumnSpec } from '../../processor/src/store/genai-spans-columns.js';
import { attributesJson, writeAttributesJson } from '../../processor/src/store/attributes-json.js';
import { decodeRecord, encodeRecord, linesBytes } from '../../processor/src/store/wal-record.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { testNow } from '../helpers/clock.js';
import { variedSpans } from '../helpers/varied-spans.js';

const book = loadPriceBook(undefined);

/** What the writer wrote, starting from a tiny buffer so that every write also grows it. */
function written(write: (w: ByteWriter) => void): Buffer {
  const w = new ByteWriter(1);
  write(w);
  return Buffer.from(w.written());
}

const STRINGS = [
  '',
  'plain ascii',
  'x'.repeat(64),
  'y'.repeat(65),
  'z'.repeat(5000),
  'quote " and backslash \\ and slash /',
  '\\',
  '"',
  'new\nline\rreturn\ttab\bback\fform',
  '\u0000\u0001\u001f\u007f\u0080\u009f',
  'line sep \u2028 para sep \u2029',
  'caf\u00e9 \u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9',
  '\u4e2d\u6587\u5b57\u7b26',
  'emoji \ud83d\ude80 pair',
  'lone high \ud800 here',
  'lone low \udc00 here',
  'ends with high \ud83d',
  '\udfff starts with low',
  '\ud800\ud800 two highs',
  `${'a'.repeat(70)}\ud800`,
  `${'é'.repeat(70)}"`,
  '\ufeffbom',
  '\uffff',
];

const NUMBERS = [0, -0, 1, -1, 42, 0.1, 1.5, -2.25, 1e21, 1e-7, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1.7976931348623157e308, Number.NaN, Infinity, -Infinity, 123456789012345680000];

describe('ByteWriter: the UTF-8 of JSON.stringify', () => {
  it('strings: ASCII, escapes, control characters, non-ASCII, lone surrogates, long text', () => {
    for (const s of STRINGS) {
      expect(written((w) => w.string(s)).equals(Buffer.from(JSON.stringify(s))), JSON.stringify(s)).toBe(true);
      expect(written((w) => w.text(s)).equals(Buffer.from(s)), JSON.stringify(s)).toBe(true);
    }
  });

  it('numbers, booleans, null, undefined, nested arrays and objects', () => {
    for (const n of NUMBERS) expect(written((w) => w.number(n)).toString()).toBe(JSON.stringify(n));
    const values: unknown[] = [
      ...STRINGS,
      ...NUMBERS,
      true,
      false,
      null,
      undefined,
      [],
      [undefined, null, () => 1],
      ['a', 1, [2, ['b\u00e9', null]], { k: 'v\n' }],
      { nested: { list: [1, 'two', '\ud800'] }, empty: {} },
      new Date(0),
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
    ];
    expect(written((w) => w.array(values)).equals(Buffer.from(JSON.stringify(values)))).toBe(true);
    for (const v of values) expect(written((w) => w.array([v])).equals(Buffer.from(JSON.stringify([v])))).toBe(true);
    expect(() => written((w) => w.array([1n]))).toThrow(TypeError);
  });

  it('ASCII text and raw bytes', () => {
    expect(written((w) => w.ascii('12345678901234567890')).toString()).toBe('12345678901234567890');
    expect(written((w) => w.ascii('9'.repeat(100))).toString()).toBe('9'.repeat(100));
    const bytes = Buffer.from(`${'é'.repeat(40)}ok`);
    expect(written((w) => w.bytes(bytes)).equals(bytes)).toBe(true);
    expect(written((w) => w.bytes(bytes.subarray(0, 5))).equals(bytes.subarray(0, 5))).toBe(true);
  });
});

describe('compiled row writer: each column written by its type, any value as JSON.stringify', () => {
  // A column's type picks a direct write for the value it leads to expect; every other value must still be
  // written as JSON.stringify writes it (the general path), so a getter returning the unexpected is not a bad row.
  const types = ['String', 'LowCardinality(String)', 'DateTime64(9)', 'Nullable(Decimal(38, 12))', 'UInt8', 'Nullable(UInt64)', 'Float64', 'Nullable(Float64)', 'Nullable(Bool)', 'Array(String)', 'Array(Nullable(Float64))'];
  const values: unknown[] = [...STRINGS, ...NUMBERS, true, false, null, undefined, [], [null, 'a', 1.5, Number.NaN], ['b\u00e9'], { k: 'v' }, new Date(0), Object.assign([], { toJSON: () => 'custom' })];
  it('for every type and value, alone and in a row of all types', () => {
    for (const type of types) {
      for (const value of values) {
        const column: ColumnSpec<unknown>[] = [{ name: 'c', type, value: () => value }];
        const bytes = written((w) => compileRowWriter(column)(w, null));
        expect(bytes.equals(Buffer.from(JSON.stringify(compileRowValues(column)(null)))), `${type} ${String(value)}`).toBe(true);
      }
    }
    for (const value of values) {
      const row: ColumnSpec<unknown>[] = types.map((type, i) => ({ name: `c${i}`, type, value: () => value }));
      expect(written((w) => compileRowWriter(row)(w, null)).equals(Buffer.from(JSON.stringify(compileRowValues(row)(null))))).toBe(true);
    }
  });
});

describe('SpanAttributes with array values: the text of the string map', () => {
  it('plain arrays written directly, any other array through the general path, byte for byte', () => {
    const arrays: unknown[][] = [
      [],
      ['doc-11', 'doc-2093', 'doc 17 with spaces ~'],
      [0.91, 0.88, -0, Number.NaN, Infinity, 1e21, 5e-324, 2 ** 53 + 2],
      [true, false, null],
      ['mixed', 1, true, null],
      ['quote " inside'],
      ['back\\slash'],
      ['tab\tand newline\n'],
      ['del \u007f'],
      ['caf\u00e9'],
      ['lone \ud800'],
      ['ok', ['nested']],
      [{ kv: 'list' }],
      ['plain', 'then "quoted"'],
      Object.assign(['custom'], { toJSON: () => 'replaced' }),
    ];
    for (const value of arrays) {
      const attributes = { before: 'x', list: value, after: 1 } as unknown as Attributes;
      const bytes = written((w) => writeAttributesJson(w, attributes));
      expect(bytes.equals(Buffer.from(attributesJson(attributes))), JSON.stringify(value)).toBe(true);
      expect(JSON.parse(bytes.toString()).list).toBe(JSON.stringify(value));
    }
  });
});

function awkwardSpans(startNs: bigint): DecodedSpan[] {
  const spans = variedSpans(startNs);
  const attributes: Attributes = {
    'lone.high': 'a\ud800b',
    'lone.low': '\udc00',
    'key \ud800 lone': 'v',
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'm\u0000odel',
    'gen_ai.usage.input_tokens': 1e21,
    'gen_ai.usage.output_tokens': -0,
    'inf': Infinity,
    'neg.inf': -Infinity,
    'nan': Number.NaN,
    'control': '\u0001\u001f\u007f',
    'empty': '',
    'quote"key\\': 'x"y\\z',
  };
  return [
    ...spans,
    { ...spans[0], spanId: 'b7ad6b7169203334', name: '\ud83d', statusMessage: '\udc00 lone', traceState: '', attributes },
    { ...spans[0], spanId: 'b7ad6b7169203335', events: [], links: spans[0].links, attributes: { ...spans[0].attributes, extra: 'é' } },
    { ...spans[0], spanId: 'b7ad6b7169203336', events: spans[0].events, links: [], origin: { resource: {}, scope: { name: '', version: '', attributes: {} } } },
  ];
}

describe('row lines written as bytes', () => {
  const spans = [...decodeTraces(buildGenAiTracePayload({ spanCount: 64 }).protobuf), ...awkwardSpans(1_750_000_000_123_456_789n)];

  it('otel_traces, genai_spans and SpanAttributes: the bytes of the string lines', () => {
    let genai = 0;
    for (const tenant of ['default', 'tenant "t" \u00fc', 'lone \ud800']) {
      for (const s of spans) {
        expect(written((w) => writeAttributesJson(w, s.attributes)).equals(Buffer.from(attributesJson(s.attributes)))).toBe(true);
        const trace = traceRowLine(s, tenant);
        expect(written((w) => writeTraceRow(w, s, tenant)).equals(Buffer.from(trace)), trace).toBe(true);
        expect(new TraceLineRow(s, tenant).line()).toBe(trace);
        const record = normalizeSpan(s);
        if (!record) continue;
        genai++;
        const cost = computeCost(record, Number(s.startTimeUnixNano / 1_000_000n), book);
        const line = genAiRowLine(s, record, cost, tenant);
        expect(written((w) => writeGenAiRow(w, s, record, cost, tenant)).equals(Buffer.from(line)), line).toBe(true);
        expect(String(new GenAiLineRow(s, record, cost, tenant))).toBe(line);
      }
    }
    expect(genai).toBeGreaterThan(100);
  });

  it('a record of line rows is the record of their string lines, and reads back the same', () => {
    const pipeline = new Pipeline({ priceBook: book, tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: testNow });
    const now = BigInt(testNow() - 60_000) * 1_000_000n;
    const batch = pipeline.processSpans(
      [...decodeTraces(buildGenAiTracePayload({ spanCount: 64, startMs: testNow() - 120_000 }).protobuf), ...awkwardSpans(now)],
    );
    expect(batch.rejected).toBe(0);
    const queued = batch.queueRows!;
    expect(queued.otel_traces!.every((r) => r instanceof LineRow)).toBe(true);
    expect(queued.genai_spans!.every((r) => r instanceof LineRow)).toBe(true);
    const fromLineRows = encodeRecord(queued, batch.keys);
    const fromStrings = encodeRecord(batch.rows, batch.keys);
    expect(batch.rows.otel_traces!.every((r) => typeof r === 'string')).toBe(true);
    expect(fromLineRows.payload.equals(fromStrings.payload)).toBe(true);
    const decoded = decodeRecord(fromLineRows.payload);
    expect(fromLineRows.tables.map((t) => [t.table, t.format, t.count])).toEqual([
      ['otel_traces', 'JSONCompactEachRow', queued.otel_traces!.length],
      ['genai_spans', 'JSONCompactEachRow', queued.genai_spans!.length],
    ]);
    for (let i = 0; i < decoded.tables.length; i++) {
      const t = fromLineRows.tables[i];
      // The lines made from the record's bytes: what a restart reads, and the bytes again.
      expect(t.lines).toEqual(decoded.tables[i].lines);
      expect(t.bytes!.equals(linesBytes(t.lines))).toBe(true);
      expect(t.bytes!.equals(decoded.tables[i].bytes!)).toBe(true);
      // The string rows' lines are the rows as given (a lone surrogate stays one until written).
      expect(fromStrings.tables[i].lines).toEqual(batch.rows[t.table]);
    }
    // Mixing row objects into a table of lines is refused, with line rows as with strings.
    expect(() => encodeRecord({ otel_traces: [queued.otel_traces![0], { a: 1 }] }, [])).toThrow(/mixes/);
    expect(() => encodeRecord({ feedback: [{ a: 1 }, queued.otel_traces![0]] }, [])).toThrow(/mixes/);
  });
});
