import { describe, expect, it } from 'vitest';
import { WriteQueue, QueueFullError, BatchTooLargeError, QueueClosedError, type Row, type TableName } from '../../processor/src/store/write-queue.js';

// The queue's batching contract, checked with a recording insert function (the real-store behaviour is
// covered end to end in backpressure.test.ts and e2e-otlp.test.ts).

function recorder(delayMs = 0, fail = false) {
  const inserts: { table: TableName; rows: number; at: number }[] = [];
  const started = performance.now();
  const insert = async (table: TableName, rows: Row[]) => {
    await new Promise((r) => setTimeout(r, delayMs));
    if (fail) throw new Error('store down');
    inserts.push({ table, rows: rows.length, at: performance.now() - started });
  };
  return { inserts, insert };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

describe('WriteQueue', () => {
  it('makes one insert per table per batch, combining requests', async () => {
    const r = recorder();
    const q = new WriteQueue(r.insert, { maxBatchRows: 1000, maxDelayMs: 30, maxQueuedRows: 10_000 });
    await Promise.all([
      q.enqueue({ otel_traces: rows(3), genai_spans: rows(2) }),
      q.enqueue({ otel_traces: rows(4) }),
      q.enqueue({ otel_logs: rows(1) }),
    ]);
    expect(r.inserts.map((i) => [i.table, i.rows]).sort()).toEqual([['genai_spans', 2], ['otel_logs', 1], ['otel_traces', 7]]);
  });

  it('flushes as soon as one table reaches maxBatchRows, without waiting for the delay', async () => {
    const r = recorder();
    const q = new WriteQueue(r.insert, { maxBatchRows: 10, maxDelayMs: 5_000, maxQueuedRows: 10_000 });
    await q.enqueue({ otel_traces: rows(10), genai_spans: rows(1) });
    expect(r.inserts[0].at).toBeLessThan(1_000);
  });

  it('waits at most maxDelayMs for a small batch, counted from its first row', async () => {
    const r = recorder();
    const q = new WriteQueue(r.insert, { maxBatchRows: 1000, maxDelayMs: 80, maxQueuedRows: 10_000 });
    const first = q.enqueue({ otel_traces: rows(1) });
    await new Promise((res) => setTimeout(res, 50));
    const second = q.enqueue({ otel_traces: rows(1) });
    await Promise.all([first, second]);
    expect(r.inserts).toHaveLength(1);
    expect(r.inserts[0].rows).toBe(2);
    expect(r.inserts[0].at).toBeGreaterThanOrEqual(75);
    expect(r.inserts[0].at).toBeLessThan(400);
  });

  it('rejects every waiter of a batch whose insert failed', async () => {
    const r = recorder(0, true);
    const q = new WriteQueue(r.insert, { maxBatchRows: 1000, maxDelayMs: 5, maxQueuedRows: 10_000 });
    const results = await Promise.allSettled([q.enqueue({ otel_traces: rows(1) }), q.enqueue({ genai_spans: rows(1) })]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(q.depth).toBe(0);
  });

  it('bounds memory: refuses rows beyond maxQueuedRows, and single requests larger than the queue', async () => {
    const r = recorder(50);
    const q = new WriteQueue(r.insert, { maxBatchRows: 1000, maxDelayMs: 5, maxQueuedRows: 10 });
    const accepted = q.enqueue({ otel_traces: rows(8) });
    await expect(q.enqueue({ otel_traces: rows(3) })).rejects.toBeInstanceOf(QueueFullError);
    await expect(q.enqueue({ otel_traces: rows(11) })).rejects.toBeInstanceOf(BatchTooLargeError);
    await accepted;
    await q.enqueue({ otel_traces: rows(3) });
    expect(r.inserts.reduce((n, i) => n + i.rows, 0)).toBe(11);
  });

  it('close() writes what was accepted and refuses what comes after', async () => {
    const r = recorder(10);
    const q = new WriteQueue(r.insert, { maxBatchRows: 1000, maxDelayMs: 60_000, maxQueuedRows: 100 });
    const pending = q.enqueue({ otel_traces: rows(5) });
    await q.close();
    await pending;
    expect(r.inserts).toEqual([expect.objectContaining({ table: 'otel_traces', rows: 5 })]);
    await expect(q.enqueue({ otel_traces: rows(1) })).rejects.toBeInstanceOf(QueueClosedError);
  });
});
