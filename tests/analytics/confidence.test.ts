// Answer confidence (ragscope.answer.confidence) end to end: synthetic traffic with a known confidence per request
// (recorded on the answering chat span, revised on the later post-processing span in ~20% of requests) is sent
// through the real processor with every span in a shuffled order across batches, and the three named queries are
// checked against answers computed in TypeScript from the generated records. Invalid values are dropped with a
// partial-success warning naming the attribute and counted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { postTraces, spanIdOf, traceIdOf, tracesRequest } from '../helpers/otlp-json.js';
import { generateDataset, sendDataset, startOfCurrentHourMs, syntheticPriceBook, type SynthDataset, type SynthRequest } from '../../tools/synthetic/index.js';
import { runNamedQuery, type ParamValue } from '../../processor/src/query/named-queries.js';
import { expectedRequest, feedbackInRange, finalVersion, nsToMs, requestByTrace, requestsInRange, startOfDayMs, type Row } from './expected.js';

let proc: TestProcessor;
let ds: SynthDataset;
let priceDir: string;
let fromMs: number;
let toMs: number;
const TOL = 1e-9;

beforeAll(async () => {
  priceDir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
  const pricesFile = join(priceDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  proc = await startProcessor({ RAGSCOPE_PRICES_FILE: pricesFile });
  ds = generateDataset({ seed: 'confidence-test', requests: 900, days: 4, endMs: startOfCurrentHourMs(testNow()) });
  await sendDataset(proc.url, ds, { order: 'shuffled', batchSpans: 300 });
  fromMs = startOfDayMs(ds.fromMs) + 86_400_000;
  toMs = startOfDayMs(ds.toMs - 1);
}, 300_000);

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
  if (priceDir) removeDir(priceDir);
});

async function run(name: string, params: Record<string, ParamValue> = {}): Promise<Row[]> {
  return runNamedQuery(proc.processor.store.writer, name, { from: new Date(fromMs), to: new Date(toMs), ...params });
}

const scored = (): (SynthRequest & { confidence: number })[] =>
  requestsInRange(ds, fromMs, toMs).filter((r): r is SynthRequest & { confidence: number } => r.confidence !== null);

function close(actual: unknown, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual, label).toBeNull();
    return;
  }
  const a = Number(actual);
  if (!(Math.abs(a - expected) <= Math.max(Math.abs(expected) * TOL, 1e-12))) throw new Error(`${label}: got ${String(actual)}, expected ≈ ${expected}`);
}

