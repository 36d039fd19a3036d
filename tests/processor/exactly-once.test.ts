// Exactly-once numbers through the real processor and the embedded ClickHouse: a retried request adds nothing,
// a block inserted twice (a replay after a crash) is dropped in the tables and in every rollup, and a value
// that cannot be stored affects only its own span.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, postTraces, spanIdOf, traceIdOf, tracesRequest, type JsonSpan } from '../helpers/otlp-json.js';
import { TOTALS_SQL, expectConsistent, parseTotals, type Totals } from '../helpers/consistency.js';
import { insertLines } from '../../processor/src/store/clickhouse.js';

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_BATCH_MAX_DELAY_MS: '50' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

async function totals(): Promise<Totals> {
  const [row] = await proc.query<Record<string, unknown>>(TOTALS_SQL.replace('FORMAT JSONEachRow', ''));
  return parseTotals(row);
}

/** A request of `n` traces: a root and a chat call each, priced (gpt-4o-mini). */
function requestSpans(first: number, n: number): JsonSpan[] {
  const spans: JsonSpan[] = [];
  for (let i = first; i < first + n; i++) {
    const t = testNow() - 60_000 + i;
    spans.push({ traceId: traceIdOf(i), spanId: spanIdOf(2 * i), name: 'rag.request', startMs: t, durationMs: 50, attributes: { 'ragscope.rag.stage': 'request' } });
    spans.push({ traceId: traceIdOf(i), spanId: spanIdOf(2 * i + 1), parentSpanId: spanIdOf(2 * i), name: 'chat gpt-4o-mini', startMs: t + 1, durationMs: 40, attributes: chatAttributes(1000 + i, 100) });
  }
  return spans;
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${proc.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('a retried request is stored once', () => {
  it('sent again one after another and several times at once: same rows, same rollups', async () => {
    const body = tracesRequest(requestSpans(1, 20));
    expect((await postTraces(proc.url, body)).status).toBe(200);
    const once = await totals();
    expect(once.traces).toBe(40);
    expect(once.genai).toBe(40);
    expect(once.counted).toBeGreaterThan(0);
    expectConsistent(once, 'first send');

    for (let i = 0; i < 2; i++) expect((await postTraces(proc.url, body)).status).toBe(200);
    const concurrent = await Promise.all(Array.from({ length: 4 }, () => postTraces(proc.url, body)));
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const after = await totals();
    expect(after).toEqual(once);
    expect(await metric('ragscope_duplicates_dropped_total{signal="traces"}')).toBe('ragscope_duplicates_dropped_total{signal="traces"} 240');
  });

  it('a retry that overlaps a stored request stores only the new spans', async () => {
    const before = await totals();
    const res = await postTraces(proc.url, tracesRequest(requestSpans(15, 10))); // 15-20 stored, 21-24 new
    expect(res.status).toBe(200);
    const after = await totals();
    expect(after.traces - before.traces).toBe(8);
    expectConsistent(after, 'overlap');
  });
});

describe('a block inserted twice (a replay after a crash) is dropped everywhere', () => {
  it('same token: no second copy in genai_spans, otel_traces or any rollup fed from them', async () => {
    const before = await totals();
    const rows = await proc.query<Record<string, unknown>>(`SELECT * FROM genai_spans ORDER BY SpanId LIMIT 5`);
    expect(rows).toHaveLength(5);
    const lines = rows.map((r) => JSON.stringify({ ...r, TraceId: `${String(r.TraceId).slice(0, 30)}ff` }));
    await insertLines(proc.processor.store.writer, 'genai_spans', 'JSONEachRow', lines, 'replay-test:0-100:genai_spans');
    const once = await totals();
    expect(once.genai - before.genai).toBe(5);
    await insertLines(proc.processor.store.writer, 'genai_spans', 'JSONEachRow', lines, 'replay-test:0-100:genai_spans');
    expect(await totals()).toEqual(once);
    expectConsistent(once, 'replayed block');
  });
});

describe('poison values', () => {
  it('1e12 input tokens and a reported cost of 5,000,000 USD are stored; the batch is unharmed', async () => {
    const t = testNow() - 30_000;
    const spans: JsonSpan[] = [
      { traceId: traceIdOf(900), spanId: spanIdOf(9001), name: 'chat huge', startMs: t, attributes: chatAttributes(1e12, 10, 'gpt-4o') },
      { traceId: traceIdOf(901), spanId: spanIdOf(9011), name: 'chat costly', startMs: t, attributes: { ...chatAttributes(10, 10), 'gen_ai.usage.cost': 5_000_000 } },
      { traceId: traceIdOf(902), spanId: spanIdOf(9021), name: 'chat normal', startMs: t, attributes: chatAttributes(10, 10) },
    ];
    const res = await postTraces(proc.url, tracesRequest(spans));
    expect(res.status).toBe(200);
    expect((await res.json()).partialSuccess).toBeUndefined();
    const rows = await proc.query<{ SpanName: string; InputTokens: string; CostUSD: string }>(
      `SELECT SpanName, InputTokens, toString(CostUSD) AS CostUSD FROM genai_spans WHERE SpanName IN ('chat huge', 'chat costly', 'chat normal') ORDER BY SpanName`,
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['chat costly', 'chat huge', 'chat normal']);
    expect(Number(rows[1].InputTokens)).toBe(1e12);
    expect(Number(rows[1].CostUSD)).toBeGreaterThan(1_000_000); // $2.50 per million input tokens
    expect(rows[0].CostUSD).toBe('5000000');
    expectConsistent(await totals(), 'poison');
  });

  it('a value no column can hold rejects only its span, naming the attribute', async () => {
    const t = testNow() - 20_000;
    const spans: JsonSpan[] = [
      { traceId: traceIdOf(910), spanId: spanIdOf(9101), name: 'retrieve absurd', startMs: t, attributes: { ...chatAttributes(10, 10), 'gen_ai.usage.cost': 1e30 } },
      { traceId: traceIdOf(911), spanId: spanIdOf(9111), name: 'chat neighbour', startMs: t, attributes: chatAttributes(10, 10) },
    ];
    const res = await postTraces(proc.url, tracesRequest(spans));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/"retrieve absurd".*reported cost \(gen_ai\.usage\.cost\) = 1e\+30 USD cannot be stored/);
    const names = await proc.query<{ SpanName: string }>(`SELECT SpanName FROM otel_traces WHERE SpanName IN ('retrieve absurd', 'chat neighbour')`);
    expect(names.map((r) => r.SpanName)).toEqual(['chat neighbour']);
    expect(await metric('ragscope_spans_rejected_total{reason="unstorable_value"}')).toBe('ragscope_spans_rejected_total{reason="unstorable_value"} 1');
  });

  it('rows ClickHouse refuses anyway are set aside one by one; the rest of their batch is stored', async () => {
    const good = (id: string) => JSON.stringify({ TenantId: 'default', FeedbackId: id, Version: '1', Timestamp: '2026-11-20 12:00:00', Kind: 'thumbs', Thumbs: 'up', TraceId: traceIdOf(1) });
    const bad = JSON.stringify({ TenantId: 'default', FeedbackId: 'dl-bad', Version: 'not a number', Timestamp: '2026-11-20 12:00:00' });
    await proc.processor.queue.enqueue({ feedback: [JSON.parse(good('dl-good-1')), JSON.parse(bad), JSON.parse(good('dl-good-2'))] });
    const stored = await proc.query<{ FeedbackId: string }>(`SELECT FeedbackId FROM feedback WHERE FeedbackId LIKE 'dl-%' ORDER BY FeedbackId`);
    expect(stored.map((r) => r.FeedbackId)).toEqual(['dl-good-1', 'dl-good-2']);
    const deadLetters = readFileSync(join(proc.processor.config.walDir, 'dead-letter.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0].table).toBe('feedback');
    expect(JSON.parse(deadLetters[0].row).FeedbackId).toBe('dl-bad');
    expect(await metric('ragscope_dead_letter_rows_total{table="feedback"}')).toBe('ragscope_dead_letter_rows_total{table="feedback"} 1');
  });
});
