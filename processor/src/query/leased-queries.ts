import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { StoreClients } from '../store/clickhouse.js';
import type { Logger } from '../logger.js';
import type { ReaderLease, ReaderPool, SqlMetrics } from './reader-pool.js';
import { semanticSettings, type ColumnMeta, type ReadOnlyQuery, type ReadOnlyResult } from './read-only.js';
import { killTaggedQuery, tagQuery } from './sql-cancel.js';

export interface AdmissionOptions {
  store: StoreClients;
  /** The /sql pool: its limit (RAGSCOPE_SQL_MAX_CONCURRENT) and its readers (the /sql limits preset on each). */
  readers: ReaderPool;
  retryAfterSeconds: number;
  metrics?: SqlMetrics;
  logger?: Logger;
  /** Cancel functions of the requests running now (the processor cancels them all when it stops). */
  active?: Set<(why: string) => void>;
}

/** The answer to a request past RAGSCOPE_SQL_MAX_CONCURRENT, the same for /sql and the dashboards. */
export function refuseForConcurrency(res: Response, limit: number, retryAfterSeconds: number): void {
  res
    .status(429)
    .set('Retry-After', String(retryAfterSeconds))
    .json({ error: `${limit} /sql queries are already running (RAGSCOPE_SQL_MAX_CONCURRENT); retry after ${retryAfterSeconds} s` });
}

export class QueryCancelled extends Error {}

const KILL_RETRY_MS = 500;

/**
 * The queries of one dashboard request (variables, panels, a trace), admitted by the /sql pool: one reader
 * leased up front (none free: the caller answers 429 like /sql), more taken only while the pool has them
 * free, so the request never takes a slot another client is refused for. Queries queue on the leased
 * readers. Each query carries /sql's tag, so a request whose client leaves (or a processor that stops) has
 * its running queries stopped in the engine with KILL QUERY, exactly as /sql does.
 */
export class LeasedQueries {
  private readonly leases: ReaderLease[];
  private readonly free: ReaderLease[];
  private readonly broken = new Set<ReaderLease>();
  private readonly waiting: Array<{ resolve: (l: ReaderLease) => void; reject: (e: Error) => void }> = [];
  private readonly running = new Set<string>();
  private readonly abort = new AbortController();
  private cancelled: string | undefined;
  private closed = false;
  private rekill: NodeJS.Timeout | undefined;
  private readonly cancelFn = (why: string): void => this.cancel(why);

  private constructor(
    private readonly options: AdmissionOptions,
    first: ReaderLease,
  ) {
    this.leases = [first];
    this.free = [first];
    options.active?.add(this.cancelFn);
  }

  /** One reader from the pool, or undefined when RAGSCOPE_SQL_MAX_CONCURRENT queries already run. */
  static open(options: AdmissionOptions): LeasedQueries | undefined {
    const first = options.readers.tryAcquire();
    return first ? new LeasedQueries(options, first) : undefined;
  }

  /** Takes more readers, up to `n` in all, only as far as the pool has them free now. */
  widen(n: number): void {
    while (!this.closed && this.leases.length < n && this.options.readers.free > 0) {
      const lease = this.options.readers.tryAcquire();
      if (!lease) break;
      this.leases.push(lease);
      this.give(lease);
    }
  }

  get readers(): number {
    return this.leases.length;
  }

  /** `scopeSettings`: a tenant's row filter (query/tenant-scope.ts), preset on the reader like join_use_nulls. */
  async run(q: ReadOnlyQuery, scopeSettings: Record<string, string> = {}): Promise<ReadOnlyResult> {
    const lease = await this.take();
    const id = randomUUID();
    let ok = false;
    try {
      if (this.cancelled) throw new QueryCancelled(`query cancelled: ${this.cancelled}`);
      const { store } = this.options;
      // Embedded: preset on a read-only session of its own (readonly=1 refuses them per query); server mode: sent
      // with the query (readonly=2 accepts them).
      const client = await lease.client({ ...semanticSettings(q.query), ...scopeSettings });
      this.running.add(id);
      const rs = await client.query({
        query: tagQuery(q.query, id),
        query_id: id,
        format: 'JSONCompact',
        query_params: q.params,
        clickhouse_settings: store.mode === 'server' ? { ...store.readerQuerySettings, ...scopeSettings } : store.readerQuerySettings,
        // Server mode: aborting the request makes the server stop the query; embedded: KILL QUERY below.
        abort_signal: store.mode === 'server' ? this.abort.signal : undefined,
      });
      const body = (await rs.json()) as unknown as { meta: ColumnMeta[]; data: unknown[][] };
      ok = true;
      return { meta: body.meta, rows: body.data };
    } catch (err) {
      if (this.cancelled) throw new QueryCancelled(`query cancelled: ${this.cancelled}`);
      throw err;
    } finally {
      this.running.delete(id);
      if (!ok) await lease.recover().catch(() => this.broken.add(lease));
      this.give(lease);
    }
  }

  /** Stops the running queries in the engine and refuses the queued ones. */
  cancel(why: string): void {
    if (this.cancelled || this.closed) return;
    this.cancelled = why;
    this.abort.abort();
    for (const w of this.waiting.splice(0)) w.reject(new QueryCancelled(`query cancelled: ${why}`));
    if (this.running.size === 0) return;
    this.options.metrics?.cancelled.inc(this.running.size);
    this.options.logger?.info({ queries: this.running.size, why }, 'dashboard queries cancelled');
    const kill = (): void => {
      for (const id of this.running) {
        killTaggedQuery(this.options.store.writer, id).catch((err: unknown) => this.options.logger?.warn({ err, queryId: id }, 'could not cancel dashboard query'));
      }
    };
    kill();
    // A KILL that lands before the engine has registered the query finds nothing: repeat until they end.
    this.rekill = setInterval(() => (this.running.size > 0 ? kill() : clearInterval(this.rekill)), KILL_RETRY_MS);
    this.rekill.unref();
  }

  /** Gives every reader back (those still running a query: when it ends). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.active?.delete(this.cancelFn);
    for (const w of this.waiting.splice(0)) w.reject(new QueryCancelled('request finished'));
    for (const lease of this.free.splice(0)) void this.release(lease);
  }

  /** Cancels the queries when the client leaves before the answer is complete. */
  cancelOnClose(res: Response): void {
    res.on('close', () => {
      if (!res.writableFinished) this.cancel('client disconnected');
    });
  }

  private take(): Promise<ReaderLease> {
    if (this.cancelled) return Promise.reject(new QueryCancelled(`query cancelled: ${this.cancelled}`));
    if (this.closed) return Promise.reject(new QueryCancelled('request finished'));
    const lease = this.free.pop();
    if (lease) return Promise.resolve(lease);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private give(lease: ReaderLease): void {
    if (this.closed) {
      void this.release(lease);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(lease);
    else this.free.push(lease);
  }

  private async release(lease: ReaderLease): Promise<void> {
    if (this.running.size === 0 && this.rekill) clearInterval(this.rekill);
    await lease.release(this.broken.has(lease)).catch((err: unknown) => this.options.logger?.warn({ err }, 'could not release a reader'));
  }
}
