// A write-ahead log: what the processor acknowledges is on disk first (appended and fdatasync'ed), and reaches
// ClickHouse from there (store/shipper.ts). Positions are byte offsets in one endless log (LSNs); the log is
// cut into segment files named by the LSN they start at, so a position never changes meaning and the shipper's
// checkpoint is a single number.
//
// Record framing: u32 LE payload length, u32 LE CRC-32 of the payload, the payload. A torn record at the end
// of the last segment (a crash mid-write) is cut off at open; it was never acknowledged.
import { mkdirSync, readdirSync, statSync, openSync, readSync, closeSync, ftruncateSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAllAt } from './write-all.js';
import { crc32 } from 'node:zlib';

const HEADER_BYTES = 8;
const SEGMENT_SUFFIX = '.wal';
const SEGMENT_NAME = /^(\d{16})\.wal$/;
/** No single record is larger than this (a request body is at most 64 MiB by default; rows are smaller). */
export const MAX_RECORD_BYTES = 1 << 30;

export interface WalOptions {
  /** Start a new segment once the current one reaches this size. */
  segmentBytes: number;
  /** Where an empty log starts: the shipped position of a log whose segments were all removed. */
  startLsn?: number;
}

export interface WalRecord {
  lsn: number;
  /** LSN just after this record. */
  end: number;
  payload: Buffer;
}

interface Segment {
  start: number;
  size: number;
}

interface PendingAppend {
  /** The record's header (length, checksum); the payload follows it on disk. */
  header: Buffer;
  payload: Buffer;
  resolve(range: { start: number; end: number }): void;
  reject(err: unknown): void;
}

const segmentName = (start: number) => `${String(start).padStart(16, '0')}${SEGMENT_SUFFIX}`;

export class CorruptWalError extends Error {}

export class Wal {
  private readonly segments: Segment[] = [];
  private active!: FileHandle;
  /** Everything below this LSN is written and synced. */
  private durable = 0;
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  /** A group failed after some of its bytes may have reached the active segment past `durable`. */
  private tailToCut = false;

  private constructor(
    readonly dir: string,
    private readonly options: WalOptions,
  ) {}

  static async open(dir: string, options: WalOptions): Promise<Wal> {
    mkdirSync(dir, { recursive: true });
    const wal = new Wal(dir, options);
    await wal.load();
    return wal;
  }

  /** LSN after the last durable record. */
  get end(): number {
    return this.durable;
  }

  /** LSN of the oldest byte still on disk. */
  get start(): number {
    return this.segments[0]?.start ?? this.durable;
  }

  /** Bytes on disk from `from` to the end. */
  bytesSince(from: number): number {
    return Math.max(0, this.durable - from);
  }

