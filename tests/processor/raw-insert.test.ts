// On the embedded store, the shipper's inserts hand write-ahead-log lines to the engine as one Buffer (a file
// the engine reads, store/file-insert.ts, or chdb's raw insert, store/clickhouse.ts) instead of the client's
// string body. What must hold on that path: the
// deduplication token applies to its own insert (not to the session, as the client's SETs would), a replay of
// the same lines under the same token stores nothing twice, and a block the engine refuses for its data fails
// with the error shape the shipper splits and dead-letters.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { insertBlock, insertLines, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { TRACE_COLUMNS, traceRowLine } from '../../processor/src/store/row-lines.js';
import { isDataError } from '../../processor/src/store/shipper.js';
import { linesBytes } from '../../processor/src/store/wal-record.js';
import { WriteQueue } from '../../processor/src/store/write-queue.js';
import { testNow } from '../helpers/clock.js';
import { openScratchStore, scalar as value, type ScratchStore } from '../helpers/scratch-store.js';

let scratch: ScratchStore;
let store: StoreClients;

beforeAll(async () => {
  scratch = await openScratchStore('raw-insert');
  store = scratch.store;
}, 60_000);

afterAll(async () => {
  await scratch?.close();
});

/** otel_traces lines of one GenAI trace payload, and a filter on its trace ids. */
function traceLines(startMs: number, spanCount = 24): { lines: string[]; traces: string } {
  const spans = decodeTraces(buildGenAiTracePayload({ spanCount, startMs }).protobuf);
  const ids = [...new Set(spans.map((s) => s.traceId))];
  return { lines: spans.map((s) => traceRowLine(s, 'default')), traces: `TraceId IN (${ids.map((id) => `'${id}'`).join(', ')})` };
}

const DURATION = TRACE_COLUMNS.indexOf('Duration');

/** The line with a Duration no UInt64 column can hold. */
function unparsable(line: string): string {
  const values = JSON.parse(line) as unknown[];
  values[DURATION] = 'not a number';
  return JSON.stringify(values);
}

describe('raw insert of write-ahead-log lines (embedded store)', () => {
  it('stores the lines once per token; the token is the insert\'s own, not left on the session', async () => {
    const writer = await store.openWriter();
    const { lines, traces } = traceLines(testNow() - 3_600_000);
    expect(lines.length).toBe(24);
    const stored = () => value(store.reader, `SELECT count() FROM otel_traces WHERE ${traces}`);
    await insertLines(writer, 'otel_traces', 'JSONCompactEachRow', lines, 'raw-insert:0-1:otel_traces');
    expect(await stored()).toBe('24');
    await insertLines(writer, 'otel_traces', 'JSONCompactEachRow', lines, 'raw-insert:0-1:otel_traces');
    expect(await stored()).toBe('24');
    // The client's insert on the chdb connection SETs its settings on the session; the raw insert does not.
    expect(await value(writer, "SELECT getSetting('insert_deduplication_token')")).toBe('');
    await insertLines(writer, 'otel_traces', 'JSONCompactEachRow', lines, 'raw-insert:1-2:otel_traces');
    expect(await stored()).toBe('48');
    // The same bytes: a stored row reads back as the line it was inserted from.
    const back = await value(store.reader, `SELECT SpanName, Duration FROM otel_traces WHERE ${traces} ORDER BY SpanId LIMIT 1`);
    const first = lines.map((l) => JSON.parse(l) as unknown[]).sort((a, b) => String(a[TRACE_COLUMNS.indexOf('SpanId')]).localeCompare(String(b[TRACE_COLUMNS.indexOf('SpanId')])))[0]!;
    expect(back).toBe(`${first[TRACE_COLUMNS.indexOf('SpanName')]}\t${first[DURATION]}`);
  });

  it('a block the engine refuses fails as a data error naming the problem', async () => {
    const writer = await store.openWriter();
    const { lines } = traceLines(testNow() - 7_200_000, 4);
    const err = await insertLines(writer, 'otel_traces', 'JSONCompactEachRow', [lines[0]!, unparsable(lines[1]!)], 'raw-insert:bad').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(isDataError(err)).toBe(true);
    expect((err as Error).message).toMatch(/Duration|UInt64|parse/i);
  });

  it('the shipper sets the refused line aside and stores the rest of its batch', async () => {
    const { lines, traces } = traceLines(testNow() - 10_800_000, 8);
    const bad = unparsable(lines[3]!);
    const walDir = join(scratch.dir, 'wal-raw');
    const writer = await store.openWriter();
    const bodies: boolean[] = [];
    const queue = await WriteQueue.open(
      walDir,
      (table, format, block, token) => {
        // The whole batch comes with its bytes from the log record; the split halves are written anew.
        if (block.body) bodies.push(Buffer.concat(block.body).equals(linesBytes(block.lines())));
        return insertBlock(writer, table, format, block, token);
      },
      { maxBatchRows: 1_000_000, maxDelayMs: 50, maxSpoolBytes: 1 << 30, segmentBytes: 64 << 20, retainBytes: 0, shutdownGraceMs: 10_000 },
    );
    try {
      await queue.enqueue({ otel_traces: [...lines.slice(0, 3), bad, ...lines.slice(4)] }, []);
      await queue.flushed();
    } finally {
      await queue.close();
    }
    expect(bodies).toEqual([true]);
    expect(await value(store.reader, `SELECT count() FROM otel_traces WHERE ${traces}`)).toBe('7');
    const file = join(walDir, 'dead-letter.ndjson');
    expect(existsSync(file)).toBe(true);
    const dead = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { table: string; row: string });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.table).toBe('otel_traces');
    expect(dead[0]!.row).toBe(bad);
  });
});
