// request_facts (migration 0028), the narrow per-request table the confidence and feedback-join queries read, checked
// against answers computed in TypeScript from the generated records, as a user upgrading meets it:
//   1. a store at migration 0027 receives traffic: every span of the oldest day's requests, and a random half of
//      every other request's spans (shuffled, small batches); then the oldest day's raw spans are deleted (the raw
//      retention has passed for them; request_rollup keeps them);
//   2. migration 0028 runs: its view, then the backfills (from genai_spans, and from request_rollup for the days
//      whose spans are gone);
//   3. the other half of the spans arrives (shuffled, small batches) through the view;
//   4. 0028's statements run again, as an interrupted migration would be re-applied: nothing may count twice.
// After 3 and after 4, every request's start, experiment, variant, last model and latest confidence must match,
// and the request_confidence view must agree with the requests view (request_rollup) request by request.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../processor/src/config.js';
import { openStore, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { DEFAULT_MIGRATIONS_DIR, listMigrations, migrate, renderMigration } from '../../processor/src/store/migrations.js';
import { generateDataset, loadDirect, startOfCurrentHourMs, syntheticPriceBook, type SynthDataset, type SynthRequest } from '../../tools/synthetic/index.js';
import { removeDir } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { expectedRequest, nsToMs, requestsInRange, startOfDayMs } from './expected.js';

const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
let dir: string;
let store: StoreClients;
let ds: SynthDataset;
let pricesFile: string;
let oldDayEndMs: number;

interface FactRow {
  TraceId: string;
  startUs: string;
  experiment: string;
  variant: string;
  model: string;
  hasConfidence: number;
  confidence: number;
}

const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

async function rows<T>(query: string): Promise<T[]> {
  return (await store.writer.query({ query, format: 'JSONEachRow' })).json<T>();
}

async function facts(): Promise<Map<string, FactRow>> {
  const out = await rows<FactRow>(`
    SELECT any(TraceId) AS TraceId, toString(toUnixTimestamp64Micro(min(StartTime))) AS startUs, max(Experiment) AS experiment,
           max(Variant) AS variant, max(LastModel).2 AS model, toUInt8(max(ConfidenceKey) > 0) AS hasConfidence,
           reinterpretAsFloat64(toUInt64(bitAnd(max(ConfidenceKey), toUInt128('18446744073709551615')))) AS confidence
    FROM request_facts GROUP BY TenantId, TraceKey`);
  return new Map(out.map((r) => [r.TraceId, r]));
}

function half(ds: SynthDataset, pick: (r: SynthRequest, spanIndex: number) => boolean): SynthDataset {
  return { ...ds, requests: ds.requests.map((r) => ({ ...r, spans: r.spans.filter((_, i) => pick(r, i)) })).filter((r) => r.spans.length > 0), feedback: [], evaluations: [] };
}

// A fixed split per span (a hash of trace and position), so the halves are the same on every run.
const inFirstHalf = (r: SynthRequest, i: number) => (parseInt(r.traceId.slice(-6), 16) + i * 7) % 2 === 0;
const isOld = (r: SynthRequest) => nsToMs(r.startNs) < oldDayEndMs;

function expectFactsMatch(got: Map<string, FactRow>, label: string): void {
  expect(ds.requests.length).toBeGreaterThan(500);
  expect(got.size, `${label}: one row per request`).toBe(ds.requests.length);
  for (const r of ds.requests) {
    const f = got.get(r.traceId);
    const want = expectedRequest(r);
    expect(f, `${label}: ${r.traceId}`).toBeDefined();
    expect(Math.abs(Number(f!.startUs) / 1000 - want.startMs), `${label}: start of ${r.traceId}`).toBeLessThan(0.001);
    expect([f!.experiment, f!.variant, f!.model], `${label}: ${r.traceId}`).toEqual([r.experiment, r.variant, want.model]);
    expect(f!.hasConfidence, `${label}: has confidence ${r.traceId}`).toBe(r.confidence === null ? 0 : 1);
    if (r.confidence !== null) expect(f!.confidence, `${label}: confidence of ${r.traceId}`).toBe(r.confidence);
  }
}

async function expectViewsAgree(label: string): Promise<void> {
  const from = sqlTime(ds.fromMs - 86_400_000);
  const to = sqlTime(ds.toMs + 86_400_000);
  const viaFacts = await rows<{ TraceId: string; StartTime: string; Confidence: number }>(`
    SELECT f.TraceId AS TraceId, c.StartTime AS StartTime, c.Confidence AS Confidence
    FROM request_confidence(tenant = 'default', from = '${from}', to = '${to}') AS c
    INNER JOIN (SELECT TraceKey, any(TraceId) AS TraceId FROM request_facts GROUP BY TraceKey) AS f ON f.TraceKey = c.TraceKey
    ORDER BY TraceId`);
  const viaRollup = await rows<{ TraceId: string; StartTime: string; Confidence: number }>(`
    SELECT TraceId, StartTime, Confidence FROM requests(tenant = 'default', from = '${from}', to = '${to}')
    WHERE Confidence IS NOT NULL ORDER BY TraceId`);
  expect(viaRollup.length, label).toBe(ds.requests.filter((r) => r.confidence !== null).length);
  expect(viaFacts, label).toEqual(viaRollup);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragscope-request-facts-'));
  pricesFile = join(dir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  ds = generateDataset({ seed: 'request-facts', requests: 700, days: 3, endMs: startOfCurrentHourMs(testNow()) });
  oldDayEndMs = startOfDayMs(ds.fromMs) + 86_400_000;
  store = await openStore(loadConfig({ RAGSCOPE_DATA_DIR: join(dir, 'data') }), { timeoutSeconds: 60, maxRows: 1_000_000, maxMemoryBytes: 1 << 30, maxResultBytes: 1 << 28 });
  // 1. the store as it was before 0028
  const before = join(dir, 'migrations-0027');
  mkdirSync(before);
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '0028')) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
  await migrate(store.writer, VARS, before);
  const first = half(ds, (r, i) => isOld(r) || inFirstHalf(r, i));
  await loadDirect(store.writer, first, { pricesFile, order: 'shuffled', batchSpans: 250, skipTraces: true, now: () => testNow() });
  await store.writer.command({ query: `ALTER TABLE genai_spans DELETE WHERE Timestamp < toDateTime64('${sqlTime(oldDayEndMs)}', 9) SETTINGS mutations_sync = 2` });
  // 2. the upgrade
  const result = await migrate(store.writer, VARS);
  expect(result.applied[0]).toBe('0028_request_facts.sql');
  // 3. the rest of the traffic
  await loadDirect(store.writer, half(ds, (r, i) => !isOld(r) && !inFirstHalf(r, i)), { pricesFile, order: 'shuffled', batchSpans: 250, skipTraces: true, now: () => testNow() });
}, 300_000);

