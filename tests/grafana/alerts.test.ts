/**
 * Alert scenarios on a real (embedded) ClickHouse filled by the seeded synthetic generator: baseline
 * traffic keeps every provisioned rule quiet; each injected anomaly makes its rule fire, with the
 * labels that identify the culprit. Rules are read from the provisioned rules.yaml and evaluated as
 * Grafana does (tests/grafana/alert-eval.ts): query → reduce → threshold → pending/firing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticPriceBook } from '../../tools/synthetic/index.js';
import { removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { alertRules } from '../../grafana/src/alerts.js';
import { labelKey, type AlertState } from './alert-eval.js';
import { evaluateAt, loadProvisionedRules, sweep, timing, type ProvisionedRule } from './alert-rules.js';
import { ANOMALIES, baseline, servicesOf } from './scenarios.js';
import { loadAtTestNow, startTestStore } from './harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * End of the synthetic week: the last 13:00 UTC at or before the test instant. The rules' volume floors
 * (cost, thumbs) are only reached near the daily traffic peak, so the scenario is pinned to that hour.
 */
const END = Math.floor((testNow() - 13 * HOUR) / DAY) * DAY + 13 * HOUR;
/** Each anomaly is injected on its own day at the same hour, so they cannot mask each other (the cost
 * surge comes first: its rule needs at least 3 earlier days of the same hour). */
const AT = new Map(ANOMALIES.map((a, i) => [a.name, END - (i + 1) * DAY]));

let p: TestProcessor;
let rules: ProvisionedRule[];
/**
 * The synthetic price book with every price ×10: the synthetic app spends ~$0.35 an hour per service at
 * peak, under the cost rule's $1/hour floor, so at real prices its ratio would never be computed on
 * baseline traffic. Ten times the spend per request (long contexts, bigger models) puts baseline hours
 * above the floor and makes the "quiet on baseline" check evaluate real cost ratios.
 */
let pricesFile: string;
function writeScaledPrices(): string {
  const book = syntheticPriceBook() as { entries: Array<{ prices: Record<string, string> }> };
  for (const e of book.entries) for (const k of Object.keys(e.prices)) e.prices[k] = (Number(e.prices[k]) * 10).toFixed(6);
  const file = join(mkdtempSync(join(tmpdir(), 'ragscope-prices-')), 'prices.json');
  writeFileSync(file, JSON.stringify(book));
  return file;
}
const ruleByUid = (uid: string) => rules.find((r) => r.uid === uid)!;

/** A sweep ending at `t` long enough for the rule's `for` to elapse, plus a margin. */
const sweepStart = (r: ProvisionedRule, t: number) => t - (r.forSeconds + 3 * r.intervalSeconds) * 1000;

beforeAll(async () => {
  rules = loadProvisionedRules();
  pricesFile = writeScaledPrices();
  p = await startTestStore();
  const started = performance.now();
  // Users who leave feedback 3× as often as the generator's default: enough thumbs per hour at peak for
  // the thumbs-down rule's 20-vote minimum, so its ratio is evaluated on baseline traffic too.
  const ds = baseline('grafana-alerts', 16_000, 8, END, 3);
  const stats = await loadAtTestNow(p.processor.store.writer, ds, { skipTraces: true, pricesFile });
  console.log(`baseline: ${ds.requests.length} requests, ${stats.spans} spans, ${stats.feedbackRows} feedback rows in ${Math.round(performance.now() - started)} ms`);
}, 180_000);

afterAll(async () => {
  await p?.stop();
  if (p) removeDir(p.dataDir);
  console.log(`alert queries: ${timing.queries}, total ${Math.round(timing.totalMs)} ms, mean ${(timing.totalMs / Math.max(1, timing.queries)).toFixed(1)} ms, max ${Math.round(timing.maxMs)} ms`);
});