describe('answer confidence', () => {
  it('the generated truth is usable: many scored requests, some revised on a later span, some without a confidence', () => {
    const all = requestsInRange(ds, fromMs, toMs);
    expect(scored().length).toBeGreaterThan(200);
    expect(all.some((r) => r.confidence === null && !r.cacheHit && !r.failed)).toBe(true);
    const revised = scored().filter((r) => r.spans.filter((s) => 'ragscope.answer.confidence' in s.attributes).length === 2);
    expect(revised.length).toBeGreaterThan(10);
    // the revision is the request's value, and it usually differs from the first one
    expect(revised.some((r) => r.spans.find((s) => s.operation === 'chat' && 'ragscope.answer.confidence' in s.attributes)!.attributes['ragscope.answer.confidence'] !== r.confidence)).toBe(true);
  });

  it('requests view: the latest span value per request, whatever the arrival order', async () => {
    const rows = await proc.query<{ TraceId: string; Confidence: number | null }>(
      `SELECT TraceId, Confidence FROM requests(tenant = 'default', from = '${sqlTime(fromMs)}', to = '${sqlTime(toMs)}')`,
    );
    const inRange = requestsInRange(ds, fromMs, toMs);
    expect(rows.length).toBe(inRange.length);
    const byTrace = new Map(rows.map((r) => [r.TraceId, r.Confidence]));
    for (const r of inRange) close(byTrace.get(r.traceId), r.confidence, `confidence of ${r.traceId}`);
  });

  it('confidence_distribution: ten 0.1-wide buckets with counts and shares', async () => {
    const counts = new Array<number>(10).fill(0);
    for (const r of scored()) counts[Math.min(Math.floor(r.confidence * 10), 9)]++;
    const total = counts.reduce((a, b) => a + b, 0);
    const rows = await run('confidence_distribution');
    expect(rows.length).toBe(10);
    rows.forEach((row, i) => {
      close(row.bucket_from, i / 10, `bucket ${i} from`);
      close(row.bucket_to, (i + 1) / 10, `bucket ${i} to`);
      expect(Number(row.requests), `bucket ${i} requests`).toBe(counts[i]);
      close(row.share, counts[i] / total, `bucket ${i} share`);
    });
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(4);
  });

  it('low_confidence_requests: below the threshold, newest first, limit and threshold as parameters', async () => {
    const expectedFor = (threshold: number) =>
      scored()
        .filter((r) => r.confidence < threshold)
        .sort((a, b) => (a.startNs === b.startNs ? (a.traceId < b.traceId ? -1 : 1) : a.startNs > b.startNs ? -1 : 1));
    const low = expectedFor(0.6);
    expect(low.length).toBeGreaterThan(50);
    const rows = await run('low_confidence_requests');
    expect(rows.map((r) => r.trace_id)).toEqual(low.slice(0, 50).map((r) => r.traceId));
    for (const [i, row] of rows.entries()) {
      const req = low[i]!;
      const e = expectedRequest(req);
      close(row.confidence, req.confidence, `${req.traceId} confidence`);
      expect(row.feature).toBe(req.feature);
      expect(row.model).toBe(e.model);
      expect(row.query_fingerprint).toBe(req.fingerprint);
      close(row.avg_relevance, e.avgRelevance, `${req.traceId} avg_relevance`);
    }
    const strict = expectedFor(0.3);
    expect(strict.length).toBeGreaterThan(0);
    const all = await run('low_confidence_requests', { threshold: 0.3, limit: 10_000 });
    expect(all.map((r) => r.trace_id)).toEqual(strict.map((r) => r.traceId));
    expect(all.every((r) => Number(r.confidence) < 0.3)).toBe(true);
  });

  it('low_confidence_requests: requests stored on both sides of a midnight are merged whole (start, latest confidence)', async () => {
    // request_facts keeps one row per request and day (the day of the earliest span of each insert), and the query
    // reads it with FINAL, which merges per day only; the requests view merges the candidates whole.
    const midnight = startOfDayMs(testNow()) - 50 * 86_400_000;
    const chat = (confidence: number) => ({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'ragscope.answer.confidence': confidence });
    const [a, b, c] = [traceIdOf(950_001), traceIdOf(950_002), traceIdOf(950_003)];
    const before = [
      // a: root before midnight, no confidence yet; b: low confidence before midnight
      { traceId: a, spanId: spanIdOf(950_010), name: 'rag.request', startMs: midnight - 2000, durationMs: 4000, attributes: { 'ragscope.rag.stage': 'request' } },
      { traceId: b, spanId: spanIdOf(950_020), name: 'rag.request', startMs: midnight - 3000, durationMs: 5000, attributes: { 'ragscope.rag.stage': 'request' } },
      { traceId: b, spanId: spanIdOf(950_021), parentSpanId: spanIdOf(950_020), name: 'chat gpt-4o-mini', startMs: midnight - 2500, durationMs: 100, attributes: chat(0.1) },
    ];
    const after = [
      // a: a low confidence after midnight; b: revised to a high one after midnight; c: low, all after midnight
      { traceId: a, spanId: spanIdOf(950_011), parentSpanId: spanIdOf(950_010), name: 'chat gpt-4o-mini', startMs: midnight + 500, durationMs: 100, attributes: chat(0.1) },
      { traceId: b, spanId: spanIdOf(950_022), parentSpanId: spanIdOf(950_020), name: 'chat gpt-4o-mini', startMs: midnight + 1000, durationMs: 100, attributes: chat(0.9) },
      { traceId: c, spanId: spanIdOf(950_030), name: 'chat gpt-4o-mini', startMs: midnight + 2000, durationMs: 100, attributes: chat(0.2) },
    ];
    for (const spans of [before, after]) {
      expect((await postTraces(proc.url, tracesRequest(spans))).status).toBe(200);
      expect((await fetch(`${proc.url}/v1/flush`, { method: 'POST' })).status).toBe(200); // one insert each
    }
    const partial = await proc.query<{ TraceId: string; days: string }>(
      `SELECT TraceId, count() AS days FROM request_facts FINAL WHERE TraceId IN ('${a}', '${b}') GROUP BY TraceId ORDER BY TraceId`,
    );
    expect(partial.map((r) => Number(r.days))).toEqual([2, 2]); // the case under test: two rows per request
    const window = { from: new Date(midnight - 86_400_000), to: new Date(midnight + 86_400_000) };
    const rows = await run('low_confidence_requests', { ...window, limit: 10 });
    expect(rows.map((r) => r.trace_id)).toEqual([c, a]);
    expect(String(rows[1]!.start_time)).toBe(`${sqlTime(midnight - 2000)}.000000`); // the root's start, from the earlier day's row
    close(rows[1]!.confidence, 0.1, 'a confidence');
    expect((await run('low_confidence_requests', { ...window, limit: 1 })).map((r) => r.trace_id)).toEqual([c]);
  });

  it('confidence_by_rating: average confidence per thumbs / rating / score bucket, and it tracks feedback', async () => {
    const byTrace = requestByTrace(ds);
    const groups = new Map<string, { kind: string; value: string; confidences: (number | null)[] }>();
    for (const fb of feedbackInRange(ds, fromMs, toMs)) {
      const v = finalVersion(fb);
      const value = v.kind === 'thumbs' ? v.thumbs! : v.kind === 'rating' ? String(v.rating) : String(Math.min(Math.floor(v.score! * 10), 9) / 10);
      const req = byTrace.get(fb.requestTraceId)!;
      // request_rollup is read from 2 days before the range (docs/analytics.md): older requests count as unscored
      const looked = nsToMs(req.startNs) >= startOfDayMs(fromMs) - 2 * 86_400_000;
      const key = `${v.kind}|${value}`;
      if (!groups.has(key)) groups.set(key, { kind: v.kind, value, confidences: [] });
      groups.get(key)!.confidences.push(looked ? req.confidence : null);
    }
    expect(groups.size).toBeGreaterThan(8);
    const rows = await run('confidence_by_rating');
    expect(rows.map((r) => `${r.kind}|${r.value}`).sort()).toEqual([...groups.keys()].sort());
    for (const row of rows) {
      const g = groups.get(`${row.kind}|${row.value}`)!;
      const cs = g.confidences.filter((c): c is number => c !== null);
      expect(Number(row.feedback), `${row.kind}|${row.value} feedback`).toBe(g.confidences.length);
      expect(Number(row.with_confidence), `${row.kind}|${row.value} with_confidence`).toBe(cs.length);
      close(row.avg_confidence, cs.length ? cs.reduce((a, b) => a + b, 0) / cs.length : null, `${row.kind}|${row.value} avg_confidence`);
      close(row.low_confidence_share, cs.length ? cs.filter((c) => c < 0.6).length / cs.length : null, `${row.kind}|${row.value} low share`);
    }
    // The synthetic confidence follows answer quality, as thumbs do: up answers are more confident than down ones.
    const up = rows.find((r) => r.kind === 'thumbs' && r.value === 'up')!;
    const down = rows.find((r) => r.kind === 'thumbs' && r.value === 'down')!;
    expect(Number(up.avg_confidence)).toBeGreaterThan(Number(down.avg_confidence) + 0.1);
  });

  it('an invalid confidence is dropped: the span is stored without it, the client is told the attribute, and it is counted', async () => {
    const base = testNow() - 3_600_000;
    const bad: [number | string, string][] = [
      [1.7, '1.7'],
      [-0.2, '-0.2'],
      ['NaN', '"NaN"'],
      ['high', '"high"'],
    ];
    const spans = bad.map(([value], i) => ({
      traceId: traceIdOf(900_000 + i),
      spanId: spanIdOf(900_000 + i),
      name: 'chat gpt-4o-mini',
      startMs: base + i,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'ragscope.answer.confidence': value },
    }));
    spans.push({ traceId: traceIdOf(900_010), spanId: spanIdOf(900_010), name: 'chat gpt-4o-mini', startMs: base, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'ragscope.answer.confidence': 1 } });
    const res = await postTraces(proc.url, tracesRequest(spans));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } };
    expect(body.partialSuccess?.rejectedSpans ?? '0').toBe('0');
    for (const [, shown] of bad) expect(body.partialSuccess?.errorMessage).toContain(`ragscope.answer.confidence = ${shown} ignored (must be a number in [0, 1])`);
    await fetch(`${proc.url}/v1/flush`, { method: 'POST' });
    const stored = await proc.query<{ TraceId: string; AnswerConfidence: number | null }>(
      `SELECT TraceId, AnswerConfidence FROM genai_spans WHERE TraceId IN (${spans.map((s) => `'${s.traceId}'`).join(', ')}) ORDER BY TraceId`,
    );
    expect(stored.length).toBe(5);
    for (const row of stored) expect(row.AnswerConfidence, row.TraceId).toBe(row.TraceId === traceIdOf(900_010) ? 1 : null);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_attributes_ignored_total\{attribute="ragscope.answer.confidence"\} 4\b/);
  });
});

function sqlTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
