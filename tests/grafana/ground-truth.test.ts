/**
 * Ground truth for the panels users act on: the provisioned panel queries (committed JSON, expanded as
 * Grafana would, default variables) against answers computed independently from the generated dataset
 * (the same approach as tests/analytics for the named queries): cost, error rate, p95 latency, thumbs-up
 * (thumbs-down) share, retrieval relevance and the low-rated requests.
 *
 * Time bucketing: the stat panels read hourly rollups with `Hour >= from AND Hour <= to`, so a span counts
 * when the hour it started in begins in [from, to]; `inPanelHours` below states exactly that.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { generateDataset, type SynthDataset, type SynthSpan } from '../../tools/synthetic/index.js';
import { removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { queryPanels } from '../../grafana/src/dashboard.js';
import {
  allSpans,
  DD_SMALL_TOL,
  DD_TOL,
  expectQuantile,
  finalVersion,
  isError,
  isRoot,
  nsToMs,
  normalizedScore,
  spanCost,
  spanStartMs,
  spanDurationMs,
  startOfHourMs,
  sum,
  sumBig,
  unitsToUsd,
} from '../analytics/expected.js';
import { expandForPanel, loadAtTestNow, panelQueries, resolveVariables, runSql, startTestStore, type TimeRange } from './harness.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Math.floor(testNow() / HOUR) * HOUR;
/** Three whole days ending a day before the data ends: traffic on both sides of the range. */
const RANGE: TimeRange = { from: new Date(END - 4 * DAY), to: new Date(END - DAY) };
const FROM = RANGE.from.getTime();
const TO = RANGE.to.getTime();
/** Float results: sums and ratios of the same numbers in another order. */
const REL = 1e-9;

const dashboards: Dashboard[] = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(DASHBOARD_DIR + f, 'utf8')) as Dashboard);

let p: TestProcessor;
let ds: SynthDataset;

beforeAll(async () => {
  p = await startTestStore();
  // feedback twice as often as the default: a few hundred thumbs in the range
  ds = generateDataset({ seed: 'grafana-ground-truth', requests: 5000, days: 8, endMs: END, feedbackRate: 2 });
  await loadAtTestNow(p.processor.store.writer, ds);
}, 180_000);

afterAll(async () => {
  await p?.stop();
  if (p) removeDir(p.dataDir);
});

/** Runs a panel's query (the panel of that title and type) over RANGE with every filter at its default (All); rows as objects. */
async function panelRows(uid: string, title: string, type = 'stat'): Promise<Array<Record<string, unknown>>> {
  const d = dashboards.find((x) => x.uid === uid);
  expect(d, uid).toBeDefined();
  const panel = queryPanels(d!).find((x) => x.title === title && x.type === type);
  expect(panel, `${uid}/${title}`).toBeDefined();
  const [q] = panelQueries(d!, [panel!]);
  const vars = await resolveVariables(p.processor.store.writer, d!, RANGE);
  const r = await runSql(p.processor.store.writer, expandForPanel(q!, RANGE, vars));
  expect(r.rows.length, `${uid}/${title}: rows`).toBeGreaterThan(0);
  return r.rows.map((row) => Object.fromEntries(r.meta.map((m, i) => [m.name, row[i]])));
}

async function statValue(uid: string, title: string, field: string): Promise<number> {
  const rows = await panelRows(uid, title);
  expect(rows.length, `${uid}/${title}: a stat has one row`).toBe(1);
  expect(Object.keys(rows[0]!), `${uid}/${title}`).toContain(field);
  const v = rows[0]![field];
  expect(v, `${uid}/${title}: ${field}`).not.toBeNull();
  return Number(v);
}

function expectRel(actual: number, expected: number, label: string, rel = REL): void {
  expect(Number.isFinite(expected), `${label}: expected value`).toBe(true);
  expect(Math.abs(actual - expected), `${label}: got ${actual}, expected ${expected} (±${rel} relative)`).toBeLessThanOrEqual(Math.abs(expected) * rel + 1e-12);
}

