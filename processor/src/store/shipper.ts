// Moves acknowledged records from the write-ahead log into ClickHouse, exactly once.
//
// Exactly once comes from ClickHouse's own insert deduplication: every block carries a deterministic
// insert_deduplication_token (log id, LSN range, table) and the tables keep a deduplication window
// (non_replicated_deduplication_window; replicated tables have one by default), with
// deduplicate_blocks_in_dependent_materialized_views so the rollups drop a repeated block too. A range is
// written down as in flight before its inserts (checkpoint.ts), so after a crash the same records form the
// same blocks with the same tokens: whatever part of the range ClickHouse already had is skipped.
//
// A block ClickHouse refuses for its data (a value it cannot parse or store) must not hold the log up: it is
// split in halves until the refused rows stand alone, those go to the dead-letter file, the rest is stored.
// Any other failure (ClickHouse down, overloaded, a network error) is retried with backoff, forever: the data
// is safe on disk meanwhile and the spool limit tells clients to slow down.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClickHouseError } from '@clickhouse/client';
import type { Checkpoint } from './checkpoint.js';
import { decodeRecord, type RowFormat, type TableLines } from './wal-record.js';
import type { Wal } from './wal.js';
import type { TableName } from './write-queue.js';

/**
 * One insert's lines: how many, their bytes when the shipper has them from the log records (`body`: each line
 * followed by a newline, as wal-record.ts linesBytes writes them, in the records' pieces: joined only by an
 * insert that needs one Buffer), and the lines as strings, made on demand (a server-mode insert, a refused
 * block split in halves, older lines).
 */
export interface LineBlock {
  readonly count: number;
  readonly body?: readonly Buffer[];
  lines(): string[];
}

export type InsertLinesFn = (table: TableName, format: RowFormat, block: LineBlock, token: string) => Promise<void>;

export interface ShipperOptions {
  /** Insert once a table has this many rows waiting... */
  maxBatchRows: number;
  /** ... or this many bytes of row text (bounds an insert's memory when rows are large, e.g. captured prompts)... */
  maxBatchBytes?: number;
  /** ... or once the oldest waiting record is this old. */
  maxDelayMs: number;
  /** Shipped segments kept on disk (the duplicate memory is rebuilt from them at start). */
  retainBytes: number;
  /** Memory for the rows of unshipped records kept for the inserts (beyond it they are read back from disk). */
  memoryBytes?: number;
  /** First and longest wait between retries of a failing insert. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface ShipperObserver {
  onInsert?(table: TableName, rows: number, seconds: number): void;
  onInsertError?(table: TableName, err: unknown, willRetry: boolean): void;
  onDeadLetter?(table: TableName, rows: number, err: unknown): void;
  onShipped?(lsn: number): void;
}

/** ClickHouse error codes that say "this data cannot be stored", as opposed to "not now". */
const DATA_ERROR_CODES = new Set([
  '6', '25', '26', '27', '28', '32', '33', '38', '41', '43', '53', '62', '69', '70', '72', '117', '131', '190', '321', '349', '407',
]);

export function isDataError(err: unknown): boolean {
  // Duck-typed: the embedded engine's connection raises ClickHouseError from its own (CommonJS) copy of the
  // client library, which `instanceof` against ours does not recognise.
  const code = (err as { code?: unknown } | null)?.code;
  return (err instanceof ClickHouseError || (err as Error)?.name === 'ClickHouseError' || typeof (err as { type?: unknown })?.type === 'string') && DATA_ERROR_CODES.has(String(code));
}

interface Batch {
  from: number;
  to: number;
  /** One table reached maxBatchRows or maxBatchBytes. */
  full: boolean;
  groups: Map<string, Group>;
}

/** One table's lines of a batch, and their bytes in the records they came from (when every record had them). */
interface Group {
  table: TableName;
  format: RowFormat;
  count: number;
  /** The lines' UTF-8 bytes (with their newlines). */
  bytes: number;
  /** The records' tables, in order: their lines are this group's. */
  parts: TableLines[];
  chunks?: Buffer[];
}

/** A block of lines without their bytes (the halves of a split block: the insert writes them anew). */
function linesBlock(lines: string[]): LineBlock {
  return { count: lines.length, lines: () => lines };
}

function linesByteLength(lines: string[]): number {
  let n = lines.length;
  for (const line of lines) n += Buffer.byteLength(line);
  return n;
}

function groupLines(g: Group): string[] {
  if (g.parts.length === 1) return g.parts[0].lines;
  const lines: string[] = [];
  for (const part of g.parts) for (const line of part.lines) lines.push(line);
  return lines;
}

interface Waiter {
  lsn: number;
  resolve(): void;
}

export class Shipper {
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
  private waiters: Waiter[] = [];
  /**
   * Records appended by this process and not yet shipped, as the rows they hold: the shipper inserts these
   * without reading and parsing the log again. Bounded; what is not here is read from disk.
   */
  private readonly recent = new Map<number, { end: number; at: number; bytes: number; tables: TableLines[] }>();
  private recentBytes = 0;
  private lastError: string | null = null;

