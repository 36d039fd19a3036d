// ab_variant_comparison's feedback per experiment arm when the rated requests are stored in many pieces: spans
// arriving shuffled, a few hundred per insert, give a request one partial request_facts row per insert that holds
// some of its spans, and with merges stopped they stay apart. The query joins each feedback to all of its request's partial rows and must still count it once,
// under the arm its request ran in.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNamedQuery } from '../../processor/src/query/named-queries.js';
import { generateDataset, loadDirect, syntheticPriceBook } from '../../tools/synthetic/index.js';
import { testNow } from '../helpers/clock.js';
import { useScratchStore } from '../helpers/scratch-store.js';
import { feedbackInRange, finalVersion, groupBy, normalizedScore, requestByTrace } from './expected.js';

const DAY = 86_400_000;
const now = testNow();
const scratch = useScratchStore('feedback-join');

describe('ab_variant_comparison: feedback joined to requests stored in pieces', () => {
  it('counts each feedback once, under its request\'s arm, however many partial rows the request has', async () => {
    const { store, dir } = scratch;
    const pricesFile = join(dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
    await store.writer.command({ query: 'SYSTEM STOP MERGES request_facts' });
    const ds = generateDataset({ seed: 'feedback-join', requests: 500, days: 3, endMs: now });
    await loadDirect(store.writer, ds, { pricesFile, now: () => now, order: 'shuffled', batchSpans: 300 });

    const [pieces] = await (await store.writer.query({
      query: `SELECT countIf(n > 1) AS split, max(n) AS most FROM (SELECT TraceKey, count() AS n FROM request_facts GROUP BY TraceKey)
              WHERE TraceKey IN (SELECT reinterpretAsUInt128(sipHash128(TraceId)) FROM feedback_latest WHERE TraceId != '')`,
      format: 'JSONEachRow',
    })).json<{ split: string; most: string }>();
    expect(Number(pieces!.split)).toBeGreaterThan(20); // rated requests stored as several partial rows
    expect(Number(pieces!.most)).toBeGreaterThan(2);

    const fromMs = now - 7 * DAY;
    const toMs = now + 3_600_000;
    const byTrace = requestByTrace(ds);
    const arms = groupBy(
      feedbackInRange(ds, fromMs, toMs).filter((fb) => byTrace.get(fb.requestTraceId)!.experiment !== ''),
      (fb) => `${byTrace.get(fb.requestTraceId)!.experiment}|${byTrace.get(fb.requestTraceId)!.variant}`,
    );
    const expected = [...arms]
      .map(([arm, fbs]) => ({
        arm,
        feedback: fbs.length,
        positive: fbs.filter((fb) => normalizedScore(finalVersion(fb)) >= 0.5).length,
        thumbsDown: fbs.filter((fb) => finalVersion(fb).kind === 'thumbs' && finalVersion(fb).thumbs === 'down').length,
      }))
      .sort((a, b) => (a.arm < b.arm ? -1 : 1));
    expect(expected.length).toBeGreaterThan(1);

    const rows = await runNamedQuery<{ experiment: string; variant: string; feedback: string; positive_rate: number; thumbs_down_rate: number | null }>(
      store.writer, 'ab_variant_comparison', { from: new Date(fromMs), to: new Date(toMs) },
    );
    const actual = rows
      .filter((r) => Number(r.feedback) > 0)
      .map((r) => ({ arm: `${r.experiment}|${r.variant}`, feedback: Number(r.feedback), positive: Math.round(r.positive_rate * Number(r.feedback)) }))
      .sort((a, b) => (a.arm < b.arm ? -1 : 1));
    expect(actual).toEqual(expected.map(({ arm, feedback, positive }) => ({ arm, feedback, positive })));
    for (const e of expected) {
      const thumbs = arms.get(e.arm)!.filter((fb) => finalVersion(fb).kind === 'thumbs').length;
      const row = rows.find((r) => `${r.experiment}|${r.variant}` === e.arm)!;
      expect(row.thumbs_down_rate, e.arm).toBeCloseTo(e.thumbsDown / thumbs, 12);
    }
  });
});
