/**
 * Every provisioned dashboard query (variables first, then every panel), expanded exactly as Grafana and
 * the ClickHouse plugin would, run against a real embedded ClickHouse filled by the seeded synthetic
 * generator through the processor's pipeline: no errors, rows, and the shape each panel type needs.
 * Reads the committed JSON under grafana/dashboards (what ships).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { generateDataset, type SynthDataset } from '../../tools/synthetic/index.js';
import { removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { queryPanels } from '../../grafana/src/dashboard.js';
import { expandPanelQuery, type VariableState } from '../../processor/src/ui/macros.js';
import { BREAKDOWNS } from '../../grafana/src/dashboards/tokens-cost.js';
import { PERCENTILES } from '../../grafana/src/variables.js';
import { expandForPanel, loadAtTestNow, panelQueries, resolveVariables, runSql, shapeProblems, startTestStore, type QueryResult, type TimeRange } from './harness.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));
const HOUR = 3_600_000;
/** The test instant, on the hour: the synthetic week ends there and the ranges are hour-aligned (rollup buckets match). */
const END = Math.floor(testNow() / HOUR) * HOUR;
const DAY = 24 * HOUR;
const RANGES: Record<string, TimeRange> = {
  'last 24 hours': { from: new Date(END - DAY), to: new Date(END) },
  'last 7 days': { from: new Date(END - 7 * DAY), to: new Date(END) },
};

let p: TestProcessor;
let ds: SynthDataset;
const dashboards: Dashboard[] = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(DASHBOARD_DIR + f, 'utf8')) as Dashboard);
const timings: Array<{ what: string; ms: number }> = [];

async function run(sql: string, what: string): Promise<QueryResult> {
  const r = await runSql(p.processor.store.writer, sql);
  timings.push({ what, ms: r.ms });
  return r;
}

beforeAll(async () => {
  p = await startTestStore();
  const started = performance.now();
  ds = generateDataset({ seed: 'grafana-panels', requests: 8000, days: 8, endMs: END });
  const stats = await loadAtTestNow(p.processor.store.writer, ds);
  // The conversation panels read the stored implicit-feedback signals (migration 0027): one pass of the job now.
  await p.processor.conversationSignals.refresh();
  console.log(`loaded ${ds.requests.length} requests, ${stats.spans} spans, ${stats.feedbackRows} feedback, ${stats.evaluationRows} evaluations in ${Math.round(performance.now() - started)} ms`);
}, 180_000);

afterAll(async () => {
  await p?.stop();
  if (p) removeDir(p.dataDir);
  if (timings.length === 0) return;
  const ms = timings.map((t) => t.ms).sort((a, b) => a - b);
  const q = (x: number) => ms[Math.min(ms.length - 1, Math.floor(x * ms.length))]!;
  const slowest = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(
    `dashboard queries run: ${ms.length}; median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${ms.at(-1)!.toFixed(1)} ms\n` +
      `slowest: ${slowest.map((s) => `${s.what} ${s.ms.toFixed(0)} ms`).join('; ')}`,
  );
});

/** Panels whose column carries a data link into the trace view: [panel, column name, trace SQL]. */
function traceLinks(panel: Panel): Array<{ column: string; sql: string }> {
  const out: Array<{ column: string; sql: string }> = [];
  for (const o of panel.fieldConfig?.overrides ?? []) {
    for (const prop of o.properties ?? []) {
      if (prop.id !== 'links') continue;
      for (const l of prop.value as Array<{ internal?: { query?: { rawSql?: string; format?: number } } }>) {
        if (l.internal?.query?.format === 3) out.push({ column: String(o.matcher.options), sql: l.internal.query.rawSql! });
      }
    }
  }
  return out;
}

it('the committed dashboards are there to test', () => {
  expect(dashboards.length).toBeGreaterThanOrEqual(7);
  for (const d of dashboards) expect(queryPanels(d).length, d.uid).toBeGreaterThan(0);
});

