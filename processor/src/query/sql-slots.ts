import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';

/** A counter of /sql queries running; tryAcquire() refuses instead of queueing (the caller answers 429). */
export class SqlSlots {
  private running = 0;

  constructor(
    readonly limit: number,
    private readonly metrics?: SqlMetrics,
  ) {}

  get inUse(): number {
    return this.running;
  }

  /** A release function, or undefined when `limit` queries are already running. */
  tryAcquire(): (() => void) | undefined {
    if (this.running >= this.limit) {
      this.metrics?.refused.inc({ reason: 'concurrency' });
      return undefined;
    }
    this.running++;
    this.metrics?.running.set(this.running);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.metrics?.running.set(this.running);
    };
  }
}

export class SqlMetrics {
  readonly running: Gauge;
  readonly refused: Counter<'reason'>;
  readonly cancelled: Counter;

  constructor(registry: Registry) {
    this.running = new Gauge({ name: 'ragscope_sql_queries_running', help: '/sql queries running in the engine', registers: [registry] });
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
