// A write-ahead log written by an older processor is replayed by a newer one after an upgrade: its genai_spans
// and otel_traces lines lack the columns later migrations appended. They are stored with the columns they have
// (the others take their DEFAULT), exactly once, and feed the rollups like any line; a line of a width no
// processor ever wrote still fails, naming the table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { insertLines, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { GENAI_COLUMNS, genAiRowLine } from '../../processor/src/store/genai-spans-columns.js';
import { OLDER_LINE_WIDTHS } from '../../processor/src/store/older-lines.js';
import { TRACE_COLUMNS, traceRowLine } from '../../processor/src/store/row-lines.js';
import { testNow } from '../helpers/clock.js';
import { openScratchStore, type ScratchStore } from '../helpers/scratch-store.js';

let scratch: ScratchStore;
let store: StoreClients;

beforeAll(async () => {
  scratch = await openScratchStore('older-lines');
  store = scratch.store;
}, 60_000);

afterAll(async () => {
  await scratch?.close();
});

async function rows<T>(sql: string): Promise<T[]> {
  return (await store.writer.query({ query: sql, format: 'JSONEachRow' })).json<T>();
}

const truncate = (line: string, width: number) => JSON.stringify((JSON.parse(line) as unknown[]).slice(0, width));

/** Today's lines for a GenAI trace payload: every span's otel_traces line, and the genai_spans lines. */
function linesOf(startMs: number): { trace: string[]; genai: string[] } {
  const spans = decodeTraces(buildGenAiTracePayload({ spanCount: 24, startMs }).protobuf);
  const book = loadPriceBook(undefined);
  const genai: string[] = [];
  for (const s of spans) {
    const record = normalizeSpan(s);
    if (record) genai.push(genAiRowLine(s, record, computeCost(record, Number(s.startTimeUnixNano / 1_000_000n), book), 'team-a'));
  }
  return { trace: spans.map((s) => traceRowLine(s, 'team-a')), genai };
}

describe('write-ahead-log lines from an older processor', () => {
  it('knows the widths older processors wrote: prefixes of today\'s column lists', () => {
    expect(OLDER_LINE_WIDTHS.genai_spans).toEqual([GENAI_COLUMNS.indexOf('AnswerConfidence'), GENAI_COLUMNS.indexOf('QuerySketch')]);
    for (const w of OLDER_LINE_WIDTHS.genai_spans!) expect(w).toBeGreaterThan(50);
    expect(OLDER_LINE_WIDTHS.otel_traces).toEqual([TRACE_COLUMNS.length - 1]);
  });

  it('stores genai_spans lines of every older width once, with the later columns at their defaults, and the rollups count them', async () => {
    const { genai } = linesOf(testNow() - 3_600_000);
    expect(genai.length).toBeGreaterThan(6);
    const [before0022, before0026] = OLDER_LINE_WIDTHS.genai_spans!;
    const third = Math.floor(genai.length / 3);
    const mixed = genai.map((line, i) => (i < third ? truncate(line, before0022!) : i < 2 * third ? truncate(line, before0026!) : line));
    expect(new Set(mixed.map((l) => (JSON.parse(l) as unknown[]).length)).size).toBe(3);

    await insertLines(store.writer, 'genai_spans', 'JSONCompactEachRow', mixed, 'replay-genai-1');
    // A replay of the same lines (the processor crashed before recording the insert) adds nothing.
    await insertLines(store.writer, 'genai_spans', 'JSONCompactEachRow', mixed, 'replay-genai-1');

    const stored = await rows<{ n: number; tenants: string[] }>("SELECT count() AS n, groupUniqArray(TenantId) AS tenants FROM genai_spans");
    expect(stored).toEqual([{ n: genai.length, tenants: ['team-a'] }]);
    const ids = mixed.map((l) => (JSON.parse(l) as unknown[])[GENAI_COLUMNS.indexOf('SpanId')] as string);
    const byId = new Map(
      (await rows<{ SpanId: string; AnswerConfidence: number | null; QuerySketch: string | null; QueryTopic: string }>('SELECT SpanId, AnswerConfidence, QuerySketch, QueryTopic FROM genai_spans')).map((r) => [r.SpanId, r]),
    );
    for (let i = 0; i < 2 * third; i++) {
      const r = byId.get(ids[i]!)!;
      expect(r.QuerySketch).toBeNull();
      expect(r.QueryTopic).toBe('');
      if (i < third) expect(r.AnswerConfidence).toBeNull();
    }
    // The views saw the older lines too: every trace of the batch has its per-request row.
    const traces = new Set(mixed.map((l) => (JSON.parse(l) as unknown[])[GENAI_COLUMNS.indexOf('TraceId')] as string));
    const rollup = await rows<{ n: number }>('SELECT uniqExact(TraceId) AS n FROM request_rollup');
    expect(Number(rollup[0]!.n)).toBe(traces.size);
  });

  it('stores otel_traces lines without the tenant under the default tenant, next to today\'s lines', async () => {
    const { trace } = linesOf(testNow() - 7_200_000);
    const older = trace.slice(0, 5).map((l) => truncate(l, OLDER_LINE_WIDTHS.otel_traces![0]!));
    await insertLines(store.writer, 'otel_traces', 'JSONCompactEachRow', [...older, ...trace.slice(5)], 'replay-traces-1');
    const tenants = await rows<{ TenantId: string; n: number }>(
      `SELECT TenantId, count() AS n FROM otel_traces WHERE SpanId IN (${trace.map((l) => `'${(JSON.parse(l) as unknown[])[TRACE_COLUMNS.indexOf('SpanId')] as string}'`).join(',')}) GROUP BY TenantId ORDER BY TenantId`,
    );
    expect(tenants).toEqual([
      { TenantId: 'default', n: 5 },
      { TenantId: 'team-a', n: trace.length - 5 },
    ]);
  });

  it('refuses a line of a width no processor wrote, naming the table', async () => {
    const { genai } = linesOf(testNow() - 10_800_000);
    await expect(insertLines(store.writer, 'genai_spans', 'JSONCompactEachRow', [genai[0]!, truncate(genai[1]!, 10)], 'corrupt-1')).rejects.toThrow(/genai_spans: a write-ahead-log line has 10 values/);
    await expect(insertLines(store.writer, 'genai_spans', 'JSONCompactEachRow', ['["too","short"]'], 'short-1')).rejects.toThrow(/genai_spans/);
  });
});
