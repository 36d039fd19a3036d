// The conversation-signals job (processor/src/derive/conversation-signals.ts, migration 0027): the stored signals
// equal conversation_turn_signals' answer at the job's instant (computed independently in TypeScript:
// conversation-expected.ts), also when a next request or feedback arrives after a first pass (late arrival), when a
// new job instance continues on the same store (restart), and per tenant.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { generateConversations, IMPLICIT_DEFAULTS, loadDirect, startOfCurrentHourMs, syntheticPriceBook, type ConversationDataset } from '../../tools/synthetic/index.js';
import { ConversationSignalsJob } from '../../processor/src/derive/conversation-signals.js';
import { discoverTenantTables, TenantFilter } from '../../processor/src/query/tenant-scope.js';
import { queryReadOnly } from '../../processor/src/query/read-only.js';
import { loadConfig } from '../../processor/src/config.js';
import { expectedTurns, type Turn } from './conversation-expected.js';
import type { SynthDataset } from '../../tools/synthetic/index.js';
import type { Row } from './expected.js';

let proc: TestProcessor;
let ds: ConversationDataset;
let priceDir: string;
let pricesFile: string;

const TH = { ...IMPLICIT_DEFAULTS };
const OPTIONS = { thresholds: TH, intervalSeconds: 0, longestRequestMin: 10, insertSlackMs: 0 };

beforeAll(async () => {
  priceDir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
  pricesFile = join(priceDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  // The processor's own job has no timer here: only the passes this file runs, at the instants it chooses.
  proc = await startProcessor({ RAGSCOPE_PRICES_FILE: pricesFile, RAGSCOPE_SIGNALS_INTERVAL_SECONDS: '0' });
  ds = generateConversations({ seed: 'signals-job-test', conversations: 80, days: 2, endMs: startOfCurrentHourMs(testNow()) });
}, 300_000);

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
  if (priceDir) removeDir(priceDir);
});

const sqlTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const load = (tenant: string, part: SynthDataset) => loadDirect(proc.processor.store.writer, part, { tenant, order: 'shuffled', batchSpans: 500, pricesFile, now: testNow });
const newJob = (at: number, options = OPTIONS) => new ConversationSignalsJob(proc.processor.store.writer, () => at, options);

async function stored(tenant: string): Promise<Row[]> {
  return proc.query<Row>(
    `SELECT TraceId, Outcome, Repeat, Reformulation, FollowUp, Abandoned, AbandonedAfterFailure, Open, EngagementMs, Feedback, ThumbsDown, NextRequestId
     FROM stored_turn_signals(tenant = '${tenant}', from = '${sqlTime(ds.fromMs)}', to = '${sqlTime(ds.toMs)}')`,
  );
}

/** Every expected answer stored once, with its signals. */
async function expectStored(tenant: string, expected: Turn[], label: string): Promise<void> {
  expect(expected.length, `${label}: expected answers`).toBeGreaterThan(50);
  const rows = await stored(tenant);
  expect(rows.length, `${label}: one row per answer`).toBe(expected.length);
  const got = new Map(rows.map((r) => [String(r.TraceId), r]));
  for (const t of expected) {
    const a = got.get(t.req.traceId);
    const where = `${label} ${t.req.traceId}`;
    expect(a, where).toBeDefined();
    expect(a!.Outcome, where).toBe(t.outcome);
    expect([a!.Repeat, a!.Reformulation, a!.FollowUp, a!.Abandoned, a!.AbandonedAfterFailure, a!.Open].map(Number), where).toEqual(
      [t.repeat, t.reformulation, t.followUp, t.abandoned, t.abandonedAfterFailure, t.open].map(Number),
    );
    if (t.engagementMs === null) expect(a!.EngagementMs, where).toBeNull();
    else expect(Math.abs(Number(a!.EngagementMs) - t.engagementMs), where).toBeLessThanOrEqual(1.0001);
    expect(Number(a!.Feedback), where).toBe(t.feedback);
    expect(Number(a!.ThumbsDown), where).toBe(t.thumbsDown);
    expect(a!.NextRequestId, where).toBe(t.next?.req.traceId ?? '');
  }
}