  constructor(
    private readonly wal: Wal,
    private readonly checkpoint: Checkpoint,
    private readonly insert: InsertLinesFn,
    private readonly options: ShipperOptions,
    private readonly observer: ShipperObserver = {},
  ) {}

  get shipped(): number {
    return this.checkpoint.shipped;
  }

  /** The last insert failure still being retried, if any. */
  get error(): string | null {
    return this.lastError;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Called after each append: there is work. */
  notify(lsn: number, end: number, tables: TableLines[]): void {
    // A record kept for the embedded insert holds its rows twice: as the lines (JS strings) and as the record's
    // bytes the raw insert sends (TableLines.bytes, a view that keeps the record's Buffer alive). Charge both, so
    // memoryBytes bounds what the process really holds.
    const bytes = tables.some((t) => t.bytes !== undefined) ? 2 * (end - lsn) : end - lsn;
    if (this.recentBytes + bytes <= (this.options.memoryBytes ?? 256 << 20)) {
      this.recent.set(lsn, { end, at: performance.now(), bytes, tables });
      this.recentBytes += bytes;
    }
    this.wake?.();
  }

  /** Resolves once everything before `lsn` is in ClickHouse. */
  waitFor(lsn: number): Promise<void> {
    if (this.checkpoint.shipped >= lsn) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ lsn, resolve });
      this.wake?.();
    });
  }

  /** Ships what is there for up to `graceMs`, then stops (the rest is shipped at the next start). */
  async stop(graceMs: number): Promise<void> {
    const drained = this.waitFor(this.wal.end);
    await Promise.race([drained, new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const inFlight = this.checkpoint.inFlight;
        const batch = inFlight ? await this.collect(inFlight.from, inFlight.to) : await this.nextBatch();
        if (!batch) continue;
        if (!inFlight) this.checkpoint.begin({ from: batch.from, to: batch.to });
        await this.ship(batch);
        this.checkpoint.complete(batch.to);
        for (const [lsn, r] of this.recent) {
          if (lsn >= batch.to) break;
          this.recent.delete(lsn);
          this.recentBytes -= r.bytes;
        }
        this.wal.removeBefore(batch.to, this.options.retainBytes);
        this.lastError = null;
        failures = 0;
        this.observer.onShipped?.(batch.to);
        this.releaseWaiters();
      } catch (err) {
        failures++;
        this.lastError = (err as Error).message;
        const min = this.options.retryMinMs ?? 100;
        await this.sleep(Math.min(this.options.retryMaxMs ?? 30_000, min * 2 ** Math.min(failures - 1, 10)));
      }
    }
  }

  /** The next batch from the shipped position, once it is big enough, old enough, or someone waits for it. */
  private async nextBatch(): Promise<Batch | null> {
    const from = this.checkpoint.shipped;
    if (this.wal.end <= from) {
      await this.sleep(1000);
      return null;
    }
    const batch = await this.collect(from);
    const oldest = this.recent.get(from)?.at;
    const waited = oldest === undefined ? Infinity : performance.now() - oldest;
    if (!batch.full && waited < this.options.maxDelayMs && this.waiters.length === 0 && !this.stopping) {
      await this.sleep(this.options.maxDelayMs - waited);
      return null;
    }
    return batch;
  }

  /**
   * Reads records from `from` and groups their rows per table: up to `to` when given (a range to repeat),
   * else until one table holds maxBatchRows rows or maxBatchBytes bytes, or the log ends.
   */
  private async collect(from: number, to?: number): Promise<Batch> {
    const groups = new Map<string, Group>();
    let pos = from;
    let full = false;
    const end = to ?? this.wal.end;
    const add = (tables: TableLines[]) => {
      for (const t of tables) {
        const key = `${t.table}:${t.format}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { table: t.table, format: t.format, count: 0, bytes: 0, parts: [], chunks: [] }));
        group.parts.push(t);
        group.count += t.count;
        group.bytes += t.bytes ? t.bytes.length : linesByteLength(t.lines);
        if (group.chunks && t.bytes) group.chunks.push(t.bytes);
        else group.chunks = undefined;
        if (to === undefined && (group.count >= this.options.maxBatchRows || group.bytes >= (this.options.maxBatchBytes ?? Infinity))) full = true;
      }
    };
    while (pos < end && !full) {
      const inMemory = this.recent.get(pos);
      if (inMemory) {
        add(inMemory.tables);
        pos = inMemory.end;
        continue;
      }
      const records = await this.wal.read(pos, 16 << 20);
      if (records.length === 0) throw new Error(`write-ahead log: no record at LSN ${pos} (range ${from}-${end})`);
      for (const r of records) {
        if (r.lsn >= end || full) break;
        add(decodeRecord(r.payload).tables);
        pos = r.end;
      }
    }
    return { from, to: pos, full, groups };
  }

  private async ship(batch: Batch): Promise<void> {
    // Each table's block and token depend only on the range, never on the order of the inserts, so the tables
    // of one range are inserted at the same time (store/table-writers.ts gives each table its own session): the
    // range is done when the slowest table is, not the sum of all. The range completes only once every insert
    // has settled, so a failure repeats the whole range and the tokens drop what was already stored.
    // One table's groups (a format each) stay one after the other: they share that table's session.
    const byTable = new Map<TableName, string[]>();
    for (const key of [...batch.groups.keys()].sort()) {
      const table = batch.groups.get(key)!.table;
      byTable.set(table, [...(byTable.get(table) ?? []), key]);
    }
    const settled = await Promise.allSettled(
      [...byTable.values()].map(async (keys) => {
        for (const key of keys) {
          const g = batch.groups.get(key)!;
          // The records' bytes (no strings) are the insert body; a split writes its halves anew.
          let lines: string[] | undefined;
          const block: LineBlock = { count: g.count, body: g.chunks, lines: () => (lines ??= groupLines(g)) };
          await this.insertOrSplit(g.table, g.format, block, `${this.checkpoint.logId}:${batch.from}-${batch.to}:${key}`);
        }
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async insertOrSplit(table: TableName, format: RowFormat, block: LineBlock, token: string): Promise<void> {
    const started = performance.now();
    try {
      await this.insert(table, format, block, token);
      this.observer.onInsert?.(table, block.count, (performance.now() - started) / 1000);
    } catch (err) {
      if (!isDataError(err)) {
        this.observer.onInsertError?.(table, err, true);
        throw err;
      }
      this.observer.onInsertError?.(table, err, false);
      const lines = block.lines();
      if (lines.length === 1) {
        this.deadLetter(table, format, lines, err);
        return;
      }
      const half = Math.ceil(lines.length / 2);
      await this.insertOrSplit(table, format, linesBlock(lines.slice(0, half)), `${token}/0`);
      await this.insertOrSplit(table, format, linesBlock(lines.slice(half)), `${token}/1`);
    }
  }

  private deadLetter(table: TableName, format: RowFormat, lines: string[], err: unknown): void {
    const entry = { time: new Date().toISOString(), table, format, error: (err as Error).message.slice(0, 2000), row: lines[0] };
    appendFileSync(join(this.wal.dir, 'dead-letter.ndjson'), `${JSON.stringify(entry)}\n`);
    this.observer.onDeadLetter?.(table, lines.length, err);
  }

  private releaseWaiters(): void {
    const shipped = this.checkpoint.shipped;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.lsn <= shipped) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
