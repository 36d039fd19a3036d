// Migration 0032 on a store that already holds feedback: feedback_latest and feedback_in_range pick each feedback
// id's latest version with FINAL instead of a GROUP BY with argMax. Every view, named query and panel that reads
// feedback goes through them, so the answers must not move: the same rows, columns and types, for ranges that
// cut through versions of one id (an earlier version before `from`, a later one at or after `to`), for feedback that
// named only a response id, for another tenant's feedback, and for a version stored twice.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insertRows } from '../../processor/src/store/clickhouse.js';
import type { Row } from '../../processor/src/store/write-queue.js';
import { migrate } from '../../processor/src/store/migrations.js';
import { runNamedQuery } from '../../processor/src/query/named-queries.js';
import { generateDataset, loadDirect, syntheticPriceBook } from '../../tools/synthetic/index.js';
import { testNow } from '../helpers/clock.js';
import { useScratchStore } from '../helpers/scratch-store.js';

const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const scratch = useScratchStore('feedback-final', VARS, '0032');

const now = testNow();
const rangeTo = now - DAY;
const rangeFrom = rangeTo - 3 * DAY;

async function rows<T = Record<string, unknown>>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await scratch.store.writer.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<T>();
}

function ts(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

/** One stored feedback version; Version is its time in ns, as the processor writes it. */
function version(tenant: string, id: string, timeMs: number, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    TenantId: tenant, FeedbackId: id, Version: (BigInt(timeMs) * 1_000_000n).toString(), Timestamp: ts(timeMs),
    Source: 'api', Name: 'user_feedback', Kind: 'thumbs', Thumbs: 'up', Rating: null, Value: 1, NormalizedScore: 1,
    Label: '', Comment: '', Tags: [], UserId: 'u-edge', TraceId: '', SpanId: '', ResponseId: '', ServiceName: 'edge', ...fields,
  };
}

// Versions that straddle the range's bounds, resolution through response_lookup, another tenant, a duplicate.
const TRACE = (n: number): string => n.toString(16).padStart(32, 'e');
const EDGE_FEEDBACK = [
  // before `from`, then inside: in range with its second version
  version('default', 'edge-a', rangeFrom - 2 * HOUR, { TraceId: TRACE(1), Thumbs: 'up' }),
  version('default', 'edge-a', rangeFrom + HOUR, { TraceId: TRACE(1), Kind: 'thumbs', Thumbs: 'down', Value: 0, NormalizedScore: 0 }),
  // inside, then at `to`: out of the range (its latest version is not in it)
  version('default', 'edge-b', rangeFrom + 2 * HOUR, { TraceId: TRACE(2) }),
  version('default', 'edge-b', rangeTo, { TraceId: TRACE(2), Thumbs: 'down', Value: 0, NormalizedScore: 0 }),
  // two versions inside: the later one
  version('default', 'edge-c', rangeFrom + 3 * HOUR, { TraceId: TRACE(3), Kind: 'rating', Thumbs: '', Rating: 5, Value: 5, NormalizedScore: 1 }),
  version('default', 'edge-c', rangeFrom + 4 * HOUR, { TraceId: TRACE(3), Kind: 'rating', Thumbs: '', Rating: 2, Value: 2, NormalizedScore: 0.25, Comment: 'changed my mind' }),
  // only before `from`
  version('default', 'edge-d', rangeFrom - HOUR, { TraceId: TRACE(4) }),
  // named only a response id: linked through response_lookup; and one whose response is unknown
  version('default', 'edge-e', rangeFrom + 5 * HOUR, { ResponseId: 'resp-edge-e', Thumbs: 'down', Value: 0, NormalizedScore: 0 }),
  version('default', 'edge-f', rangeFrom + 6 * HOUR, { ResponseId: 'resp-unknown' }),
  // another tenant, same id as one of default's
  version('acme', 'edge-c', rangeFrom + 7 * HOUR, { TraceId: TRACE(5), Thumbs: 'down', Value: 0, NormalizedScore: 0 }),
  // just before `to`, stored twice (a retried insert that was not deduplicated)
  version('default', 'edge-g', rangeTo - 1000, { TraceId: TRACE(6), Kind: 'score', Thumbs: '', Value: 0.3, NormalizedScore: 0.3 }),
];

const IN_RANGE = `SELECT * FROM feedback_in_range(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
  ORDER BY TenantId, FeedbackId`;
const LOW_RATED = `SELECT * FROM low_rated_feedback(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime})
  ORDER BY TenantId, FeedbackId`;
const LATEST = 'SELECT * FROM feedback_latest ORDER BY TenantId, FeedbackId';
const DAILY = 'SELECT * FROM feedback_daily ORDER BY TenantId, Day';
const columnsOf = (view: string): string =>
  `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${view}' ORDER BY position`;
const FEEDBACK_QUERIES = ['ab_variant_comparison', 'confidence_by_rating', 'feedback_rate_and_ratings', 'low_rated_requests', 'thumbs_down_by_model', 'thumbs_down_by_variant'];

