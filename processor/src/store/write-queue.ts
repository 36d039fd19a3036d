export type TableName = 'otel_traces' | 'genai_spans' | 'otel_logs' | 'feedback' | 'evaluations';
/** A row object, or its JSONCompactEachRow line already serialized (store/row-lines.ts; insertRows in clickhouse.ts). */
export type Row = Record<string, unknown> | string;
export type RowsByTable = Partial<Record<TableName, Row[]>>;

export type InsertFn = (table: TableName, rows: Row[]) => Promise<void>;

export interface WriteQueueOptions {
  /** Flush when one table has this many rows pending (ClickHouse wants big inserts per table). */
  maxBatchRows: number;
  /** Flush at the latest this long after the first pending row arrived. */
  maxDelayMs: number;
  /** Rows pending + being written above which new work is refused (bounded memory). */
  maxQueuedRows: number;
}

export interface WriteQueueObserver {
  onFlush?(table: TableName, rows: number, seconds: number, error?: unknown): void;
  onDepthChange?(rows: number): void;
}

/** Thrown by enqueue when accepting the rows would exceed maxQueuedRows; callers answer 503 + Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly queuedRows: number, readonly limit: number) {
    super(`write queue full: ${queuedRows} rows queued, limit ${limit}`);
  }
}

/** A single request larger than the whole queue: retrying cannot help, so callers answer 413. */
export class BatchTooLargeError extends Error {
  constructor(readonly rows: number, readonly limit: number) {
    super(`request holds ${rows} rows, more than the write queue's capacity of ${limit}; send smaller batches`);
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('processor is shutting down');
  }
}

interface Batch {
  rows: Map<TableName, Row[]>;
  rowCount: number;
  /** Rows of the fullest table. */
  largestTable: number;
  /** When the first row of this batch arrived (performance.now()). */
  openedAt: number;
  waiters: { resolve(): void; reject(err: unknown): void }[];
}

function emptyBatch(): Batch {
  return { rows: new Map(), rowCount: 0, largestTable: 0, openedAt: 0, waiters: [] };
}

/**
 * Collects rows from many requests into one insert per table per batch (flush at maxBatchRows or
 * maxDelayMs). Each enqueue resolves only once its rows are written, or rejects with the insert
 * error, so a client is answered only after its data is stored. One flush runs at a time; rows
 * arriving meanwhile form the next batch.
 */
export class WriteQueue {
  private pending: Batch = emptyBatch();
  private inFlightRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly insert: InsertFn,
    private readonly options: WriteQueueOptions,
    private readonly observer: WriteQueueObserver = {},
  ) {}

  /** Rows accepted and not yet written. */
  get depth(): number {
    return this.pending.rowCount + this.inFlightRows;
  }

  enqueue(rows: RowsByTable): Promise<void> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    let count = 0;
    for (const table in rows) count += rows[table as TableName]!.length;
    if (count === 0) return Promise.resolve();
    if (count > this.options.maxQueuedRows) return Promise.reject(new BatchTooLargeError(count, this.options.maxQueuedRows));
    if (this.depth + count > this.options.maxQueuedRows) {
      return Promise.reject(new QueueFullError(this.depth, this.options.maxQueuedRows));
    }
    const batch = this.pending;
    if (batch.rowCount === 0) batch.openedAt = performance.now();
    for (const table in rows) {
      const tableRows = rows[table as TableName]!;
      if (tableRows.length === 0) continue;
      let existing = batch.rows.get(table as TableName);
      if (existing) {
        for (const row of tableRows) existing.push(row);
      } else {
        existing = tableRows.slice();
        batch.rows.set(table as TableName, existing);
      }
      if (existing.length > batch.largestTable) batch.largestTable = existing.length;
    }
    batch.rowCount += count;
    this.observer.onDepthChange?.(this.depth);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.scheduleNextFlush();
    return done;
  }

  /** Writes everything pending now (and waits for a flush already running). */
  async flush(): Promise<void> {
    while (this.flushing || this.pending.rowCount > 0) {
      if (this.flushing) await this.flushing.catch(() => undefined);
      else await this.startFlush().catch(() => undefined);
    }
  }

  /** Refuses new rows, writes what was accepted. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Flush now if a table is full (or we are closing), else when the oldest pending row is maxDelayMs old. */
  private scheduleNextFlush(): void {
    const batch = this.pending;
    if (batch.rowCount === 0) return;
    if (batch.largestTable >= this.options.maxBatchRows || this.closed) {
      this.scheduleFlush(0);
      return;
    }
    const waited = performance.now() - batch.openedAt;
    this.scheduleFlush(Math.max(0, this.options.maxDelayMs - waited));
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushing) return; // the running flush starts the next one when it ends
    if (delayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.startFlush().catch(() => undefined);
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.startFlush().catch(() => undefined);
      }, delayMs);
      this.timer.unref();
    }
  }

  private startFlush(): Promise<void> {
    const batch = this.pending;
    if (batch.rowCount === 0) return Promise.resolve();
    this.pending = emptyBatch();
    this.inFlightRows = batch.rowCount;
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
      this.inFlightRows = 0;
      this.observer.onDepthChange?.(this.depth);
      this.scheduleNextFlush();
    });
    return this.flushing;
  }

  private async writeBatch(batch: Batch): Promise<void> {
    try {
      await Promise.all(
        [...batch.rows].map(async ([table, rows]) => {
          const started = performance.now();
          try {
            await this.insert(table, rows);
            this.observer.onFlush?.(table, rows.length, (performance.now() - started) / 1000);
          } catch (err) {
            this.observer.onFlush?.(table, rows.length, (performance.now() - started) / 1000, err);
            throw err;
          }
        }),
      );
    } catch (err) {
      this.inFlightRows = 0; // before waking clients, so a prompt retry sees the freed capacity
      for (const w of batch.waiters) w.reject(err);
      throw err;
    }
    this.inFlightRows = 0;
    for (const w of batch.waiters) w.resolve();
  }
}
