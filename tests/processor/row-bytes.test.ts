// The hand-assembled row text (store/row-lines.ts, attributes-json.ts, genai-spans-columns.ts) must be, byte for
// byte, JSON.stringify of the row's values in column order (the readable definition: rows.ts / the column list),
// and must reach the store unchanged through the write-ahead-log record (wal-record.ts) the processor writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNow } from '../helpers/clock.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';
import { toTraceRow } from '../../processor/src/store/rows.js';
import { TRACE_COLUMNS, traceRowLine } from '../../processor/src/store/row-lines.js';
import { GENAI_COLUMNS, genAiRowLine, toGenAiRow } from '../../processor/src/store/genai-spans-columns.js';
import { decodeRecord, encodeRecord } from '../../processor/src/store/wal-record.js';
import { insertLines } from '../../processor/src/store/clickhouse.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import { variedSpans } from '../helpers/varied-spans.js';

const book = loadPriceBook(undefined);

describe('row text, byte for byte', () => {
  it('is JSON.stringify of the row values in column order (bench payload and awkward spans)', () => {
    const spans = [...decodeTraces(buildGenAiTracePayload({ spanCount: 64 }).protobuf), ...variedSpans(1_750_000_000_123_456_789n)];
    let genai = 0;
    for (const tenant of ['default', 'tenant "t" ü']) {
      for (const s of spans) {
        const row = toTraceRow(s, tenant);
        expect(traceRowLine(s, tenant)).toBe(JSON.stringify(TRACE_COLUMNS.map((c) => row[c])));
        const record = normalizeSpan(s);
        if (!record) continue;
        genai++;
        const cost = computeCost(record, Number(s.startTimeUnixNano / 1_000_000n), book);
        const object = toGenAiRow(s, record, cost, tenant);
        expect(genAiRowLine(s, record, cost, tenant)).toBe(JSON.stringify(GENAI_COLUMNS.map((c) => object[c])));
      }
    }
    expect(genai).toBeGreaterThan(100);
  });
});

describe('row text through the write-ahead-log record into the store', () => {
  let p: TestProcessor;
  beforeAll(async () => {
    p = await startProcessor();
  });
  afterAll(async () => {
    await p.stop();
    removeDir(p.dataDir);
  });

  it('the engine reads back the same rows as from row objects', async () => {
    const startNs = BigInt(testNow() - 60_000) * 1_000_000n;
    const spans = [...decodeTraces(buildGenAiTracePayload({ spanCount: 24, startMs: testNow() - 120_000 }).protobuf), ...variedSpans(startNs)];
    const pipeline = new Pipeline({ priceBook: book, tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: testNow });
    const batch = pipeline.processSpans(spans);
    expect(batch.rejected).toBe(0);
    // What ingest enqueues: line rows written straight into the record (store/json-bytes.ts).
    const { payload } = encodeRecord(batch.queueRows ?? batch.rows, batch.keys);
    const replayed = decodeRecord(payload);
    expect(replayed.tables.map((t) => [t.table, t.lines.length])).toEqual([
      ['otel_traces', spans.length],
      ['genai_spans', batch.spans!.filter((d) => d.record).length],
    ]);
    const writer = p.processor.store.writer;
    for (const t of replayed.tables) {
      await writer.command({ query: `CREATE TABLE ${t.table}_objects AS ${t.table}` });
      await insertLines(writer, t.table, t.format, t.lines, `row-bytes-${t.table}`);
    }
    const traceObjects = batch.spans!.map((d) => toTraceRow(d.span, 'default'));
    const genaiObjects = batch.spans!.filter((d) => d.record).map((d) => toGenAiRow(d.span, d.record!, d.cost!, 'default'));
    await writer.insert({ table: 'otel_traces_objects', values: traceObjects, format: 'JSONEachRow' });
    await writer.insert({ table: 'genai_spans_objects', values: genaiObjects, format: 'JSONEachRow' });
    for (const table of ['otel_traces', 'genai_spans']) {
      const read = (t: string) => p.query(`SELECT * FROM ${t} ORDER BY SpanId`);
      const fromRecord = await read(table);
      expect(fromRecord.length).toBeGreaterThan(3);
      expect(fromRecord).toEqual(await read(`${table}_objects`));
    }
    // The awkward values arrived intact (what the engine parsed, not only what both paths agree on).
    const [awkward] = await p.query<{ name: string; model: string; user: string; events: string[]; big: string }>(
      "SELECT SpanName AS name, SpanAttributes['gen_ai.response.model'] AS model, SpanAttributes['user.id'] AS user, `Events.Name` AS events, SpanAttributes['big.int'] AS big FROM otel_traces WHERE SpanId = 'b7ad6b7169203331'",
    );
    expect(awkward).toEqual({ name: 'chat «gpt-4o»', model: 'modèle-ünïcode-🚀', user: 'line\nbreak\ttab\u0001ctl\u2028', events: ['exception', 'gen_ai.content.chunk'], big: '-9223372036854775808' });
  });
});