const RANGES: [string, number, number][] = [
  ['the edge range', rangeFrom, rangeTo],
  ['the whole week', now - 7 * DAY, now],
  ['the hour before edge-c\'s latest version', rangeFrom + 3 * HOUR, rangeFrom + 4 * HOUR],
];

async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const view of ['feedback_latest', 'feedback_in_range', 'low_rated_feedback', 'feedback_daily']) out[`columns ${view}`] = await rows(columnsOf(view));
  out.latest = await rows(LATEST);
  out.daily = await rows(DAILY);
  for (const tenant of ['default', 'acme']) {
    for (const [label, from, to] of RANGES) {
      const params = { tenant, from: ts(from).slice(0, 19), to: ts(to).slice(0, 19) };
      out[`in range ${tenant} ${label}`] = await rows(IN_RANGE, params);
      out[`low rated ${tenant} ${label}`] = await rows(LOW_RATED, params);
    }
  }
  for (const name of FEEDBACK_QUERIES) {
    out[`query ${name}`] = roundFloats(await runNamedQuery(scratch.store.writer, name, { from: new Date(now - 7 * DAY), to: new Date(now) }));
  }
  return out;
}

/** Averages and rates to 12 significant digits: the engine may sum floats in another order from one run to the next. */
function roundFloats(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(roundFloats);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundFloats(v)]));
  return value;
}

describe('migration 0032: the feedback views take the latest version with FINAL', () => {
  it('answers exactly as before for every range, tenant, view and named query that reads feedback', async () => {
    const store = scratch.store;
    const pricesFile = join(scratch.dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
    const loaded = await loadDirect(store.writer, generateDataset({ seed: 'feedback-final', requests: 1200, days: 7, endMs: now }), { pricesFile, now: () => now });
    expect(loaded.feedbackRows).toBeGreaterThan(120);
    // One insert per version, merges stopped: the versions stay in separate parts, so both definitions have to pick
    // the latest themselves (ReplacingMergeTree collapses versions written in one block, and in merges).
    await store.writer.command({ query: 'SYSTEM STOP MERGES feedback' });
    // Through the processor's insert (a deduplication token of its own per insert); the last row twice, as a retry
    // that was not recognised would store it.
    for (const row of [...EDGE_FEEDBACK, EDGE_FEEDBACK.at(-1)!]) await insertRows(store.writer, 'feedback', [row as Row]);
    // The span that produced resp-edge-e, as response_lookup_mv would have recorded it.
    await store.writer.command({
      query: `INSERT INTO response_lookup VALUES ('default', 'resp-edge-e', '${TRACE(7)}', 'abcdefabcdefabcd', '${ts(rangeFrom)}', 'openai', 'gpt-4o')`,
      clickhouse_settings: { insert_deduplication_token: randomUUID() },
    });
    const [versions] = await rows<{ n: string; ids: string }>('SELECT count() AS n, uniqExact(TenantId, FeedbackId) AS ids FROM feedback');
    expect(Number(versions!.n)).toBeGreaterThan(Number(versions!.ids)); // several versions of some ids are stored

    const before = await snapshot();

    // The cases the edge rows were built for, read before the upgrade (the definition being preserved).
    const edgeIds = (list: unknown): string[] => (list as { FeedbackId: string }[]).map((r) => r.FeedbackId).filter((id) => id.startsWith('edge-'));
    const edge = before['in range default the edge range'] as { FeedbackId: string; Thumbs: string; Rating: number | null; TraceId: string }[];
    expect(edgeIds(edge)).toEqual(['edge-a', 'edge-c', 'edge-e', 'edge-f', 'edge-g']);
    expect(edge.find((r) => r.FeedbackId === 'edge-a')!.Thumbs).toBe('down');
    expect(edge.find((r) => r.FeedbackId === 'edge-c')!.Rating).toBe(2);
    expect(edge.find((r) => r.FeedbackId === 'edge-e')!.TraceId).toBe(TRACE(7));
    expect(edge.find((r) => r.FeedbackId === 'edge-f')!.TraceId).toBe('');
    expect(edgeIds(before['in range acme the edge range'])).toEqual(['edge-c']);
    // edge-c's first version is in this hour, its latest at the hour's end (`to`, excluded): not in the range.
    expect(edgeIds(before["in range default the hour before edge-c's latest version"])).toEqual([]);
    expect(edgeIds(before['low rated default the edge range'])).toEqual(['edge-a', 'edge-c', 'edge-e', 'edge-g']);
    for (const name of FEEDBACK_QUERIES) expect((before[`query ${name}`] as unknown[]).length, name).toBeGreaterThan(0);

    await migrate(store.writer, VARS);
    const definition = await rows<{ q: string }>("SELECT as_select AS q FROM system.tables WHERE database = currentDatabase() AND name = 'feedback_in_range'");
    expect(definition[0]!.q).toContain('FINAL');

    const after = await snapshot();
    for (const key of Object.keys(before)) expect(after[key], key).toEqual(before[key]);
  });
});
