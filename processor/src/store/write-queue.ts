// The processor's write path: rows are acknowledged once they are in the write-ahead log on disk (wal.ts),
// and reach ClickHouse from there exactly once (shipper.ts). Acknowledgement time no longer depends on
// ClickHouse: an outage fills the spool, and only a full spool refuses new data (503 + Retry-After).
import { mkdirSync } from 'node:fs';
import { Checkpoint } from './checkpoint.js';
import { Shipper, type InsertLinesFn, type ShipperObserver } from './shipper.js';
import { decodeRecord, encodeRecord } from './wal-record.js';
import { Wal } from './wal.js';
import type { LineRow } from './json-bytes.js';

export type TableName = 'otel_traces' | 'genai_spans' | 'otel_logs' | 'feedback' | 'evaluations';
/**
 * A row object, or its JSONCompactEachRow line: already serialized (store/row-lines.ts; insertRows in
 * clickhouse.ts), or a line row the write-ahead-log record writes straight into its bytes (json-bytes.ts).
 */
export type Row = Record<string, unknown> | string | LineRow;
export type RowsByTable = Partial<Record<TableName, Row[]>>;

export interface WriteQueueOptions {
  /** Insert into ClickHouse once one table has this many rows waiting (ClickHouse wants big inserts)... */
  maxBatchRows: number;
  /** ... or this many bytes of row text (an insert's memory)... */
  maxBatchBytes?: number;
  /** ... or once the oldest waiting row is this old. */
  maxDelayMs: number;
  /** Bytes acknowledged but not yet in ClickHouse above which new data is refused (503). */
  maxSpoolBytes: number;
  /** Size of one log segment file. */
  segmentBytes: number;
  /** Shipped segments kept on disk, from which the duplicate memory is rebuilt at start. */
  retainBytes: number;
  /** On stop, how long to keep shipping before leaving the rest for the next start. */
  shutdownGraceMs: number;
}

export interface WriteQueueObserver extends ShipperObserver {
  onDepthChange?(bytes: number): void;
}

/** Thrown by enqueue when the spool is full; callers answer 503 + Retry-After. */
export class QueueFullError extends Error {
  constructor(
    readonly queuedBytes: number,
    readonly limit: number,
  ) {
    super(`spool full: ${queuedBytes} bytes not yet in ClickHouse, limit ${limit} (RAGSCOPE_SPOOL_MAX_BYTES)`);
  }
}

/** A single request larger than the whole spool: retrying cannot help, so callers answer 413. */
export class BatchTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`request holds ${bytes} bytes of rows, more than the spool's capacity of ${limit}; send smaller batches`);
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('processor is shutting down');
  }
}

export class WriteQueue {
  private closed = false;
  /** Bytes handed to the log and not yet durable. */
  private appending = 0;

  private constructor(
    private readonly wal: Wal,
    private readonly shipper: Shipper,
    private readonly options: WriteQueueOptions,
    private readonly observer: WriteQueueObserver,
  ) {}

  /** Opens (or creates) the log in `dir` and starts shipping what it holds. */
  static async open(dir: string, insert: InsertLinesFn, options: WriteQueueOptions, observer: WriteQueueObserver = {}): Promise<WriteQueue> {
    mkdirSync(dir, { recursive: true });
    const checkpoint = Checkpoint.load(dir);
    const wal = await Wal.open(dir, { segmentBytes: options.segmentBytes, startLsn: checkpoint.shipped });
    const shipper = new Shipper(wal, checkpoint, insert, options, {
      ...observer,
      onShipped: (lsn) => {
        observer.onShipped?.(lsn);
        observer.onDepthChange?.(wal.bytesSince(lsn));
      },
    });
    const queue = new WriteQueue(wal, shipper, options, observer);
    shipper.start();
    observer.onDepthChange?.(queue.depth);
    return queue;
  }

  /** Bytes acknowledged and not yet in ClickHouse (the spool). */
  get depth(): number {
    return this.wal.bytesSince(this.shipper.shipped) + this.appending;
  }

  /** The insert failure being retried, if ClickHouse is refusing or unreachable. */
  get shipError(): string | null {
    return this.shipper.error;
  }

  /**
   * Makes the rows durable; resolves once they are on disk (not yet in ClickHouse: see flushed()).
   * `keys` name the spans and log records the rows came from (duplicate memory, rebuilt at start).
   */
  enqueue(rows: RowsByTable, keys: readonly string[] = []): Promise<void> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    let count = 0;
    for (const table in rows) count += rows[table as TableName]!.length;
    if (count === 0) return Promise.resolve();
    let record: ReturnType<typeof encodeRecord>;
    try {
      record = encodeRecord(rows, keys);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.append(record.payload, record.tables);
  }

  private async append(payload: Buffer, tables: ReturnType<typeof encodeRecord>['tables']): Promise<void> {
    if (payload.length > this.options.maxSpoolBytes) throw new BatchTooLargeError(payload.length, this.options.maxSpoolBytes);
    if (this.depth + payload.length > this.options.maxSpoolBytes) throw new QueueFullError(this.depth, this.options.maxSpoolBytes);
    this.appending += payload.length;
    try {
      const { start, end } = await this.wal.append(payload);
      this.shipper.notify(start, end, tables);
    } finally {
      this.appending -= payload.length;
    }
    this.observer.onDepthChange?.(this.depth);
  }

  /** Resolves once everything acknowledged before the call is queryable in ClickHouse. */
  flushed(): Promise<void> {
    return this.shipper.waitFor(this.wal.end);
  }

  /** Keys of the records still on disk, oldest first (shipped-but-retained and not yet shipped). */
  async *recentKeys(): AsyncGenerator<string[]> {
    for (let pos = this.wal.start; pos < this.wal.end; ) {
      const records = await this.wal.read(pos, 16 << 20);
      if (records.length === 0) return;
      for (const r of records) {
        yield decodeRecord(r.payload).keys;
        pos = r.end;
      }
    }
  }

  /** Refuses new rows; ships what it can within the grace period; the rest ships at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.shipper.stop(this.options.shutdownGraceMs);
    await this.wal.close();
  }
}