describe('provisioned alert rules', () => {
  it('are the rules defined in grafana/src/alerts.ts, one per anomaly plus rate limits', () => {
    expect(rules.map((r) => r.uid).sort()).toEqual(alertRules().map((r) => r.uid).sort());
    for (const a of ANOMALIES) expect(rules.some((r) => r.uid === a.rule), a.name).toBe(true);
  });

  it('stay quiet on baseline traffic (every rule, swept before each injection time and at the end of the week)', async () => {
    const times = [END, ...AT.values()];
    const fired: string[] = [];
    const evaluated = new Map<string, { instances: number; max: number }>();
    for (const rule of rules) {
      const tally = { instances: 0, max: -Infinity };
      evaluated.set(rule.uid, tally);
      for (const t of times) {
        const state = await sweep(p.processor.store.writer, rule, sweepStart(rule, t), t, (_t, r) => {
          if (r === 'nodata') return;
          tally.instances += r.length;
          for (const i of r) if (i.value !== null) tally.max = Math.max(tally.max, i.value);
        });
        for (const i of state.firing()) fired.push(`${rule.uid} at ${new Date(t).toISOString()} {${labelKey(i.labels)}} = ${i.value}`);
      }
    }
    console.log(
      'baseline evaluations (instances with a value, highest value vs threshold):\n' +
        rules.map((r) => `  ${r.uid}: ${evaluated.get(r.uid)!.instances} instances, max ${evaluated.get(r.uid)!.max.toFixed(3)} (threshold ${r.evaluator.type} ${r.evaluator.params.join(', ')})`).join('\n'),
    );
    expect(fired).toEqual([]);
    // quiet must come from evaluated numbers, not from empty windows
    for (const r of rules) expect(evaluated.get(r.uid)!.instances, r.uid).toBeGreaterThan(0);
  }, 300_000);

  it('produce one instance per label set with the labels each rule declares', async () => {
    const specs = alertRules();
    expect(specs.length).toBeGreaterThan(0);
    for (const spec of specs) {
      const rule = ruleByUid(spec.uid);
      // the latest evaluation of the baseline sweep that had data (every rule has some: see the test above)
      let r: Awaited<ReturnType<typeof evaluateAt>> = 'nodata';
      for (const t of [END, ...AT.values()]) {
        r = await evaluateAt(p.processor.store.writer, rule, t);
        if (r !== 'nodata' && r.length > 0) break;
      }
      expect(r, `${spec.uid}: no data at any baseline evaluation time`).not.toBe('nodata');
      const instances = r === 'nodata' ? [] : r;
      expect(instances.length, spec.uid).toBeGreaterThan(0);
      const keys = instances.map((inst) => labelKey(inst.labels));
      expect(new Set(keys).size, `${spec.uid}: duplicate label sets ${keys.join(' ')}`).toBe(keys.length);
      for (const inst of instances) {
        expect(Object.keys(inst.labels).sort(), spec.uid).toEqual([...spec.instanceLabels].sort());
        expect(inst.value, spec.uid).not.toBeNull();
      }
    }
  });
});

describe('injected anomalies', () => {
  const injected = new Map<string, Set<string>>();

  beforeAll(async () => {
    for (const a of ANOMALIES) {
      const at = AT.get(a.name)!;
      const ds = a.build(at);
      injected.set(a.name, servicesOf(ds));
      await loadAtTestNow(p.processor.store.writer, ds, { skipTraces: true, pricesFile });
    }
  }, 180_000);

  for (const a of ANOMALIES) {
    it(`${a.name} → ${a.rule} fires`, async () => {
      const rule = ruleByUid(a.rule);
      const at = AT.get(a.name)!;
      const history: string[] = [];
      const state = await sweep(p.processor.store.writer, rule, sweepStart(rule, at), at, (t, r, s) => {
        const states = [...s.instances.values()].map((i) => `${i.labels.service ?? ''}/${i.labels.model ?? i.labels.data_source ?? ''}:${i.state}(${i.value === null ? 'null' : +i.value.toFixed(3)})`);
        history.push(`${new Date(t).toISOString().slice(11, 16)} ${r === 'nodata' ? 'nodata' : states.join(' ')}`);
      });
      const firing = state.firing();
      expect(firing.length, `${a.name}: nothing fired\n${history.join('\n')}`).toBeGreaterThan(0);
      const services = injected.get(a.name)!;
      for (const f of firing) expect(services.has(f.labels.service ?? ''), `fired for ${labelKey(f.labels)}`).toBe(true);
      // and the pending period was honoured: the first evaluation of the sweep did not alert yet
      if (rule.forSeconds > 0) expect(history[0]).not.toMatch(/:Alerting/);
    }, 120_000);
  }

  it('leave rules of other anomalies quiet at the injection time of a different anomaly', async () => {
    // e.g. empty retrievals must not set off the latency or error-rate rules
    const crossFired: string[] = [];
    let evaluatedWithData = 0;
    for (const a of ANOMALIES) {
      const at = AT.get(a.name)!;
      for (const rule of rules) {
        if (rule.uid === a.rule) continue;
        const state = await sweep(p.processor.store.writer, rule, sweepStart(rule, at), at, (_t, r) => {
          if (r !== 'nodata' && r.length > 0) evaluatedWithData++;
        });
        for (const i of state.firing()) crossFired.push(`${a.name} set off ${rule.uid} {${labelKey(i.labels)}}`);
      }
    }
    // A cost surge is 6× the traffic: its rate limits legitimately scale with it.
    const unexpected = crossFired.filter((x) => !x.startsWith('cost surge set off ragscope-rate-limits'));
    expect(unexpected).toEqual([]);
    // quiet must mean "evaluated and below threshold": each anomaly's window holds its injected requests
    for (const a of ANOMALIES) expect(injected.get(a.name)!.size, `${a.name}: no services injected`).toBeGreaterThan(0);
    expect(evaluatedWithData, 'cross-fire sweeps that saw data').toBeGreaterThan(0);
  }, 300_000);
});

export type { AlertState };
