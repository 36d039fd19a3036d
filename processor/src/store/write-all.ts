import type { FileHandle } from 'node:fs/promises';

/** Writes `buffers` at `position`, all of them (writev takes at most IOV_MAX = 1024 and may write fewer bytes). */
export async function writeAllAt(handle: FileHandle, buffers: readonly Buffer[], position: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < buffers.length; i += 1024) {
    const group = buffers.slice(i, i + 1024);
    const size = group.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await handle.writev(group, position + total);
    if (bytesWritten < size) {
      const rest = Buffer.concat(group).subarray(bytesWritten);
      let done = 0;
      while (done < rest.length) {
        const { bytesWritten: wrote } = await handle.write(rest, done, rest.length - done, position + total + bytesWritten + done);
        // A write that makes no progress would otherwise loop for ever.
        if (wrote === 0) throw Object.assign(new Error(`write made no progress (${rest.length - done} bytes left)`), { code: 'EIO' });
        done += wrote;
      }
    }
    total += size;
  }
  return total;
}
