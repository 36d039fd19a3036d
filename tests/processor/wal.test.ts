// The write-ahead log on its own: durable appends with shared fsyncs, reads across segments, a torn tail cut
// off at open, shipped segments removed within the retention budget, and the record codec.
import { appendFileSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal, CorruptWalError } from '../../processor/src/store/wal.js';
import { decodeRecord, encodeRecord } from '../../processor/src/store/wal-record.js';
import { removeDir } from '../helpers/processor.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ragscope-wal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const payload = (i: number, size = 100) => Buffer.from(`${i}:`.padEnd(size, 'x'));

async function readAll(wal: Wal, from = wal.start): Promise<string[]> {
  const out: string[] = [];
  for (let pos = from; pos < wal.end; ) {
    const records = await wal.read(pos, 1000);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      out.push(r.payload.toString());
      pos = r.end;
    }
  }
  return out;
}

describe('write-ahead log', () => {
  it('appends concurrently in order of arrival and reads every record back across segments', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 1000 });
    // 25 at once (one group, one write and fsync), then 25 one by one (segments rotate between writes).
    const ranges = await Promise.all(Array.from({ length: 25 }, (_, i) => wal.append(payload(i))));
    for (let i = 25; i < 50; i++) ranges.push(await wal.append(payload(i)));
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].start).toBe(ranges[i - 1].end);
    expect(wal.end).toBe(ranges.at(-1)!.end);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal')).length).toBeGreaterThan(3);
    expect(await readAll(wal)).toEqual(Array.from({ length: 50 }, (_, i) => payload(i).toString()));
    await wal.close();
  });

  it('a group that failed leaves nothing to replay: its bytes are cut off before the next write', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 1 << 20 });
    await wal.append(payload(0));
    // The disk takes the groups' bytes, then each sync fails (EIO): records 1, 2 and 3 are refused.
    const active = (wal as unknown as { active: { datasync(): Promise<void> } }).active;
    const datasync = active.datasync.bind(active);
    active.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const refused = await Promise.allSettled([1, 2, 3].map((i) => wal.append(payload(i))));
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    active.datasync = datasync;
    // A crash now would find only what was acknowledged.
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    expect(statSync(join(dir, segment)).size).toBe(wal.end);
    // Their clients retry: the same size of record, one at a time, stored behind the first.
    await wal.append(payload(1));
    expect(await readAll(wal)).toEqual([payload(0).toString(), payload(1).toString()]);
    await wal.close();
    // After a restart only what was acknowledged is there: not the refused 2 and 3 lined up behind the retry.
    const reopened = await Wal.open(dir, { segmentBytes: 1 << 20 });
    expect(await readAll(reopened)).toEqual([payload(0).toString(), payload(1).toString()]);
    await reopened.close();
  });

  it('keeps every acknowledged record across a reopen and cuts off a torn tail', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) await wal.append(payload(i));
    const end = wal.end;
    await wal.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    appendFileSync(join(dir, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6])); // a record header, half a body
    const reopened = await Wal.open(dir, { segmentBytes: 1 << 20 });
    expect(reopened.end).toBe(end);
    expect(statSync(join(dir, segment)).size).toBe(end);
    expect(await readAll(reopened)).toHaveLength(5);
    await reopened.append(payload(5));
    expect(await readAll(reopened)).toHaveLength(6);
    await reopened.close();
  });

  it('refuses to read a record whose checksum does not match', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 1 << 20 });
    await wal.append(payload(1));
    const { start } = await wal.append(payload(2));
    await wal.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(join(dir, segment), 'r+');
    writeSync(fd, Buffer.from('Z'), 0, 1, start + 20);
    closeSync(fd);
    // At open the damaged record is the tail: cut off (it was the last). Damage in the middle is an error on read.
    const reopened = await Wal.open(dir, { segmentBytes: 1 << 20 });
    expect(reopened.end).toBe(start);
    await reopened.close();

    const dir2 = tempDir();
    const wal2 = await Wal.open(dir2, { segmentBytes: 1 << 20 });
    const first = await wal2.append(payload(1));
    await wal2.append(payload(2));
    const fd2 = openSync(join(dir2, readdirSync(dir2).find((f) => f.endsWith('.wal'))!), 'r+');
    writeSync(fd2, Buffer.from('Z'), 0, 1, first.start + 20);
    closeSync(fd2);
    await expect(wal2.read(first.start, 1000)).rejects.toBeInstanceOf(CorruptWalError);
    await wal2.close();
  });

  it('removes shipped segments beyond the retention budget, never the active one, and continues LSNs', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 500 });
    for (let i = 0; i < 30; i++) await wal.append(payload(i));
    const segments = () => readdirSync(dir).filter((f) => f.endsWith('.wal')).length;
    const before = segments();
    expect(before).toBeGreaterThan(4);
    expect(wal.removeBefore(wal.end, 0)).toBe(before - 1);
    expect(segments()).toBe(1);
    const end = wal.end;
    await wal.close();
    const reopened = await Wal.open(dir, { segmentBytes: 500, startLsn: end });
    expect(reopened.end).toBe(end);
    expect((await reopened.append(payload(99))).start).toBe(end);
    await reopened.close();
  });
});

describe('record codec', () => {
  it('round-trips row lines, row objects and keys, including newlines inside values', () => {
    const rows = {
      otel_traces: ['["a","b\\nc"]', '["d"]'],
      feedback: [{ FeedbackId: 'f1', Comment: 'line 1\nline 2' }],
    };
    const encoded = encodeRecord(rows, ['k1', 'k2']);
    const decoded = decodeRecord(encoded.payload);
    expect(encoded.tables).toEqual(decoded.tables);
    expect(decoded.keys).toEqual(['k1', 'k2']);
    expect(decoded.tables).toEqual([
      { table: 'otel_traces', format: 'JSONCompactEachRow', count: 2, lines: ['["a","b\\nc"]', '["d"]'], bytes: Buffer.from('["a","b\\nc"]\n["d"]\n') },
      { table: 'feedback', format: 'JSONEachRow', count: 1, lines: [JSON.stringify(rows.feedback[0])], bytes: Buffer.from(`${JSON.stringify(rows.feedback[0])}\n`) },
    ]);
  });
});
