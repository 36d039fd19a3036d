import type { ClickHouseClient } from '@clickhouse/client';
import type { StreamReader } from '../store/clickhouse.js';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';

/** Settings preset on a reader session (only ones that change query semantics, e.g. join_use_nulls; never limits). */
export type ReaderPreset = Record<string, string | number>;

export interface ReaderLease {
  /**
   * The reader this lease has to itself until release: with `preset`, one whose session has those settings
   * (see StoreClients.readerWith); the lease holds one reader at a time.
   */
  client(preset?: ReaderPreset): Promise<ClickHouseClient>;
  /** A streaming reader for this query (exports); needs the pool's openStreamReader. */
  streamReader(): Promise<StreamReader>;
  /** After a failed query, before the lease runs another one: an embedded reader is scrubbed (see below). */
  recover(): Promise<void>;
  /** Gives the reader back; after a failed query an embedded reader is scrubbed first (see below). */
  release(failed: boolean): Promise<void>;
}

const presetKey = (preset: ReaderPreset): string => JSON.stringify(Object.entries(preset).sort(([a], [b]) => a.localeCompare(b)));

/**
 * The /sql concurrency limit and the readers behind it: at most `limit` queries run at once, each on a
 * reader of its own; tryAcquire() refuses instead of queueing (the caller answers 429). The built-in
 * dashboards' queries take their readers here too, so they count against the same limit.
 *
 * Embedded mode needs one chdb session per running query: queries sharing a session mix their output. And a
 * session whose query failed (a limit, a KILL) keeps that query's header in its output buffer and its entry
 * in system.processes until it runs the next query, so a failed reader runs a throw-away query before it is
 * handed out again.
 */
export class ReaderPool {
  private running = 0;
  private readonly idle = new Map<string, ClickHouseClient[]>();
  private readonly idleStreamReaders: StreamReader[] = [];

  constructor(
    readonly limit: number,
    private readonly openReader: (preset?: ReaderPreset) => Promise<ClickHouseClient>,
    private readonly scrubAfterFailure: boolean,
    private readonly metrics?: SqlMetrics,
    private readonly openStreamReader?: () => Promise<StreamReader>,
  ) {}

  get inUse(): number {
    return this.running;
  }

  /** Readers a tryAcquire() would get now. */
  get free(): number {
    return Math.max(0, this.limit - this.running);
  }

  tryAcquire(): ReaderLease | undefined {
    if (this.running >= this.limit) {
      this.metrics?.refused.inc({ reason: 'concurrency' });
      return undefined;
    }
    this.setRunning(this.running + 1);
    let held: { key: string; client: ClickHouseClient } | undefined;
    let streamReader: StreamReader | undefined;
    let released = false;
    return {
      client: async (preset: ReaderPreset = {}) => {
        const key = presetKey(preset);
        if (held?.key === key) return held.client;
        if (held) this.park(held.key, held.client);
        held = undefined;
        const client = this.idle.get(key)?.pop() ?? (await this.openReader(preset));
        held = { key, client };
        return client;
      },
      streamReader: async () => {
        if (!this.openStreamReader) throw new Error('this reader pool has no stream readers');
        return (streamReader ??= this.idleStreamReaders.pop() ?? (await this.openStreamReader()));
      },
      recover: async () => {
        if (held && this.scrubAfterFailure) await scrub(held.client);
      },
      release: async (failed: boolean) => {
        if (released) return;
        released = true;
        try {
          // A stream reader whose query failed or was stopped may still hold its stream: replaced, not reused.
          if (streamReader && failed) streamReader.close();
          else if (streamReader) this.idleStreamReaders.push(streamReader);
          if (held && failed && this.scrubAfterFailure) await scrub(held.client);
          if (held) this.park(held.key, held.client);
        } finally {
          this.setRunning(this.running - 1);
        }
      },
    };
  }

  /**
   * Opens the readers the first queries will want, one per preset up to the limit each, ahead of them (an
   * embedded session takes tens of ms to open and set up). Only fills what is idle; never holds a slot.
   */
  async prewarm(presets: ReaderPreset[]): Promise<void> {
    for (const preset of presets) {
      const key = presetKey(preset);
      while ((this.idle.get(key)?.length ?? 0) < this.limit) this.park(key, await this.openReader(preset));
    }
  }

  private park(key: string, client: ClickHouseClient): void {
    const list = this.idle.get(key);
    if (list) list.push(client);
    else this.idle.set(key, [client]);
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