afterAll(async () => {
  await store?.close();
  if (dir) removeDir(dir);
});

describe('request_facts (migration 0028)', () => {
  it('the setup is meaningful: old requests only in request_rollup, split requests, revised confidences', async () => {
    const old = ds.requests.filter(isOld);
    expect(old.length).toBeGreaterThan(50);
    const [raw] = await rows<{ n: string; oldest: string }>(`SELECT count() AS n, toString(min(Timestamp)) AS oldest FROM genai_spans`);
    expect(Number(raw!.n)).toBeGreaterThan(1000);
    expect(Date.parse(raw!.oldest.replace(' ', 'T') + 'Z')).toBeGreaterThanOrEqual(oldDayEndMs);
    const split = ds.requests.filter((r) => !isOld(r) && r.spans.some((_, i) => inFirstHalf(r, i)) && r.spans.some((_, i) => !inFirstHalf(r, i)));
    expect(split.length).toBeGreaterThan(300);
    const revised = ds.requests.filter((r) => r.spans.filter((s) => 'ragscope.answer.confidence' in s.attributes).length === 2);
    expect(revised.filter((r) => isOld(r)).length).toBeGreaterThan(3);
    expect(revised.filter((r) => !isOld(r)).length).toBeGreaterThan(10);
    expect(requestsInRange(ds, oldDayEndMs, ds.toMs).some((r) => r.confidence === null)).toBe(true);
  });

  it('backfill + live rows: every request exact, whatever the arrival order and split', async () => {
    expectFactsMatch(await facts(), 'after upgrade and live traffic');
    await expectViewsAgree('after upgrade and live traffic');
  });

  it('re-applying the migration (backfills run twice) changes nothing', async () => {
    const migration = listMigrations().find((m) => m.file === '0028_request_facts.sql')!;
    const statements = renderMigration(migration, VARS);
    expect(statements.filter((s) => /^INSERT INTO request_facts/.test(s.replace(/^--.*\n/gm, '')))).toHaveLength(2);
    for (const statement of statements) await store.writer.command({ query: statement });
    expectFactsMatch(await facts(), 'after re-applying 0028');
    await expectViewsAgree('after re-applying 0028');
  });
});