describe('conversation signals job', { timeout: 240_000 }, () => {
  it('late arrival: a next request and feedback stored after a pass change the earlier answers at the next pass; restart continues from the stored mark', async () => {
    const tenant = 'late';
    const all = expectedTurns(ds, ds.fromMs, ds.toMs, TH);
    // Held back: the next request of 20 answers that were followed up (first half of the data), every feedback,
    // and (for the restart) the next request of 10 answers followed up in the second half.
    const mid = (ds.fromMs + ds.toMs) / 2;
    const followed = all.filter((t) => t.followUp && t.next !== null);
    const late1 = followed.filter((t) => t.startMs < mid).slice(0, 20).map((t) => t.next!.req.traceId);
    const late2 = followed.filter((t) => t.startMs >= mid + 3_600_000).slice(0, 10).map((t) => t.next!.req.traceId);
    expect(late1.length).toBe(20);
    expect(late2.length).toBe(10);
    const held = new Set([...late1, ...late2]);
    const part1: SynthDataset = { ...ds, requests: ds.requests.filter((r) => !held.has(r.traceId)), feedback: [] };
    await load(tenant, part1);

    const at = ds.toMs;
    const job = newJob(at);
    const first = (await job.refresh()).find((p) => p.tenant === tenant)!;
    expect(first.full).toBe(true);
    const before = expectedTurns(part1, ds.fromMs, ds.toMs, TH);
    await expectStored(tenant, before, 'first pass');
    // Without their next request, most of those answers ended otherwise (abandoned, or another next question).
    const finalOutcome = new Map(all.map((t) => [t.req.traceId, t.outcome]));
    const prevs = before.filter((t) => all.some((a) => a.req.traceId === t.req.traceId && a.next !== null && late1.includes(a.next.req.traceId)));
    expect(prevs.length).toBeGreaterThan(10); // (some held-back requests are themselves the answer before another)
    expect(prevs.filter((t) => t.outcome !== finalOutcome.get(t.req.traceId)).length).toBeGreaterThan(5);

    // The held-back requests of the first half and all feedback arrive late; a pass at the same instant.
    await load(tenant, { ...ds, requests: ds.requests.filter((r) => late1.includes(r.traceId)), feedback: ds.feedback, evaluations: [] });
    const second = (await job.refresh()).find((p) => p.tenant === tenant)!;
    expect(second.full).toBe(false);
    const afterLate1 = expectedTurns({ ...ds, requests: ds.requests.filter((r) => !late2.includes(r.traceId)) }, ds.fromMs, ds.toMs, TH);
    await expectStored(tenant, afterLate1, 'after late arrival');
    expect(afterLate1.filter((t) => t.feedback > 0).length).toBeGreaterThan(20);

    // Restart: a new job instance on the same store continues from the stored marks (no full recompute; its
    // window starts near the new requests, not at the data's start) and stores the exact answer.
    await load(tenant, { ...ds, requests: ds.requests.filter((r) => late2.includes(r.traceId)), feedback: [], evaluations: [] });
    const restarted = newJob(at);
    const third = (await restarted.refresh()).find((p) => p.tenant === tenant)!;
    expect(third.full).toBe(false);
    expect(third.from!.getTime()).toBeGreaterThan(mid);
    await expectStored(tenant, all, 'after restart');

    // A pass with nothing new changes nothing, and stores nothing twice.
    await restarted.refresh();
    await expectStored(tenant, all, 'idle pass');
    await restarted.stop();
    await job.stop();
  });

  it('the thresholds are the job configuration: other thresholds recompute every request with them', async () => {
    const tenant = 'thresholds';
    await load(tenant, ds);
    const th = { ...TH, reformulationMaxDistance: 0, repeatWindowMin: 0 };
    const job = newJob(ds.toMs, { ...OPTIONS, thresholds: th });
    expect((await job.refresh()).find((p) => p.tenant === tenant)!.full).toBe(true);
    const other = expectedTurns(ds, ds.fromMs, ds.toMs, th);
    await expectStored(tenant, other, 'other thresholds');
    const defaults = newJob(ds.toMs);
    const pass = (await defaults.refresh()).find((p) => p.tenant === tenant)!;
    expect(pass.full, 'changed thresholds → full recompute').toBe(true);
    const expected = expectedTurns(ds, ds.fromMs, ds.toMs, TH);
    expect(expected.filter((t) => t.reformulation).length).toBeGreaterThan(other.filter((t) => t.reformulation).length);
    await expectStored(tenant, expected, 'default thresholds');
  });

  it('a late span that moves a request\'s start to the previous day leaves one row, under the new day', async () => {
    const tenant = 'midnight';
    const midnight = Math.floor(testNow() / 86_400_000) * 86_400_000;
    const src = ds.requests.find((r) => r.spans.length >= 3)!;
    const byStart = [...src.spans].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
    expect(byStart[0]!.parentSpanId).toBe('');
    expect(byStart[1]!.startNs).toBeGreaterThan(byStart[0]!.startNs);
    // Shifted so that every span but the root starts at or after midnight, and the root before it.
    const shift = BigInt(midnight) * 1_000_000n - byStart[1]!.startNs;
    const moved = { ...src, startNs: src.startNs + shift, endNs: src.endNs + shift, spans: src.spans.map((sp) => ({ ...sp, startNs: sp.startNs + shift, endNs: sp.endNs + shift })) };
    const only = (spans: typeof moved.spans): SynthDataset => ({ ...ds, requests: [{ ...moved, spans }], feedback: [], evaluations: [] });
    await loadDirect(proc.processor.store.writer, only(moved.spans.filter((sp) => sp.parentSpanId !== '')), { tenant, order: 'natural', pricesFile, now: testNow });
    const job = newJob(midnight + 3_600_000);
    await job.refresh();
    const days = async () =>
      proc.query<{ Day: string; IsDeleted: number }>(`SELECT toString(Day) AS Day, IsDeleted FROM conversation_signals FINAL WHERE TenantId = '${tenant}' AND TraceId = '${src.traceId}'`);
    const today = new Date(midnight).toISOString().slice(0, 10);
    const yesterday = new Date(midnight - 86_400_000).toISOString().slice(0, 10);
    expect((await days()).map((r) => r.Day)).toEqual([today]);
    await loadDirect(proc.processor.store.writer, only(moved.spans.filter((sp) => sp.parentSpanId === '')), { tenant, order: 'natural', pricesFile, now: testNow });
    await job.refresh();
    expect((await days()).map((r) => r.Day)).toEqual([yesterday]);
    const rows = await proc.query<{ TraceId: string }>(
      `SELECT TraceId FROM stored_turn_signals(tenant = '${tenant}', from = '${sqlTime(midnight - 86_400_000)}', to = '${sqlTime(midnight + 86_400_000)}')`,
    );
    expect(rows.map((r) => r.TraceId)).toEqual([src.traceId]);
    await job.stop();
  });

  it('tenants: the table is under the tenant filter, and each tenant reads only its own stored rows', async () => {
    expect(await discoverTenantTables(proc.processor.store.writer, proc.processor.config.database)).toContain('conversation_signals');
    const late = new Set((await stored('late')).map((r) => String(r.TraceId)));
    const other = (await stored('thresholds')).map((r) => String(r.TraceId));
    expect(late.size).toBeGreaterThan(50);
    expect(other.length).toBe(late.size); // the same dataset under two tenants: same trace ids, one row each
    const [n] = await proc.query<{ n: string }>(`SELECT count() AS n FROM stored_turn_signals(tenant = 'nobody', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00')`);
    expect(Number(n!.n)).toBe(0);
    // Under 'late''s tenant filter (what a tenant credential's server-defined SQL runs with), the other tenant's
    // stored signals read as nothing, its own as before.
    const { store } = proc.processor;
    const scoped = new TenantFilter(store.database, await discoverTenantTables(store.writer, store.database)).settingsFor('late');
    const read = async (tenant: string) =>
      (await queryReadOnly(store, { query: `SELECT TraceId FROM stored_turn_signals(tenant = '${tenant}', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00')` }, scoped)).rows;
    expect(await read('thresholds')).toEqual([]);
    expect((await read('late')).length).toBe(late.size);
  });

  it('the timer runs passes by itself, and stop() waits for a running one', async () => {
    const job = new ConversationSignalsJob(proc.processor.store.writer, () => ds.toMs, { ...OPTIONS, intervalSeconds: 1 });
    const before = await proc.query<{ n: string }>(`SELECT count() AS n FROM conversation_signals_state`);
    job.start();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [r] = await proc.query<{ n: string }>(`SELECT count() AS n FROM conversation_signals_state`);
      if (Number(r!.n) > Number(before[0]!.n)) break;
      if (Date.now() > deadline) throw new Error('no pass within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await job.stop();
    await expect(job.refresh()).rejects.toThrow(/stopped/);
  });

  it('configuration: RAGSCOPE_SIGNALS_* are validated, defaults are the documented thresholds', () => {
    expect(loadConfig({}).signals).toEqual({ intervalSeconds: 30, thresholds: { ...IMPLICIT_DEFAULTS }, longestRequestMin: 10 });
    expect(IMPLICIT_DEFAULTS).toEqual({ repeatWindowMin: 10, reformulationWindowMin: 5, reformulationMaxDistance: 12, sessionTimeoutMin: 30 });
    expect(() => loadConfig({ RAGSCOPE_SIGNALS_REFORMULATION_MAX_DISTANCE: '65' })).toThrow(/RAGSCOPE_SIGNALS_REFORMULATION_MAX_DISTANCE/);
    expect(() => loadConfig({ RAGSCOPE_SIGNALS_SESSION_TIMEOUT_MIN: 'soon' })).toThrow(/RAGSCOPE_SIGNALS_SESSION_TIMEOUT_MIN/);
  });
});
