/**
 * The built-in dashboard viewer in a real browser (headless Chromium): every generated dashboard loads
 * against seeded synthetic data and every panel shows data; key figures equal independent answers; the
 * time range and a variable change the SQL sent and the figures; links keep range and variables; a
 * trace link opens the waterfall; the time zone changes the times shown, not the figures. Screenshots of
 * every dashboard and each dashboard's first paint (navigation → every panel drawn, measured by the
 * browser; a record, not a pass/fail) go to tests/browser/artifacts/.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { removeDir } from '../helpers/processor.js';
import { artifactPath, launchChromium, type Browser } from './chromium.js';
import { canvasColors, panels, panelSql, renders, stat, timeAxis, timeSeriesCharts, waitForRender } from './page.js';
import { DAY_MS, END_MS, HOUR_MS, startSeeded, type Seeded } from './seeded.js';

const DASHBOARDS = readdirSync('grafana/dashboards')
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(`grafana/dashboards/${f}`, 'utf8')) as { uid: string; title: string; panels: Array<{ id: number; type: string }> });
const WEEK = { from: END_MS - 7 * DAY_MS, to: END_MS };
/** The browser's own zone: away from UTC (and by a half hour), so "browser time" and UTC differ visibly. */
const BROWSER_ZONE = 'Asia/Kolkata';
const BROWSER_OFFSET_MS = 5.5 * 3_600_000;
const DAY = { from: END_MS - DAY_MS, to: END_MS };

let s: Seeded;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  s = await startSeeded({ seed: 'browser-dashboards', requests: 8000, days: 8 });
  browser = await launchChromium(undefined, BROWSER_ZONE);
  page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
});

interface FirstPaint {
  dashboard: string;
  panels: number;
  /** ms from navigation start until every panel had drawn its answer */
  allPanelsDrawnMs: number;
  firstContentfulPaintMs: number | null;
  variablesMs: number | null;
  /** the first page this browser loaded (empty cache) or a later one */
  browserCache: 'cold' | 'warm';
}
const firstPaints: FirstPaint[] = [];

async function recordFirstPaint(uid: string): Promise<void> {
  const m = await page.evaluate(() => ({
    ready: (window as unknown as { __ragscope: { readyAt: number[] } }).__ragscope.readyAt[0]!,
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    variables: document.body.dataset.variablesMs ? Number(document.body.dataset.variablesMs) : null,
    panels: document.querySelectorAll('section.panel').length,
  }));
  firstPaints.push({
    dashboard: uid,
    panels: m.panels,
    allPanelsDrawnMs: Math.round(m.ready),
    firstContentfulPaintMs: m.fcp === null ? null : Math.round(m.fcp),
    variablesMs: m.variables,
    browserCache: firstPaints.length === 0 ? 'cold' : 'warm',
  });
}

afterAll(async () => {
  if (firstPaints.length > 0) {
    const report = {
      what: 'built-in viewer, headless Chromium: ms from navigation start until every panel has drawn its data, each dashboard over 7 days of the seeded data (a record of this run, not a pass/fail; the 1 M-span measurement is npm run bench:ui)',
      spans: s?.stats.spans,
      range: { from: new Date(WEEK.from).toISOString(), to: new Date(WEEK.to).toISOString() },
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      cpus: cpus().length,
      date: new Date().toISOString(),
      dashboards: firstPaints,
    };
    writeFileSync(artifactPath('first-paint.json'), JSON.stringify(report, null, 2) + '\n');
  }
  await browser?.close();
  await s?.p.stop();
  if (s) removeDir(s.p.dataDir);
});

async function open(path: string): Promise<void> {
  await page.goto(s.p.url + path);
  await waitForRender(page, 0);
}

function requestsIn(range: { from: number; to: number }, service?: string): number {
  const lo = BigInt(range.from) * 1_000_000n;
  const hi = BigInt(range.to) * 1_000_000n;
  return s.ds.requests.filter((r) => r.startNs >= lo && r.startNs < hi && (service === undefined || r.service === service)).length;
}

/**
 * A figure as displayed ("8.12 K", "$12.34", "4.2%", "1.52 s") back to a number in the field's base
 * unit, with the rounding the display allows (half a unit of its last shown digit).
 */
