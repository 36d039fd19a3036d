// The shipper's batch limits (RAGSCOPE_BATCH_MAX_ROWS / RAGSCOPE_BATCH_MAX_BYTES): a range closes once one
// table's rows reach either limit, so an insert's memory stays bounded when rows are large, and every row is
// still stored exactly once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertBlock } from '../../processor/src/store/clickhouse.js';
import { TableWriters } from '../../processor/src/store/table-writers.js';
import { loadConfig } from '../../processor/src/config.js';
import { WriteQueue, type TableName } from '../../processor/src/store/write-queue.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { encodeRecord } from '../../processor/src/store/wal-record.js';
import { generateDataset } from '../../tools/synthetic/index.js';
import { encodeTraces } from '../../tools/synthetic/otlp.js';
import { orderedSpans } from '../../tools/synthetic/send.js';
import { testNow } from '../helpers/clock.js';
import { rowCount, useScratchStore } from '../helpers/scratch-store.js';

const scratch = useScratchStore('batch-limits', { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });

const count = (table: string) => rowCount(scratch.store.reader, table);

describe('batch limits', () => {
  it('a byte limit above 128 MiB is refused, naming the setting: ClickHouse would cut such an insert into several blocks', () => {
    expect(loadConfig({ RAGSCOPE_BATCH_MAX_BYTES: String(128 * 1024 * 1024) }).batchMaxBytes).toBe(128 * 1024 * 1024);
    expect(() => loadConfig({ RAGSCOPE_BATCH_MAX_BYTES: String(256 * 1024 * 1024) })).toThrow(/RAGSCOPE_BATCH_MAX_BYTES must be an integer between 65536 and 134217728/);
  });

  it('closes a range once a table holds maxBatchBytes of rows; every row stored once', async () => {
    const now = testNow();
    const ds = generateDataset({ seed: 'batch-limits', requests: 120, days: 1, endMs: now, withFeedback: false });
    const spans = orderedSpans(ds, 'natural');
    const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 10_000, rawTtlDays: 30, now: () => now });
    // Six records of about the same size.
    const records = Array.from({ length: 6 }, (_, i) => pipeline.processSpans(decodeTraces(encodeTraces(spans.filter((_, k) => k % 6 === i)))));
    // Each record's otel_traces bytes as the write-ahead log holds them; the limit lies above each alone and
    // below any two together: ranges of two records.
    const recordBytes = records.map((r) => encodeRecord(r.rows, r.keys).tables.find((t) => t.table === 'otel_traces')!.bytes!.length);
    const maxBatchBytes = Math.max(...recordBytes) + 1;
    expect(Math.min(...recordBytes) * 2).toBeGreaterThan(maxBatchBytes);
    const writers = new TableWriters(scratch.store);
    const inserts: Record<string, { rows: number; bytes: number }[]> = {};
    const queue = await WriteQueue.open(
      join(scratch.dir, 'wal'),
      async (table: TableName, format, block, token) => {
        (inserts[table] ??= []).push({ rows: block.count, bytes: block.body?.reduce((n, b) => n + b.length, 0) ?? NaN });
        await insertBlock(await writers.writerFor(table), table, format, block, token);
      },
      // The row limit is out of reach and the delay long: only the byte limit (or the flush) closes a range.
      { maxBatchRows: 1_000_000, maxBatchBytes, maxDelayMs: 60_000, maxSpoolBytes: 1 << 30, segmentBytes: 64 << 20, retainBytes: 0, shutdownGraceMs: 10_000 },
    );
    try {
      for (const r of records) await queue.enqueue(r.rows, r.keys);
      await queue.flushed();
    } finally {
      await queue.close();
    }
    const traces = inserts.otel_traces!;
    expect(traces.map((i) => i.rows)).toEqual([0, 2, 4].map((k) => records[k]!.rows.otel_traces!.length + records[k + 1]!.rows.otel_traces!.length));
    expect(traces.map((i) => i.bytes)).toEqual([0, 2, 4].map((k) => recordBytes[k]! + recordBytes[k + 1]!));
    expect(await count('otel_traces')).toBe(spans.length);
    expect(await count('genai_spans')).toBe(records.reduce((n, r) => n + r.rows.genai_spans!.length, 0));
  }, 300_000);
});
