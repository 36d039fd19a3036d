// writeAllAt (store/write-all.ts): the write-ahead log's and the file insert's writev of many buffers lands
// every byte in order, also past IOV_MAX buffers and when the system writes fewer bytes than asked.
import { mkdtempSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAllAt } from '../../processor/src/store/write-all.js';

const pieces = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`piece ${i};`));

describe('writeAllAt', () => {
  it('writes 2 500 buffers (past IOV_MAX) at a position', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ragscope-write-all-')), 'f');
    const handle = await open(path, 'w+');
    try {
      await handle.write(Buffer.from('HEAD'), 0, 4, 0);
      const buffers = pieces(2500);
      expect(await writeAllAt(handle, buffers, 4)).toBe(Buffer.concat(buffers).length);
      expect(readFileSync(path, 'utf8')).toBe(`HEAD${Buffer.concat(buffers).toString()}`);
    } finally {
      await handle.close();
    }
  });

  it('finishes a short writev', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ragscope-write-all-')), 'f');
    const real = await open(path, 'w+');
    // A file handle whose writev writes only the first buffer, as a system may under pressure.
    const short = {
      writev: (buffers: Buffer[], position: number) => real.writev(buffers.slice(0, 1), position),
      write: (b: Buffer, offset: number, length: number, position: number) => real.write(b, offset, Math.min(length, 5), position),
    } as unknown as FileHandle;
    try {
      const buffers = pieces(40);
      expect(await writeAllAt(short, buffers, 0)).toBe(Buffer.concat(buffers).length);
      expect(readFileSync(path, 'utf8')).toBe(Buffer.concat(buffers).toString());
    } finally {
      await real.close();
    }
  });
});
