import type { ClickHouseClient } from '@clickhouse/client';
import type { StreamReader } from '../store/clickhouse.js';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';

export interface ReaderLease {
  /** The reader this query has to itself until release. */
  client(): Promise<ClickHouseClient>;
  /** A streaming reader for this query (exports); needs the pool's openStreamReader. */
  streamReader(): Promise<StreamReader>;
  /** Gives the reader back; after a failed query an embedded reader is scrubbed first (see below). */
  release(failed: boolean): Promise<void>;
}

/**
 * The /sql concurrency limit and the readers behind it: at most `limit` queries run at once, each on a
 * reader of its own; tryAcquire() refuses instead of queueing (the caller answers 429).
 *
 * Embedded mode needs one chdb session per running query: queries sharing a session mix their output. And a
 * session whose query failed (a limit, a KILL) keeps that query's header in its output buffer and its entry
 * in system.processes until it runs the next query, so a failed reader runs a throw-away query before it is
 * handed out again.
 */
export class ReaderPool {
  private running = 0;
  private readonly idle: ClickHouseClient[] = [];
  private readonly idleStreamReaders: StreamReader[] = [];

  constructor(
    readonly limit: number,
    private readonly openReader: () => Promise<ClickHouseClient>,
    private readonly scrubAfterFailure: boolean,
    private readonly metrics?: SqlMetrics,
    private readonly openStreamReader?: () => Promise<StreamReader>,
  ) {}

  get inUse(): number {
    return this.running;
  }

  tryAcquire(): ReaderLease | undefined {
    if (this.running >= this.limit) {
      this.metrics?.refused.inc({ reason: 'concurrency' });
      return undefined;
    }
    this.setRunning(this.running + 1);
    let client: ClickHouseClient | undefined;
    let streamReader: StreamReader | undefined;
    let released = false;
    return {
      client: async () => (client ??= this.idle.pop() ?? (await this.openReader())),
      streamReader: async () => {
        if (!this.openStreamReader) throw new Error('this reader pool has no stream readers');
        return (streamReader ??= this.idleStreamReaders.pop() ?? (await this.openStreamReader()));
      },
      release: async (failed: boolean) => {
        if (released) return;
        released = true;
        try {
          // A stream reader whose query failed or was stopped may still hold its stream: replaced, not reused.
          if (streamReader && failed) streamReader.close();
          else if (streamReader) this.idleStreamReaders.push(streamReader);
          if (client && failed && this.scrubAfterFailure) await scrub(client);
          if (client) this.idle.push(client);
        } finally {
          this.setRunning(this.running - 1);
        }
      },
    };
  }

  private setRunning(n: number): void {
    this.running = n;
    this.metrics?.running.set(n);
  }
}

async function scrub(client: ClickHouseClient): Promise<void> {
  await client.command({ query: 'SELECT 1' });
}

export class SqlMetrics {
  readonly running: Gauge;
  readonly refused: Counter<'reason'>;
  readonly cancelled: Counter;

  constructor(registry: Registry) {
    this.running = new Gauge({ name: 'ragscope_sql_queries_running', help: '/sql queries holding a reader (running in the engine)', registers: [registry] });
    this.refused = new Counter({
      name: 'ragscope_sql_refused_total',
      help: '/sql queries refused before running, by reason (concurrency: 429)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.cancelled = new Counter({
      name: 'ragscope_sql_cancelled_total',
      help: '/sql queries cancelled in the engine because their client left or their result grew past the byte cap',
      registers: [registry],
    });
  }
}