/** Spans the hourly stat panels count: started in an hour bucket that begins in [FROM, TO]. */
const inPanelHours = (s: SynthSpan) => {
  const h = startOfHourMs(spanStartMs(s));
  return h >= FROM && h <= TO;
};
const panelSpans = () => allSpans(ds).map((x) => x.span).filter(inPanelHours);

describe('panel figures match answers computed from the generated data (3 days, filters at All)', () => {
  it('the range holds data and leaves data outside it', () => {
    const starts = ds.requests.map((r) => nsToMs(r.startNs));
    expect(starts.filter((t) => t >= FROM && t < TO).length).toBeGreaterThan(1000);
    expect(starts.some((t) => t < FROM)).toBe(true);
    expect(starts.some((t) => t >= TO + HOUR)).toBe(true);
  });

  it('cost (Overview and Tokens & cost): the exact sum of every span priced from the price book', async () => {
    const spans = panelSpans();
    const expected = unitsToUsd(sumBig(spans.map((s) => spanCost(s).total)));
    expect(expected).toBeGreaterThan(0);
    expectRel(await statValue('ragscope-overview', 'Cost', 'Cost'), expected, 'Overview cost');
    expectRel(await statValue('ragscope-tokens-cost', 'Cost', 'Cost'), expected, 'Tokens & cost cost');
  });

  it('error rate (Overview): failed GenAI spans / GenAI spans', async () => {
    const spans = panelSpans();
    const errors = spans.filter(isError).length;
    expect(errors).toBeGreaterThan(0);
    expectRel(await statValue('ragscope-overview', 'Error rate', 'Errors'), errors / spans.length, 'error rate');
  });

  it('p95 request latency (Overview and Latency): within the DDSketch accuracy of the exact p95 of request root spans', async () => {
    const durations = panelSpans().filter((s) => s.stage === 'request' || isRoot(s)).map(spanDurationMs);
    expect(durations.length).toBeGreaterThan(1000);
    // DDSketch relative accuracy 1 % (1.01 % measured for values >= 1 ms, see tests/analytics/expected.ts)
    expectQuantile(await statValue('ragscope-overview', 'p95 latency', 'p95'), durations, 0.95, DD_TOL, 0, 'Overview p95', DD_SMALL_TOL);
    expectQuantile(await statValue('ragscope-latency', 'p95 request latency', 'p95'), durations, 0.95, DD_TOL, 0, 'Latency p95', DD_SMALL_TOL);
  });

  it('thumbs-up share (Overview and Feedback), i.e. 1 − thumbs-down share: latest version of each feedback given in the range', async () => {
    const thumbs = ds.feedback.map(finalVersion).filter((v) => v.kind === 'thumbs' && v.timeMs >= FROM && v.timeMs <= TO);
    const up = thumbs.filter((v) => v.thumbs === 'up').length;
    const down = thumbs.length - up;
    expect(up).toBeGreaterThan(0);
    expect(down).toBeGreaterThan(0);
    for (const [uid, title] of [['ragscope-overview', 'Thumbs up'], ['ragscope-feedback', 'Thumbs up']] as const) {
      const share = await statValue(uid, title, 'Thumbs up');
      expectRel(share, up / thumbs.length, `${uid} thumbs up`);
      expectRel(1 - share, down / thumbs.length, `${uid} thumbs-down share`, 1e-6);
    }
  });

  it('average relevance (Retrieval quality): mean score over every retrieved document', async () => {
    const scores = panelSpans()
      .filter((s) => s.operation === 'retrieval')
      .flatMap((s) => (s.documents ?? []).map((d) => d.score));
    expect(scores.length).toBeGreaterThan(1000);
    expectRel(await statValue('ragscope-retrieval', 'Average relevance', 'avg relevance'), sum(scores) / scores.length, 'average relevance');
  });

  it('answer confidence (Feedback): low-confidence share, distribution, confidence by rating and the low-confidence table, at the default threshold 0.6', async () => {
    const inRange = ds.requests.filter((r) => r.confidence !== null && nsToMs(r.startNs) >= FROM && nsToMs(r.startNs) < TO);
    expect(inRange.length).toBeGreaterThan(500);
    const low = inRange.filter((r) => r.confidence! < 0.6);
    expect(low.length).toBeGreaterThan(50);
    expectRel(await statValue('ragscope-feedback', 'Low-confidence answers', 'low confidence'), low.length / inRange.length, 'low-confidence share');

    const buckets = new Array<number>(10).fill(0);
    for (const r of inRange) buckets[Math.min(Math.floor(r.confidence! * 10), 9)]++;
    const dist = await panelRows('ragscope-feedback', 'Confidence distribution', 'barchart');
    expect(dist.map((r) => Number(r.answers))).toEqual(buckets);
    expect(dist[6]!.confidence).toBe('0.6–0.7');

    // feedback given in the range, joined to requests that started at most 2 days before it
    const byTrace = new Map(ds.requests.map((r) => [r.traceId, r]));
    const thumbs = ds.feedback
      .map((fb) => ({ v: finalVersion(fb), req: byTrace.get(fb.requestTraceId)! }))
      .filter(({ v }) => v.timeMs >= FROM && v.timeMs < TO && v.kind === 'thumbs');
    const byRating = await panelRows('ragscope-feedback', 'Confidence by rating', 'table');
    for (const value of ['up', 'down']) {
      const cs = thumbs.filter(({ v }) => v.thumbs === value).map(({ req }) => req.confidence).filter((c): c is number => c !== null);
      expect(cs.length, value).toBeGreaterThan(10);
      const row = byRating.find((r) => r.kind === 'thumbs' && r.value === value)!;
      expectRel(Number(row.avg_confidence), sum(cs) / cs.length, `avg confidence of thumbs ${value}`);
      expectRel(Number(row.low_confidence_share), cs.filter((c) => c < 0.6).length / cs.length, `low-confidence share of thumbs ${value}`);
    }

    const table = await panelRows('ragscope-feedback', 'Low-confidence requests', 'table');
    const newest = [...low].sort((a, b) => (a.startNs === b.startNs ? (a.traceId < b.traceId ? -1 : 1) : a.startNs > b.startNs ? -1 : 1)).slice(0, 50);
    expect(table.map((r) => r.trace_id)).toEqual(newest.map((r) => r.traceId));
  });

  it('low-rated requests (Feedback stat and table): negative latest feedback (score < 0.4) given in the range, the definition the named query uses', async () => {
    const low = ds.feedback
      .map((fb) => ({ fb, v: finalVersion(fb) }))
      .filter(({ v }) => v.timeMs >= FROM && v.timeMs < TO && normalizedScore(v) < 0.4);
    expect(low.length).toBeGreaterThan(50);
    const requests = new Set(low.map(({ fb }) => fb.requestTraceId));
    // the panel's former definition (thumbs down or rating <= 2) missed low scores: the data tells them apart
    const formerDefinition = new Set(low.filter(({ v }) => v.kind !== 'score').map(({ fb }) => fb.requestTraceId));
    expect(formerDefinition.size).toBeLessThan(requests.size);
    expect(await statValue('ragscope-feedback', 'Low-rated requests', 'low rated')).toBe(requests.size);

    // the table: the named query's newest 50 (default limit), newest first
    const rows = await panelRows('ragscope-feedback', 'Low-rated requests', 'table');
    const newest = [...low].sort((a, b) => b.v.timeMs - a.v.timeMs || (a.fb.requestTraceId < b.fb.requestTraceId ? -1 : 1)).slice(0, 50);
    expect(rows.map((r) => r.trace_id)).toEqual(newest.map(({ fb }) => fb.requestTraceId));
  });
});
