// The shipper inserts the tables of one write-ahead-log range at the same time, each on its own writer session
// of the embedded store (store/table-writers.ts), and every row still arrives exactly once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertBlock } from '../../processor/src/store/clickhouse.js';
import { TableWriters } from '../../processor/src/store/table-writers.js';
import { WriteQueue, type TableName } from '../../processor/src/store/write-queue.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { generateDataset } from '../../tools/synthetic/index.js';
import { encodeTraces } from '../../tools/synthetic/otlp.js';
import { orderedSpans } from '../../tools/synthetic/send.js';
import { testNow } from '../helpers/clock.js';
import { rowCount, useScratchStore } from '../helpers/scratch-store.js';

const scratch = useScratchStore('table-writers', { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });

const count = (table: string) => rowCount(scratch.store.reader, table);

describe('table writers', () => {
  it('embedded mode: one session per table, none of them the shared writer', async () => {
    const writers = new TableWriters(scratch.store);
    const genai = await writers.writerFor('genai_spans');
    expect(await writers.writerFor('genai_spans')).toBe(genai);
    const traces = await writers.writerFor('otel_traces');
    expect(traces).not.toBe(genai);
    expect(traces).not.toBe(scratch.store.writer);
  });

  it("inserts a range's tables concurrently; every row stored once", async () => {
    const now = testNow();
    const ds = generateDataset({ seed: 'table-writers', requests: 400, days: 1, endMs: now, withFeedback: false });
    const spans = orderedSpans(ds, 'natural');
    expect(spans.length).toBeGreaterThan(1000);
    const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 10_000, rawTtlDays: 30, now: () => now });
    const writers = new TableWriters(scratch.store);
    const spansOf: Record<string, { start: number; end: number }[]> = {};
    const queue = await WriteQueue.open(
      join(scratch.dir, 'wal'),
      async (table: TableName, format, block, token) => {
        const start = performance.now();
        await insertBlock(await writers.writerFor(table), table, format, block, token);
        (spansOf[table] ??= []).push({ start, end: performance.now() });
      },
      { maxBatchRows: 1_000_000, maxDelayMs: 50, maxSpoolBytes: 1 << 30, segmentBytes: 64 << 20, retainBytes: 0, shutdownGraceMs: 10_000 },
    );
    // One request, so one log record: one range, one insert per table.
    const batch = pipeline.processSpans(decodeTraces(encodeTraces(spans)));
    const genaiRows = batch.rows.genai_spans!.length;
    try {
      await queue.enqueue(batch.rows, batch.keys);
      await queue.flushed();
    } finally {
      await queue.close();
    }
    expect(genaiRows).toBeGreaterThan(1000);
    expect(await count('otel_traces')).toBe(spans.length);
    expect(await count('genai_spans')).toBe(genaiRows);
    const [genai] = spansOf.genai_spans!;
    const [traces] = spansOf.otel_traces!;
    expect(spansOf.genai_spans).toHaveLength(1);
    expect(spansOf.otel_traces).toHaveLength(1);
    // Concurrent: each insert started before the other one finished.
    expect(genai!.start).toBeLessThan(traces!.end);
    expect(traces!.start).toBeLessThan(genai!.end);
  }, 300_000);
});