  /**
   * Appends one record; resolves once it is on disk (group commit: every record waiting while a write is
   * under way goes into the next write and shares its one fdatasync).
   */
  append(payload: Buffer): Promise<{ start: number; end: number }> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    if (payload.length > MAX_RECORD_BYTES) return Promise.reject(new Error(`record of ${payload.length} bytes exceeds ${MAX_RECORD_BYTES}`));
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    return new Promise((resolve, reject) => {
      this.pending.push({ header, payload, resolve, reject });
      if (!this.writing) this.writing = this.writeLoop();
    });
  }

  /** Reads whole records from `from` (a record boundary), at most about `maxBytes` (always at least one record). */
  async read(from: number, maxBytes: number): Promise<WalRecord[]> {
    const limit = this.durable;
    if (from >= limit) return [];
    const seg = this.segmentAt(from);
    if (!seg) throw new CorruptWalError(`no segment holds LSN ${from} (log starts at ${this.start})`);
    const segEnd = Math.min(seg.start + seg.size, limit);
    const fd = openSync(join(this.dir, segmentName(seg.start)), 'r');
    try {
      const records: WalRecord[] = [];
      let pos = from;
      let budget = maxBytes;
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      while (pos + HEADER_BYTES <= segEnd && (records.length === 0 || budget > 0)) {
        readSync(fd, header, 0, HEADER_BYTES, pos - seg.start);
        const length = header.readUInt32LE(0);
        const crc = header.readUInt32LE(4);
        if (pos + HEADER_BYTES + length > segEnd) throw new CorruptWalError(`record at LSN ${pos} runs past its segment`);
        const payload = Buffer.allocUnsafe(length);
        readSync(fd, payload, 0, length, pos - seg.start + HEADER_BYTES);
        if (crc32(payload) !== crc) throw new CorruptWalError(`record at LSN ${pos} fails its checksum`);
        const end = pos + HEADER_BYTES + length;
        records.push({ lsn: pos, end, payload });
        budget -= HEADER_BYTES + length;
        pos = end;
      }
      return records;
    } finally {
      closeSync(fd);
    }
  }

  /** Removes whole segments that end at or before `lsn`, keeping the newest `retainBytes` of them. */
  removeBefore(lsn: number, retainBytes: number): number {
    let removable = 0;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const seg = this.segments[i];
      if (seg.start + seg.size <= lsn) removable = i + 1;
    }
    let kept = 0;
    let removeCount = removable;
    while (removeCount > 0 && kept + this.segments[removeCount - 1].size <= retainBytes) {
      kept += this.segments[removeCount - 1].size;
      removeCount--;
    }
    for (const seg of this.segments.splice(0, removeCount)) unlinkSync(join(this.dir, segmentName(seg.start)));
    return removeCount;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.active.close();
  }

  private segmentAt(lsn: number): Segment | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i];
      if (seg.start <= lsn) return lsn < seg.start + seg.size || i === this.segments.length - 1 ? seg : undefined;
    }
    return undefined;
  }

  private async load(): Promise<void> {
    const starts = readdirSync(this.dir)
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const start of starts) this.segments.push({ start, size: statSync(join(this.dir, segmentName(start))).size });
    const last = this.segments.at(-1);
    if (last) {
      last.size = this.validLength(last);
      this.durable = last.start + last.size;
      this.active = await open(join(this.dir, segmentName(last.start)), 'r+');
      await this.active.truncate(last.size);
      await this.active.datasync();
    } else {
      await this.openSegment(this.options.startLsn ?? 0);
    }
  }

  /** Bytes of whole, checksummed records at the start of a segment (a torn tail is cut off). */
  private validLength(seg: Segment): number {
    const path = join(this.dir, segmentName(seg.start));
    const fd = openSync(path, 'r+');
    try {
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      let pos = 0;
      while (pos + HEADER_BYTES <= seg.size) {
        readSync(fd, header, 0, HEADER_BYTES, pos);
        const length = header.readUInt32LE(0);
        if (length > MAX_RECORD_BYTES || pos + HEADER_BYTES + length > seg.size) break;
        const payload = Buffer.allocUnsafe(length);
        readSync(fd, payload, 0, length, pos + HEADER_BYTES);
        if (crc32(payload) !== header.readUInt32LE(4)) break;
        pos += HEADER_BYTES + length;
      }
      if (pos < seg.size) ftruncateSync(fd, pos);
      return pos;
    } finally {
      closeSync(fd);
    }
  }

  private async openSegment(start: number): Promise<void> {
    this.active = await open(join(this.dir, segmentName(start)), 'w+');
    this.segments.push({ start, size: 0 });
    this.durable = start;
  }

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        let seg = this.segments.at(-1)!;
        if (this.tailToCut) {
          // Before anything else, rotation included: a later, shorter group would overwrite only the start of
          // those bytes, and after a crash the refused records behind it (their clients retried them, stored
          // again later) could be read back as whole records and stored twice.
          await this.active.truncate(seg.size);
          this.tailToCut = false;
        }
        if (seg.size >= this.options.segmentBytes) {
          await this.active.close();
          await this.openSegment(this.durable);
          seg = this.segments.at(-1)!;
        }
        // Headers and payloads as they are (one writev), not copied into one buffer: a group is megabytes.
        const written = await writeAllAt(this.active, group.flatMap((p) => [p.header, p.payload]), seg.size);
        await this.active.datasync();
        let lsn = this.durable;
        seg.size += written;
        this.durable += written;
        for (const p of group) {
          const end = lsn + HEADER_BYTES + p.payload.length;
          p.resolve({ start: lsn, end });
          lsn = end;
        }
      } catch (err) {
        // Cut at once, so a crash before the next write cannot replay them either; if that fails too, the
        // next write tries again before anything else.
        this.tailToCut = true;
        await this.active
          .truncate(this.segments.at(-1)!.size)
          .then(() => (this.tailToCut = false))
          .catch(() => undefined);
        for (const p of group) p.reject(err);
      }
    }
    this.writing = null;
  }
}

