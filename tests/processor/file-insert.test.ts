// On the embedded store today's write-ahead-log lines reach the engine through a file it reads itself
// (store/file-insert.ts): the token still deduplicates the table and its views, the file does not outlive
// the insert, and a failure to write it is an outage (retried), never a data error (dead-lettered).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { insertLines, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { FileInsert } from '../../processor/src/store/file-insert.js';
import { lineColumns } from '../../processor/src/store/row-lines.js';
import { isDataError } from '../../processor/src/store/shipper.js';
import { linesBytes } from '../../processor/src/store/wal-record.js';
import { testNow } from '../helpers/clock.js';
import { openScratchStore, scalar as value, type ScratchStore } from '../helpers/scratch-store.js';

let scratch: ScratchStore;
let store: StoreClients;

let staleFile: string;

beforeAll(async () => {
  // A file an earlier process left behind (killed mid-insert): its rows are still in the write-ahead log.
  scratch = await openScratchStore('file-insert', { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 }, (dataDir) => {
    mkdirSync(join(dataDir, 'insert-files'), { recursive: true });
    staleFile = join(dataDir, 'insert-files', 'writer-7.jsonl');
    writeFileSync(staleFile, '["left over"]\n');
  });
  store = scratch.store;
}, 60_000);

afterAll(async () => {
  await scratch?.close();
});

function genaiLines(startMs: number): { lines: string[]; traces: string } {
  const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: () => startMs });
  const spans = decodeTraces(buildGenAiTracePayload({ spanCount: 64, startMs }).protobuf);
  const lines = pipeline.processSpans(spans).rows.genai_spans!.map(String);
  const ids = [...new Set(spans.map((s) => s.traceId))];
  return { lines, traces: `TraceId IN (${ids.map((id) => `'${id}'`).join(', ')})` };
}

describe('file insert (embedded store)', () => {
  it('opening the store removes the files of inserts a previous process did not finish', () => {
    expect(staleFile).toMatch(/insert-files/);
    expect(existsSync(staleFile)).toBe(false);
  });

  it('stores the lines and the rollups once per token; the file is gone afterwards', async () => {
    const writer = await store.openWriter();
    const dir = join(scratch.dir, 'files');
    const file = FileInsert.open(writer, store.database, dir, 'test')!;
    const { lines, traces } = genaiLines(testNow() - 3_600_000);
    expect(lines.length).toBeGreaterThan(10);
    // In pieces, as the shipper passes a batch's records.
    const half = Math.floor(lines.length / 2);
    const body = [linesBytes(lines.slice(0, half)), linesBytes(lines.slice(half))];
    await file.insert('genai_spans', 'JSONCompactEachRow', lineColumns('genai_spans'), body, 'file-insert:0-1:genai_spans');
    await file.insert('genai_spans', 'JSONCompactEachRow', lineColumns('genai_spans'), body, 'file-insert:0-1:genai_spans');
    expect(readdirSync(dir)).toEqual([]);
    expect(await value(store.reader, `SELECT count() FROM genai_spans WHERE ${traces}`)).toBe(String(lines.length));
    // A view's rollup counted the block once too: its span count per request is the table's.
    const spansPerRequest = `SELECT TraceId, count() FROM genai_spans WHERE ${traces} GROUP BY TraceId ORDER BY TraceId`;
    const rollup = `SELECT TraceId, sum(Spans) FROM request_rollup WHERE ${traces} GROUP BY TraceId ORDER BY TraceId`;
    expect(await value(store.reader, rollup)).toBe(await value(store.reader, spansPerRequest));
    // Another token: stored again, in both.
    await file.insert('genai_spans', 'JSONCompactEachRow', lineColumns('genai_spans'), body, 'file-insert:1-2:genai_spans');
    expect(await value(store.reader, `SELECT count() FROM genai_spans WHERE ${traces}`)).toBe(String(lines.length * 2));
    expect(await value(store.reader, rollup)).toBe(await value(store.reader, spansPerRequest));
  });

  it('a write that fails once the file exists leaves no file behind; a directory removed meanwhile is made again', async () => {
    const writer = await store.openWriter();
    const dir = join(scratch.dir, 'files-failing');
    const file = FileInsert.open(writer, store.database, dir, 'test')!;
    const { lines, traces } = genaiLines(testNow() - 5_400_000);
    // A piece the write refuses (as a full disk would refuse its bytes): the file was already created.
    const broken = [linesBytes(lines), 'not bytes'] as unknown as Buffer[];
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(file.insert('genai_spans', 'JSONCompactEachRow', lineColumns('genai_spans'), broken, `file-insert:failing:${attempt}`)).rejects.toThrow();
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(await value(store.reader, `SELECT count() FROM genai_spans WHERE ${traces}`)).toBe('0');
    // Someone removes the directory while the processor runs: the next insert still lands.
    rmSync(dir, { recursive: true, force: true });
    await file.insert('genai_spans', 'JSONCompactEachRow', lineColumns('genai_spans'), [linesBytes(lines)], 'file-insert:after-rm');
    expect(await value(store.reader, `SELECT count() FROM genai_spans WHERE ${traces}`)).toBe(String(lines.length));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cannot name a directory with glob characters in file(): none is made (the raw insert is used)', async () => {
    const writer = await store.openWriter();
    expect(FileInsert.open(writer, store.database, join(scratch.dir, 'a{b}'), 'x')).toBeUndefined();
  });

  it("the store's writers insert through the file: a file that cannot be written fails as an outage, not as bad data", async () => {
    const writer = await store.openWriter();
    const dir = join(scratch.dir, 'data', 'insert-files');
    const { lines } = genaiLines(testNow() - 7_200_000);
    // The files' directory replaced by a file: the write fails before the engine sees anything.
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    const err = await insertLines(writer, 'genai_spans', 'JSONCompactEachRow', lines, 'file-insert:blocked').then(
      () => null,
      (e: unknown) => e,
    );
    // Making the directory again finds a file in its place.
    expect((err as NodeJS.ErrnoException | null)?.code).toBe('EEXIST');
    expect(isDataError(err)).toBe(false);
  });
});
