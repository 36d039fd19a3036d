// captured_query_texts (migration 0029): the captured retrieval query texts, per trace, that top_question_clusters
// labels clusters with. Filled by a materialized view on otel_traces for new spans, and by the migration's backfill
// for the spans a store already holds when it upgrades; both must hold exactly the texts otel_traces holds.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../processor/src/config.js';
import { openStore, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { DEFAULT_MIGRATIONS_DIR, listMigrations, migrate, splitStatements, substituteVariables } from '../../processor/src/store/migrations.js';
import { ConversationSignalsJob } from '../../processor/src/derive/conversation-signals.js';
import { SIGNAL_THRESHOLD_DEFAULTS } from '../../processor/src/config.js';
import { generateDataset, loadDirect, startOfCurrentHourMs, syntheticPriceBook, type SynthDataset } from '../../tools/synthetic/index.js';
import { testNow } from '../helpers/clock.js';
import { removeDir } from '../helpers/processor.js';

const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
const dir = mkdtempSync(join(tmpdir(), 'ragscope-captured-texts-'));
let store: StoreClients;
let pricesFile: string;

/** trace id → the captured retrieval query texts the dataset sent (content capture is on for a share of requests). */
function capturedTexts(ds: SynthDataset): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of ds.requests) {
    for (const s of r.spans) {
      const text = s.attributes['gen_ai.retrieval.query.text'];
      if (s.name.startsWith('retrieval') && typeof text === 'string' && text !== '') out.set(r.traceId, [...(out.get(r.traceId) ?? []), text]);
    }
  }
  return out;
}

async function stored(tenant: string): Promise<Map<string, string[]>> {
  const rs = await store.writer.query({
    query: 'SELECT TraceId, arraySort(groupArray(QueryText)) AS texts FROM captured_query_texts WHERE TenantId = {tenant:String} GROUP BY TraceId',
    query_params: { tenant },
    format: 'JSONEachRow',
  });
  return new Map((await rs.json<{ TraceId: string; texts: string[] }>()).map((r) => [r.TraceId, r.texts]));
}

const sorted = (m: Map<string, string[]>) => new Map([...m].map(([k, v]) => [k, [...v].sort()]));

beforeAll(async () => {
  pricesFile = join(dir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  store = await openStore(loadConfig({ RAGSCOPE_DATA_DIR: join(dir, 'data') }), { timeoutSeconds: 60, maxRows: 1e6, maxMemoryBytes: 1 << 30, maxResultBytes: 1 << 28 });
  // The schema as it was before 0029.
  const before = join(dir, 'migrations-before-0029');
  mkdirSync(before);
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR)) if (f.endsWith('.sql') && f < '0029') copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(before, f));
  await migrate(store.writer, VARS, before);
}, 120_000);

afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

describe('captured_query_texts', () => {
  const endMs = startOfCurrentHourMs(testNow());
  const old = generateDataset({ seed: 'captured-texts-old', requests: 400, days: 2, endMs: endMs - 2 * 86_400_000, withFeedback: false });
  const fresh = generateDataset({ seed: 'captured-texts-new', requests: 400, days: 2, endMs, withFeedback: false });

  it('the upgrade copies the texts the store already holds (backfill)', async () => {
    await loadDirect(store.writer, old, { tenant: 'acme', pricesFile, now: testNow });
    const result = await migrate(store.writer, VARS);
    expect(result.applied).toContain('0029_captured_query_texts.sql');
    const expected = capturedTexts(old);
    expect(expected.size, 'the dataset captures some texts').toBeGreaterThan(20);
    expect(expected.size, 'and leaves some requests uncaptured').toBeLessThan(old.requests.length);
    expect(sorted(await stored('acme'))).toEqual(sorted(expected));
  });

  it('new spans are copied by the materialized view, under their tenant', async () => {
    await loadDirect(store.writer, fresh, { tenant: 'globex', pricesFile, now: testNow });
    const expected = capturedTexts(fresh);
    expect(expected.size).toBeGreaterThan(20);
    expect(sorted(await stored('globex'))).toEqual(sorted(expected));
    // The earlier tenant's rows are untouched.
    expect(sorted(await stored('acme'))).toEqual(sorted(capturedTexts(old)));
  });

  it('the conversation-signals job marks every stored request that has a captured text; the upgrade marks rows stored before it', async () => {
    const job = new ConversationSignalsJob(store.writer, testNow, { thresholds: SIGNAL_THRESHOLD_DEFAULTS, intervalSeconds: 0, longestRequestMin: 60 });
    await job.refresh();
    await job.stop();
    const marked = async (tenant: string) => {
      const rs = await store.writer.query({
        query: 'SELECT TraceId FROM conversation_signals FINAL WHERE TenantId = {tenant:String} AND IsDeleted = 0 AND TextCaptured = 1',
        query_params: { tenant },
        format: 'JSONEachRow',
      });
      return new Set((await rs.json<{ TraceId: string }>()).map((r) => r.TraceId));
    };
    const stored = async (tenant: string) => {
      const rs = await store.writer.query({ query: 'SELECT count() AS n FROM conversation_signals FINAL WHERE TenantId = {tenant:String} AND IsDeleted = 0', query_params: { tenant }, format: 'JSONEachRow' });
      return Number((await rs.json<{ n: string }>())[0]!.n);
    };
    for (const [tenant, ds] of [['acme', old], ['globex', fresh]] as const) {
      expect(await stored(tenant), `${tenant}: the job stored its requests`).toBe(ds.requests.length);
      expect(await marked(tenant)).toEqual(new Set(capturedTexts(ds).keys()));
    }
    // Rows as a processor before 0029 stored them (no mark), then the migration's marking statement again.
    await store.writer.command({
      query: `INSERT INTO conversation_signals SETTINGS insert_deduplicate = 0
              SELECT * REPLACE (0 AS TextCaptured, Version + 1 AS Version) FROM (SELECT * FROM conversation_signals FINAL WHERE TenantId = 'acme')`,
    });
    expect((await marked('acme')).size).toBe(0);
    const migration = listMigrations().find((m) => m.file === '0029_captured_query_texts.sql')!;
    const marking = splitStatements(substituteVariables(migration.sql, VARS, migration.file)).filter((s) => /INSERT INTO conversation_signals/.test(s));
    expect(marking).toHaveLength(1);
    await store.writer.command({ query: marking[0]! });
    expect(await marked('acme')).toEqual(new Set(capturedTexts(old).keys()));
    expect(await stored('acme')).toBe(old.requests.length);
  });
});