describe.each(Object.entries(RANGES))('dashboards over the %s', (rangeName, range) => {
  for (const d of dashboards) {
    describe(d.title!, () => {
      let vars: VariableState[];

      it('variables resolve to options from the store', async () => {
        vars = await resolveVariables(p.processor.store.writer, d, range);
        for (const name of ['tenant', 'service', 'environment', 'provider', 'model', 'experiment']) {
          const v = vars.find((x) => x.name === name);
          expect(v, name).toBeDefined();
          expect(v!.options.length, `${name} options`).toBeGreaterThan(0);
        }
        expect(vars.find((v) => v.name === 'tenant')!.current).toBe('default');
      });

      for (const panel of queryPanels(d)) {
        it(`${panel.type} "${panel.title}"`, async () => {
          for (const q of panelQueries(d, [panel])) {
            const sql = expandForPanel(q, range, vars);
            expect(sql, 'unexpanded macro or variable').not.toMatch(/\$__|\$\{|\$[a-z]/);
            const r = await run(sql, `${d.uid}/${panel.title}`);
            expect(shapeProblems(panel.type, q.format, r), sql).toEqual([]);
            for (const link of traceLinks(panel)) {
              const col = r.meta.findIndex((m) => m.name === link.column);
              expect(col, `trace link column ${link.column}`).toBeGreaterThanOrEqual(0);
              const ids = r.rows.map((row) => String(row[col]));
              for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
              // Grafana interpolates ${__value.raw} with the clicked cell, then runs the link's query in Explore.
              const traceSql = expandPanelQuery(link.sql.replaceAll('${__value.raw}', ids[0]!), { from: range.from, to: range.to, variables: vars, maxDataPoints: 1000 });
              const t = await run(traceSql, `${d.uid}/${panel.title} → trace view`);
              expect(t.rows.length, 'trace view spans').toBeGreaterThan(0);
              expect(t.meta.map((m) => m.name)).toEqual(
                expect.arrayContaining(['traceID', 'spanID', 'parentSpanID', 'serviceName', 'operationName', 'startTime', 'duration', 'tags', 'serviceTags']),
              );
              const ti = t.meta.findIndex((m) => m.name === 'traceID');
              for (const row of t.rows) expect(row[ti]).toBe(ids[0]);
              expect(t.rows.some((row) => row[t.meta.findIndex((m) => m.name === 'parentSpanID')] === ''), 'trace has its root span').toBe(true);
            }
          }
        });
      }
    });
  }
});

describe('filters and breakdowns (last 7 days)', () => {
  const range = RANGES['last 7 days']!;

  it('every panel also runs with concrete selections (not All) for each filter', async () => {
    // one real combination of every dimension (the busiest experiment arm's service, environment,
    // provider and model), and the model under both its names (multi-value path)
    const [combo] = await p.query<{ service: string; environment: string; provider: string; model: string; experiment: string }>(`
      SELECT ServiceName AS service, Environment AS environment, Provider AS provider, Model AS model, Experiment AS experiment
      FROM usage_cost_daily WHERE Experiment != '' AND Operation = 'chat' AND Provider != ''
      GROUP BY service, environment, provider, model, experiment ORDER BY sum(Calls) DESC LIMIT 1`);
    // the requested name of the same model: failed calls report no response model, so they are counted under it
    const [other] = await p.query<{ model: string }>(`SELECT any(RequestModel) AS model FROM genai_spans WHERE ResponseModel = '${combo!.model}' AND RequestModel != ResponseModel`);
    const selection = {
      service: [combo!.service],
      environment: [combo!.environment],
      provider: [combo!.provider],
      model: [combo!.model, other!.model],
      experiment: [combo!.experiment],
    };
    const problems: string[] = [];
    let ran = 0;
    for (const d of dashboards) {
      const vars = await resolveVariables(p.processor.store.writer, d, range, selection);
      for (const q of panelQueries(d, queryPanels(d))) {
        const sql = expandForPanel(q, range, vars);
        const description = q.panel.description ?? '';
        if (!description.includes('service filter does not apply')) expect(sql, q.panel.title).toContain(`IN ('${combo!.service}')`);
        // the model filter reaches every panel unless the panel says why it cannot
        if (!/do not apply|does not apply|Only the service filter applies/.test(description) && d.uid !== 'ragscope-retrieval') expect(sql, `${d.uid}/${q.panel.title}`).toContain(`IN ('${combo!.model}','${other!.model}')`);
        try {
          const r = await run(sql, `${d.uid}/${q.panel.title} (filtered)`);
          ran++;
          // the unpriced-models table is empty by design when only priced models are selected
          const emptyIsRight = q.panel.title === 'Unpriced models' && r.rows.length === 0;
          if (!emptyIsRight) problems.push(...shapeProblems(q.panel.type, q.format, r).map((x) => `${d.uid}/${q.panel.title}: ${x}`));
        } catch (e) {
          problems.push(`${d.uid}/${q.panel.title}: ${(e as Error).message}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(ran).toBeGreaterThan(50);
  });

  it('a service filter narrows the numbers (Overview requests)', async () => {
    const d = dashboards.find((x) => x.uid === 'ragscope-overview')!;
    const panel = queryPanels(d).find((x) => x.title === 'Requests')!;
    const [q] = panelQueries(d, [panel]);
    const all = await resolveVariables(p.processor.store.writer, d, range);
    const total = Number((await run(expandForPanel(q!, range, all), 'overview requests')).rows[0]![0]);
    let sum = 0;
    for (const service of all.find((v) => v.name === 'service')!.options) {
      const vars = await resolveVariables(p.processor.store.writer, d, range, { service: [service] });
      sum += Number((await run(expandForPanel(q!, range, vars), 'overview requests by service')).rows[0]![0]);
    }
    // the generator's own count of requests started in the range (hour-aligned, so rollup buckets match)
    const expected = ds.requests.filter((r) => Number(r.startNs / 1_000_000n) >= range.from.getTime() && Number(r.startNs / 1_000_000n) < range.to.getTime()).length;
    expect(expected).toBeGreaterThan(0);
    expect(total).toBe(expected);
    expect(sum).toBe(total);
  });

  it('the "Break down by" variable works for every dimension', async () => {
    const d = dashboards.find((x) => x.uid === 'ragscope-tokens-cost')!;
    const panels = queryPanels(d).filter((x) => x.title!.includes('$breakdown'));
    expect(panels.length).toBeGreaterThanOrEqual(3);
    for (const b of BREAKDOWNS) {
      const vars = await resolveVariables(p.processor.store.writer, d, range, { breakdown: b.value });
      for (const q of panelQueries(d, panels)) {
        const r = await run(expandForPanel(q, range, vars), `${d.uid}/${q.panel.title} by ${b.text}`);
        expect(shapeProblems(q.panel.type, q.format, r), `${q.panel.title} by ${b.text}`).toEqual([]);
      }
    }
  });

  it('the "Percentile" variable works for every value', async () => {
    const d = dashboards.find((x) => x.uid === 'ragscope-latency')!;
    const panels = queryPanels(d).filter((x) => x.title!.includes('${percentile:text}'));
    expect(panels.length).toBe(3);
    const medians: number[] = [];
    for (const pc of PERCENTILES) {
      const vars = await resolveVariables(p.processor.store.writer, d, range, { percentile: pc.value });
      for (const q of panelQueries(d, panels)) {
        const r = await run(expandForPanel(q, range, vars), `${d.uid}/${q.panel.title} ${pc.text}`);
        expect(shapeProblems(q.panel.type, q.format, r), `${q.panel.title} ${pc.text}`).toEqual([]);
        if (q.panel.title!.startsWith('Latency per stage')) medians.push(r.rows.map((row) => Number(row[2])).sort((a, b) => a - b)[r.rows.length >> 1]!);
      }
    }
    // p50 < p90 < p95 < p99 (medians over the panel's points)
    expect([...medians].sort((a, b) => a - b)).toEqual(medians);
  });
});
