import type { Clock } from '../clock.js';

/**
 * Variable options for a few seconds: a dashboard's variable queries (DISTINCT over a daily rollup, for a
 * date range: the same SQL all day) run once for every load, refresh and variable change, and before any
 * panel can start. Keyed by the exact SQL sent, so a new range or an upstream selection is a new query;
 * answers the same to every client, because every client of the viewer may read the same data.
 * Failures are not kept.
 */
export class VariableCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: Clock,
    private readonly maxEntries = 500,
  ) {}

  get(sql: string, load: () => Promise<T>): Promise<T> {
    const t = this.now();
    const hit = this.entries.get(sql);
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.evictOlderThan(t - this.ttlMs);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const value = load();
    const entry = { at: t, value };
    this.entries.set(sql, entry);
    value.catch(() => {
      if (this.entries.get(sql) === entry) this.entries.delete(sql);
    });
    return value;
  }

  private evictOlderThan(limit: number): void {
    for (const [k, e] of this.entries) if (e.at < limit) this.entries.delete(k);
  }
}