function displayed(text: string): { value: number; tolerance: number } {
  const m = /(-?\d+(?:\.(\d+))?)\s*(K|Mil|Bil|%|ms|s|min)?/.exec(text.replace(/[$,+]/g, ''));
  if (!m) throw new Error(`no number in "${text}"`);
  const scale: Record<string, number> = { K: 1e3, Mil: 1e6, Bil: 1e9, '%': 0.01, ms: 1, s: 1000, min: 60_000 };
  const k = m[3] ? scale[m[3]]! : 1;
  return { value: Number(m[1]) * k, tolerance: 0.5 * 10 ** -(m[2]?.length ?? 0) * k * 1.000001 };
}

async function sqlFirstRow(sql: string): Promise<unknown[]> {
  const rs = await s.p.processor.store.writer.query({ query: sql, format: 'JSONCompact' });
  const body = (await rs.json()) as unknown as { data: unknown[][] };
  expect(body.data.length).toBe(1);
  return body.data[0]!;
}

describe('every dashboard over 7 days of synthetic traffic', () => {
  it('the data set is loaded', () => {
    expect(s.stats.spans).toBeGreaterThan(40_000);
    expect(requestsIn(WEEK)).toBeGreaterThan(6000);
  });

  for (const d of DASHBOARDS) {
    it(`${d.title}: every panel renders data, no errors`, async () => {
      await open(`/d/${d.uid}?from=${WEEK.from}&to=${WEEK.to}`);
      const shown = await panels(page);
      const expected = d.panels.filter((p) => p.type !== 'row');
      expect(shown.map((p) => p.id).sort((a, b) => a - b)).toEqual(expected.map((p) => p.id).sort((a, b) => a - b));
      expect(shown.length).toBeGreaterThan(0);
      for (const p of shown) {
        expect({ title: p.title, state: p.state, error: p.state === 'error' ? p.text : '' }).toEqual({ title: p.title, state: 'data', error: '' });
        expect(p.text).not.toContain('No data');
        if (p.type !== 'text') expect(p.sql, p.title).toMatch(/SELECT/i);
        // no macro or variable left unexpanded in what was sent
        expect(p.sql, p.title).not.toMatch(/\$__|\$\{|\$[a-z]/);
      }
      await recordFirstPaint(d.uid);
      await page.screenshot({ path: artifactPath(`${d.uid}.png`), fullPage: true });
    });
  }
});

describe('Overview figures', () => {
  it('every stat shows what its SQL answers, and Requests and Cost equal independent counts', async () => {
    await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}`);
    const stats = (await panels(page)).filter((p) => p.type === 'stat');
    expect(stats.length).toBe(7);
    for (const p of stats) {
      const row = await sqlFirstRow(p.sql);
      const values = await stat(page, p.id);
      expect(values.length).toBe(row.length);
      values.forEach((v, i) => {
        if (row[i] === null) expect(v.value).toBe('');
        else {
          const expected = Number(row[i]);
          expect(Number(v.value)).toBeCloseTo(expected, 9);
          // the text shows the same figure, rounded for display
          const shown = displayed(v.text);
          expect(Math.abs(shown.value - expected), `${p.title}: "${v.text}" for ${expected}`).toBeLessThanOrEqual(shown.tolerance);
        }
      });
    }
    const requests = await stat(page, 1);
    expect(Number(requests[0]!.value)).toBe(requestsIn(WEEK));
    const [cost] = await s.p.query<{ c: number }>(
      `SELECT toFloat64(sum(CostUSD)) AS c FROM genai_spans WHERE Timestamp >= fromUnixTimestamp64Milli(${WEEK.from}) AND Timestamp < fromUnixTimestamp64Milli(${WEEK.to})`,
    );
    expect(cost!.c).toBeGreaterThan(0);
    expect(Number((await stat(page, 3))[0]!.value)).toBeCloseTo(cost!.c, 6);
  });

  it('variables are filled from their own queries', async () => {
    await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}`);
    const services = await page.$$eval('select[name="var-service"] option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    const expected = [...new Set(s.ds.requests.map((r) => r.service))].sort();
    expect(expected.length).toBeGreaterThan(1);
    expect(services).toEqual(['$__all', ...expected]);
  });

  it('changing the time range changes the SQL sent, the figures and the URL', async () => {
    // the range is typed in UTC below
    await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}&timezone=utc`);
    const before = { sql: await panelSql(page, 1), value: Number((await stat(page, 1))[0]!.value) };
    expect(before.sql).toContain(`toDateTime(${WEEK.from / 1000})`);
    const n = await renders(page);
    await page.fill('input[name="from"]', new Date(DAY.from).toISOString().slice(0, 16));
    await page.fill('input[name="to"]', new Date(DAY.to).toISOString().slice(0, 16));
    await page.click('button[name="apply-range"]');
    await waitForRender(page, n);
    const after = { sql: await panelSql(page, 1), value: Number((await stat(page, 1))[0]!.value) };
    expect(after.sql).toContain(`toDateTime(${DAY.from / 1000})`);
    expect(after.sql).not.toContain(`toDateTime(${WEEK.from / 1000})`);
    expect(after.value).toBe(requestsIn(DAY));
    expect(after.value).toBeLessThan(before.value);
    expect(page.url()).toContain(`from=${DAY.from}`);
    // the URL alone reproduces the view
    await open(new URL(page.url()).pathname + new URL(page.url()).search);
    expect(Number((await stat(page, 1))[0]!.value)).toBe(requestsIn(DAY));
    // a preset is relative to the browser's clock: the URL keeps the expression, the SQL gets its instant
    const m = await renders(page);
    const clicked = Date.now();
    await page.selectOption('select[name="range"]', 'now-7d');
    await waitForRender(page, m);
    expect(page.url()).toContain('from=now-7d&to=now');
    const from = Number(/Hour >= toDateTime\((\d+)\)/.exec(await panelSql(page, 1))![1]) * 1000;
    expect(Math.abs(from - (clicked - 7 * DAY_MS))).toBeLessThan(120_000);
  });

  it('custom variables (percentile, break-down) change the SQL and the titles', async () => {
    await open(`/d/ragscope-latency?from=${WEEK.from}&to=${WEEK.to}`);
    const title = async (id: number) => (await panels(page)).find((p) => p.id === id)!.title;
    expect(await title(9)).toBe('Latency per stage (p95)');
    expect(await panelSql(page, 9)).toContain('(DurationQuantiles)[3]');
    const n = await renders(page);
    await page.selectOption('select[name="var-percentile"]', '4');
    await waitForRender(page, n);
    expect(await title(9)).toBe('Latency per stage (p99)');
    expect(await panelSql(page, 9)).toContain('(DurationQuantiles)[4]');
    expect((await panels(page)).find((p) => p.id === 9)!.state).toBe('data');

    await open(`/d/ragscope-tokens-cost?from=${WEEK.from}&to=${WEEK.to}&var-breakdown=Provider`);
    const pie = (await panels(page)).find((p) => p.type === 'piechart')!;
    expect(pie.title).toBe('Cost share by Provider');
    expect(pie.sql).toContain("if(Provider = '', '(none)', Provider)");
    expect(pie.state).toBe('data');
  });

  it('the weekday × hour heatmap colours every cell by its value', async () => {
    await open(`/d/ragscope-usage?from=${WEEK.from}&to=${WEEK.to}`);
    const cells = await page.$$eval('section.panel[data-panel-id="3"] td.num', (tds) => tds.map((td) => ({ bg: (td as HTMLElement).style.background, v: Number((td as HTMLElement).dataset.value) })));
    expect(cells.length).toBe(7 * 24);
    expect(cells.every((c) => c.bg.startsWith('rgb'))).toBe(true);
    // the busiest cell is red, the quietest blue (continuous-BlYlRd)
    const max = cells.reduce((a, b) => (b.v > a.v ? b : a));
    const min = cells.reduce((a, b) => (b.v < a.v ? b : a));
    expect(max.bg).toBe('rgb(165, 0, 38)');
    expect(min.bg).toBe('rgb(49, 54, 149)');
  });

  it('changing a variable changes the SQL sent and the figures', async () => {
    await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}`);
    const service = [...new Set(s.ds.requests.map((r) => r.service))].sort()[0]!;
    const n = await renders(page);
    await page.selectOption('select[name="var-service"]', [service]);
    await waitForRender(page, n);
    const sql = await panelSql(page, 1);
    expect(sql).toContain(`ServiceName IN ('${service}')`);
    const value = Number((await stat(page, 1))[0]!.value);
    expect(value).toBe(requestsIn(WEEK, service));
    expect(value).toBeLessThan(requestsIn(WEEK));
    expect(decodeURIComponent(page.url())).toContain(`var-service=${service}`);
  });

  it('links to other dashboards keep the time range and the variables', async () => {
    const service = [...new Set(s.ds.requests.map((r) => r.service))].sort()[0]!;
    await open(`/d/ragscope-overview?from=${DAY.from}&to=${DAY.to}&var-service=${service}`);
    await page.click('.dash-nav a[data-uid="ragscope-latency"]');
    await page.waitForURL(/\/d\/ragscope-latency/);
    await waitForRender(page, 0);
    const url = decodeURIComponent(page.url());
    expect(url).toContain(`from=${DAY.from}`);
    expect(url).toContain(`var-service=${service}`);
    const latency = await panels(page);
    expect(latency.length).toBeGreaterThan(0);
    expect(latency.find((p) => p.type === 'timeseries')!.sql).toContain(`ServiceName IN ('${service}')`);
    // a panel link (Requests → Usage patterns) carries range and variables too
    await open(`/d/ragscope-overview?from=${DAY.from}&to=${DAY.to}&var-service=${service}`);
    const href = await page.getAttribute('section.panel[data-panel-id="1"] a.panel-link', 'href');
    expect(decodeURIComponent(href!)).toBe(`/d/ragscope-usage?from=${DAY.from}&to=${DAY.to}&var-tenant=default&var-service=${service}&var-environment=$__all&var-provider=$__all&var-model=$__all&var-experiment=$__all`);
  });

  it('auto-refresh runs the panels again', async () => {
    await open(`/d/ragscope-overview?from=${DAY.from}&to=${DAY.to}&refresh=5s`);
    const n = await renders(page);
    await waitForRender(page, n, 30_000);
    expect(await renders(page)).toBeGreaterThan(n);
  });
});

