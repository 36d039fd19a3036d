// A real processor (ephemeral port, embedded ClickHouse in a temp dir) filled with seeded synthetic
// traffic ending at a fixed instant, through the processor's own pipeline (loadDirect). Retention is
// long so the data is accepted whatever today's date is.
import { generateDataset, loadDirect, type DirectStats, type SynthDataset } from '../../tools/synthetic/index.js';
import { startProcessor, type TestProcessor } from '../helpers/processor.js';

/** The fixed instant the browser tests' data ends at (a Friday, 13:00 UTC). */
export const END_MS = Date.UTC(2026, 10, 20, 13);
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Retention long enough that the data is never refused for years (36 500 would overflow DateTime in the table TTL and drop rows). */
const TTL_DAYS = 3650;

export interface Seeded {
  p: TestProcessor;
  ds: SynthDataset;
  stats: DirectStats;
}

export async function startSeeded(opts: { seed: string; requests: number; days: number; env?: Record<string, string> }): Promise<Seeded> {
  const p = await startProcessor({ RAGSCOPE_RAW_TTL_DAYS: String(TTL_DAYS), RAGSCOPE_ROLLUP_TTL_DAYS: String(TTL_DAYS), ...opts.env });
  const ds = generateDataset({ seed: opts.seed, requests: opts.requests, days: opts.days, endMs: END_MS });
  const stats = await loadDirect(p.processor.store.writer, ds, { rawTtlDays: TTL_DAYS, now: () => END_MS });
  if (stats.rejectedSpans > 0) throw new Error(`${stats.rejectedSpans} synthetic spans were refused`);
  // The conversation and implicit-feedback panels read the stored signals (migration 0027): one pass of the job now.
  await p.processor.conversationSignals.refresh();
  return { p, ds, stats };
}
