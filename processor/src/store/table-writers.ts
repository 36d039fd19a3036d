// One writer session per table for the shipper's inserts, so the tables of one write-ahead-log range are
// inserted at the same time (shipper.ts). The embedded engine runs one query at a time per session (its
// result buffer is shared), so concurrent inserts need sessions of their own; over HTTP the one writer client
// already runs requests side by side.
import type { ClickHouseClient } from '@clickhouse/client';
import type { StoreClients } from './clickhouse.js';
import type { TableName } from './write-queue.js';

export class TableWriters {
  private readonly writers = new Map<TableName, Promise<ClickHouseClient>>();

  constructor(private readonly store: Pick<StoreClients, 'mode' | 'writer' | 'openWriter'>) {}

  /** The session `table`'s inserts use, opened on first use. */
  writerFor(table: TableName): Promise<ClickHouseClient> {
    if (this.store.mode === 'server') return Promise.resolve(this.store.writer);
    let writer = this.writers.get(table);
    if (!writer) this.writers.set(table, (writer = this.store.openWriter()));
    return writer;
  }
}
