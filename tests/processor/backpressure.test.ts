// The spool (acknowledged, not yet in ClickHouse) is bounded: with shipping held back (a 60 s batch delay), a
// request that would overfill it gets 503 + Retry-After, nothing accepted is lost, and a refused request
// leaves no trace in the processor's memories (usage de-duplication, duplicate keys).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, postTraces, spanIdOf, traceIdOf, tracesRequest, type JsonSpan } from '../helpers/otlp-json.js';

let proc: TestProcessor;
const MiB = 1024 * 1024;

beforeAll(async () => {
  proc = await startProcessor({
    RAGSCOPE_SPOOL_MAX_BYTES: String(MiB),
    RAGSCOPE_BATCH_MAX_DELAY_MS: '60000',
    RAGSCOPE_BATCH_MAX_ROWS: '1000000',
    RAGSCOPE_RETRY_AFTER_SECONDS: '3',
  });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

let nextId = 1;
/** Plain spans padded to about `bytes` each (the padding lands in otel_traces' attributes). */
function padded(prefix: string, count: number, bytes: number): JsonSpan[] {
  return Array.from({ length: count }, (_, i) => ({
    traceId: traceIdOf(nextId),
    spanId: spanIdOf(nextId++),
    name: `${prefix}-${i}`,
    startMs: testNow() - 10_000,
    attributes: { padding: 'x'.repeat(bytes) },
  }));
}

const flush = () => fetch(`${proc.url}/v1/flush`, { method: 'POST' });
const spoolBytes = async () => Number(/ragscope_spool_bytes (\d+)/.exec(await (await fetch(`${proc.url}/metrics`)).text())![1]);

describe('spool backpressure', () => {
  it('answers 503 + Retry-After when the spool is full, then accepts again once it drained', async () => {
    expect((await postTraces(proc.url, tracesRequest(padded('first', 3, 250_000)))).status).toBe(200);
    expect(await spoolBytes()).toBeGreaterThan(700_000);
    const secondBody = tracesRequest(padded('second', 1, 300_000));
    const refused = await postTraces(proc.url, secondBody);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect((await refused.json()).message).toMatch(/spool full/);

    expect((await flush()).status).toBe(200);
    expect(await spoolBytes()).toBe(0);
    expect((await postTraces(proc.url, secondBody)).status).toBe(200);
    const rows = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName LIKE 'first-%' OR SpanName LIKE 'second-%'");
    expect(Number(rows[0].n)).toBe(4);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_spans_rejected_total\{reason="queue_full"\} 1/);
  });

  it('answers 413 for one request larger than the whole spool', async () => {
    const res = await postTraces(proc.url, tracesRequest(padded('huge', 5, 250_000)));
    expect(res.status).toBe(413);
  });

  it('a refused request teaches nothing: a parent refused, then retried, is still counted out under its stored child', async () => {
    const trace = traceIdOf(7777);
    const t = testNow() - 5_000;
    // The child (the real model call) is stored first; the parent (a wrapper reporting the same usage) comes later.
    const child = { traceId: trace, spanId: spanIdOf(77771), parentSpanId: spanIdOf(77770), name: 'chat child', startMs: t + 1, attributes: chatAttributes(500, 50) };
    const parent = { traceId: trace, spanId: spanIdOf(77770), name: 'chat wrapper', startMs: t, attributes: chatAttributes(500, 50) };
    expect((await postTraces(proc.url, tracesRequest([child]))).status).toBe(200);
    expect((await postTraces(proc.url, tracesRequest(padded('filler', 3, 250_000)))).status).toBe(200);
    const refused = await postTraces(proc.url, tracesRequest([parent, ...padded('parent-padding', 1, 300_000)]));
    expect(refused.status).toBe(503);
    expect((await flush()).status).toBe(200);
    expect((await postTraces(proc.url, tracesRequest([parent]))).status).toBe(200);
    const rows = await proc.query<{ SpanName: string; UsageCounted: number }>(`SELECT SpanName, UsageCounted FROM genai_spans WHERE TraceId = '${trace}' ORDER BY SpanName`);
    expect(rows).toEqual([
      { SpanName: 'chat child', UsageCounted: 1 },
      { SpanName: 'chat wrapper', UsageCounted: 0 },
    ]);
  });
});