describe('charts', () => {
  it('time series panels are drawn by uPlot: a sized canvas with its points painted, fixed colours kept', async () => {
    await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}`);
    const charts = await timeSeriesCharts(page);
    expect(charts.length).toBe(4);
    for (const c of charts) {
      expect(c.canvas, c.title).not.toBeNull();
      expect(c.canvas!.width, c.title).toBeGreaterThan(200);
      expect(c.canvas!.height, c.title).toBeGreaterThan(60);
      expect(c.points, c.title).toBeGreaterThan(0);
      // axes and grid alone paint ~2 %; lines, fills and bars over 7 days of data far more
      expect(c.painted, c.title).toBeGreaterThan(0.05);
    }
    expect(await page.$$eval('section.panel[data-type="timeseries"] .chart .uplot', (els) => els.length)).toBe(4);
    // the chart follows its panel's size
    const canvasWidth = () => page.$eval('section.panel[data-panel-id="9"] .chart canvas', (c) => c.getBoundingClientRect().width);
    const wide = await canvasWidth();
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: Math.round(viewport.width * 0.6), height: viewport.height });
    try {
      await page.waitForFunction((w) => document.querySelector('section.panel[data-panel-id="9"] .chart canvas')!.getBoundingClientRect().width < w * 0.75, wide);
      const panelWidth = await page.$eval('section.panel[data-panel-id="9"] .chart', (c) => c.clientWidth);
      expect(Math.abs((await canvasWidth()) - panelWidth)).toBeLessThanOrEqual(1);
    } finally {
      await page.setViewportSize(viewport);
    }
    await page.waitForFunction((w) => document.querySelector('section.panel[data-panel-id="9"] .chart canvas')!.getBoundingClientRect().width > w * 0.9, wide);
    // a 7-day axis in browser time: ticks on whole hours of Kolkata's clock, the date alone at its midnight
    const axis = await timeAxis(page, 9);
    expect(axis.length).toBeGreaterThan(2);
    for (const t of axis) {
      const local = new Date(t.ms + BROWSER_OFFSET_MS).toISOString().replace('T', ' ');
      expect((t.ms + BROWSER_OFFSET_MS) % HOUR_MS).toBe(0);
      expect(t.label).toBe(local.slice(11, 16) === '00:00' ? local.slice(5, 10) : local.slice(5, 16));
    }
    expect(axis.some((t) => (t.ms + BROWSER_OFFSET_MS) % DAY_MS === 0)).toBe(true);
    // hovering shows the time under the cursor (browser time) and each series' value there
    const legend = await page.$$eval('section.panel[data-panel-id="9"] .legend tbody tr td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(legend.length).toBeGreaterThan(1);
    await page.hover('section.panel[data-panel-id="9"] .u-over');
    const tip = page.locator('section.panel[data-panel-id="9"] .chart-tooltip');
    await tip.waitFor({ state: 'visible' });
    const [time, ...rows] = (await tip.innerText()).split('\n');
    const at = Date.parse(time!.replace(' ', 'T') + 'Z') - BROWSER_OFFSET_MS;
    expect(at).toBeGreaterThanOrEqual(WEEK.from);
    expect(at).toBeLessThanOrEqual(WEEK.to);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(legend.some((name) => r.startsWith(name))).toBe(true);

    // Feedback volume: stacked bars, "thumbs up" fixed green and "thumbs down" fixed red (Grafana's named colours)
    await open(`/d/ragscope-feedback?from=${WEEK.from}&to=${WEEK.to}`);
    const [green, red, paletteFirst, paletteSecond] = await canvasColors(page, 8, ['#73bf69', '#f2495c', '#7eb26d', '#eab839']);
    expect(green).toBeGreaterThan(100);
    expect(red).toBeGreaterThan(100);
    // the colours those two series would have without their overrides: at most a few blended edge pixels
    expect(paletteFirst).toBeLessThan(green / 20);
    expect(paletteSecond).toBeLessThan(red / 20);
  });

  it('ECharts is downloaded only by dashboards with a bar or pie chart', async () => {
    // a browser of its own: an empty cache, so every script the page imports is a request seen here
    const fresh = await launchChromium();
    try {
      const p = await fresh.context.newPage();
      const scripts: Array<{ url: string; body: string }> = [];
      p.on('response', (r) => {
        if (r.url().endsWith('.js')) scripts.push({ url: r.url(), body: '' });
      });
      const bodies = async () => {
        for (const x of scripts) if (!x.body) x.body = await (await fetch(x.url)).text();
        return scripts;
      };
      // ECharts marks the element it draws in with this attribute; the name survives minification
      const isEcharts = (body: string) => body.includes('_echarts_instance_');

      await p.goto(`${s.p.url}/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}`);
      await waitForRender(p, 0);
      const overview = await bodies();
      expect(overview.length).toBeGreaterThanOrEqual(2);
      expect(overview.filter((x) => isEcharts(x.body)).map((x) => x.url)).toEqual([]);
      expect(await p.$$eval('section.panel[data-type="timeseries"] .uplot canvas', (els) => els.length)).toBe(4);

      const before = scripts.length;
      await p.goto(`${s.p.url}/d/ragscope-tokens-cost?from=${WEEK.from}&to=${WEEK.to}`);
      await waitForRender(p, 0);
      const loaded = (await bodies()).slice(before).filter((x) => isEcharts(x.body));
      expect(loaded.length).toBe(1);
      expect(await p.$$eval('section.panel[data-type="piechart"] canvas', (els) => els.length)).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });
});

describe('time zone', () => {
  const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

  async function shown() {
    return {
      from: await page.inputValue('input[name="from"]'),
      times: await page.$$eval('section.panel[data-panel-id="17"] td[data-time]', (tds) => tds.map((td) => ({ ms: Number((td as HTMLElement).dataset.time), text: td.textContent ?? '' }))),
      axis: await page.getAttribute('section.panel[data-type="timeseries"] .chart', 'title'),
      ticks: await timeAxis(page, 7),
      stats: (await panels(page)).filter((p) => p.type === 'stat').map((p) => ({ id: p.id, text: p.text, sql: p.sql })),
      sql: (await panels(page)).map((p) => p.sql),
    };
  }

  it('switching between UTC and browser time changes the times shown, not the figures or the SQL of an absolute range', async () => {
    await open(`/d/ragscope-latency?from=${DAY.from}&to=${DAY.to}&timezone=utc`);
    const inUtc = await shown();
    expect(inUtc.times.length).toBeGreaterThan(0);
    expect(inUtc.stats.length).toBeGreaterThan(0);
    expect(inUtc.from).toBe(new Date(DAY.from).toISOString().slice(0, 16));
    for (const t of inUtc.times) expect(t.text).toBe(utc(t.ms));
    expect(inUtc.axis).toContain(`${utc(DAY.from)} – ${utc(DAY.to)} UTC`);
    // the time axis: ticks on whole hours of UTC, labelled with UTC's time of day
    expect(inUtc.ticks.length).toBeGreaterThan(2);
    for (const t of inUtc.ticks) {
      expect(t.ms % HOUR_MS).toBe(0);
      expect(t.label).toBe(utc(t.ms).slice(11, 16));
    }

    const n = await renders(page);
    await page.selectOption('select[name="timezone"]', 'browser');
    await waitForRender(page, n);
    expect(page.url()).toContain('timezone=browser');
    const inBrowser = await shown();
    // the same instants, 5:30 later on the clock (Asia/Kolkata)
    expect(inBrowser.from).toBe(new Date(DAY.from + BROWSER_OFFSET_MS).toISOString().slice(0, 16));
    expect(inBrowser.times.map((t) => t.ms)).toEqual(inUtc.times.map((t) => t.ms));
    for (const t of inBrowser.times) expect(t.text).toBe(utc(t.ms + BROWSER_OFFSET_MS));
    // (Chromium's ICU names the zone Asia/Calcutta)
    expect(inBrowser.axis).toContain(`${utc(DAY.from + BROWSER_OFFSET_MS)} – ${utc(DAY.to + BROWSER_OFFSET_MS)} Asia/`);
    expect(inBrowser.axis).toContain('(UTC+05:30)');
    // ticks on whole hours of Kolkata's clock (half past in UTC), labelled with its time of day
    expect(inBrowser.ticks.length).toBeGreaterThan(2);
    for (const t of inBrowser.ticks) {
      expect((t.ms + BROWSER_OFFSET_MS) % HOUR_MS).toBe(0);
      expect(t.label).toBe(utc(t.ms + BROWSER_OFFSET_MS).slice(11, 16));
    }
    // figures and SQL unchanged
    expect(inBrowser.stats).toEqual(inUtc.stats);
    expect(inBrowser.sql).toEqual(inUtc.sql);
    // and the zone survives a reload from the URL
    await open(new URL(page.url()).pathname + new URL(page.url()).search);
    expect(await page.inputValue('select[name="timezone"]')).toBe('browser');
  });

  it('a custom range is read in the chosen zone: the same typed times are different instants', async () => {
    const typed = { from: new Date(DAY.from).toISOString().slice(0, 16), to: new Date(DAY.to).toISOString().slice(0, 16) };
    const apply = async (zone: 'utc' | 'browser') => {
      await open(`/d/ragscope-overview?from=${WEEK.from}&to=${WEEK.to}&timezone=${zone}`);
      const n = await renders(page);
      await page.fill('input[name="from"]', typed.from);
      await page.fill('input[name="to"]', typed.to);
      await page.click('button[name="apply-range"]');
      await waitForRender(page, n);
      return new URL(page.url()).searchParams.get('from');
    };
    expect(await apply('utc')).toBe(String(DAY.from));
    // typed as Kolkata wall-clock time: 5:30 earlier as an instant
    expect(await apply('browser')).toBe(String(DAY.from - BROWSER_OFFSET_MS));
    expect(await panelSql(page, 1)).toContain(`toDateTime(${(DAY.from - BROWSER_OFFSET_MS) / 1000})`);
  });
});

describe('trace page', () => {
  it('a slowest-requests link opens the trace as a waterfall with GenAI attributes', async () => {
    await open(`/d/ragscope-latency?from=${WEEK.from}&to=${WEEK.to}`);
    const links = await page.$$eval('a.trace-link', (as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(l).toMatch(/^\/trace\/[0-9a-f]{32}\?/);
    await page.click('a.trace-link');
    await page.waitForURL(/\/trace\//);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    const traceId = /\/trace\/([0-9a-f]{32})/.exec(page.url())![1]!;
    const request = s.ds.requests.find((r) => r.traceId === traceId);
    expect(request).toBeDefined();
    const rows = await page.$$eval('.span-row', (els) => els.map((e) => (e as HTMLElement).dataset.spanId));
    expect(rows.length).toBe(request!.spans.length);
    const labels = await page.$$eval('.span-attrs dt', (els) => els.map((e) => e.textContent));
    expect(labels).toContain('model');
    expect(labels).toContain('input tokens');
    expect(labels).toContain('cost');
    await page.screenshot({ path: artifactPath('trace.png'), fullPage: true });
  });

  it('low-rated requests link to trace pages too', async () => {
    await open(`/d/ragscope-feedback?from=${WEEK.from}&to=${WEEK.to}`);
    const links = await page.$$eval('section.panel[data-panel-id="11"] a.trace-link', (as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(l).toMatch(/^\/trace\/[0-9a-f]{32}\?/);
  });
});
