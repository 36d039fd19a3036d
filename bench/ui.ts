// npm run bench:ui [-- --data-dir DIR --spans 1000000 --days 7 --rounds 3 --warm 3 --baseline-rev 95a6666 --no-baseline]
//
// First paint of the built-in Overview dashboard (12 panels: 7 stats, 4 time series, 1 bar gauge) in headless
// Chromium over 7 days of seeded synthetic traffic with ≥ --spans GenAI spans: ms from navigation until every
// panel has drawn its data (what a user waits for), and the browser's first contentful paint.
//
// Each round, for each processor under test: a fresh processor process on the data directory (started and
// ready, nothing else run), a fresh browser profile; the first page load is the cold one, then --warm loads
// in the same browser. The baseline revision (the viewer before this bench's optimizations, built once into
// $TMPDIR/ragscope-ui-baseline-<rev>) runs in the same rounds, alternating which goes first, so both see the
// same machine.
// Writes bench/results/ui.json.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../tests/browser/chromium.js';
import { freePort, waitReady } from './support/processor.js';
import { BENCH_UI_END, BENCH_UI_TTL_DAYS, DAY_MS } from './support/ui-data-range.js';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    spans: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '7' },
    rounds: { type: 'string', default: '3' },
    warm: { type: 'string', default: '3' },
    'baseline-rev': { type: 'string', default: '95a6666' },
    'no-baseline': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/ui.json' },
  },
});
const ROOT = process.cwd();
const ROUNDS = Number(args.rounds);
const WARM = Number(args.warm);
const DASHBOARD = 'ragscope-overview';
const RANGE = { from: BENCH_UI_END - 7 * DAY_MS, to: BENCH_UI_END };

interface Target {
  name: string;
  main: string;
}

/**
 * The baseline revision's processor and viewer, built once into a temporary git worktree (sharing
 * node_modules). Not under .bench/: express will not send a file whose path has a dot-directory.
 */
function baselineTarget(rev: string): Target {
  const dir = join(tmpdir(), `ragscope-ui-baseline-${rev}`);
  if (!existsSync(join(dir, 'processor', 'dist', 'ui', 'static', 'index.html'))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'prune'], { cwd: ROOT });
    execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: ROOT, stdio: 'inherit' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    if (existsSync(join(ROOT, 'processor/node_modules'))) symlinkSync(join(ROOT, 'processor/node_modules'), join(dir, 'processor/node_modules'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(dir, 'processor')], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(dir, 'processor/ui/build.mjs')], { stdio: 'inherit' });
  }
  return { name: `baseline ${rev}`, main: join(dir, 'processor/dist/start.cjs') };
}

const current: Target = { name: 'this revision', main: join(ROOT, 'processor/dist/start.cjs') };

const dataDir = args['data-dir'] ?? mkdtempSync(join(tmpdir(), 'ragscope-bench-ui-'));
const dataInfo = join(tmpdir(), `ragscope-bench-ui-${process.pid}.json`);
// the data set is loaded (or checked) in a process of its own: the engine binds one data directory per process
execFileSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bench/ui-data.ts', '--data-dir', dataDir, '--spans', args.spans!, '--days', args.days!, '--out', dataInfo], { stdio: 'inherit' });
const data = JSON.parse(readFileSync(dataInfo, 'utf8')) as Record<string, unknown>;
rmSync(dataInfo, { force: true });

async function startProcessor(target: Target): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [target.main], {
    env: {
      ...process.env,
      RAGSCOPE_PORT: String(port),
      RAGSCOPE_HOST: '127.0.0.1',
      RAGSCOPE_GRPC_PORT: 'off',
      RAGSCOPE_DATA_DIR: dataDir,
      RAGSCOPE_LOG_LEVEL: 'warn',
      RAGSCOPE_RAW_TTL_DAYS: String(BENCH_UI_TTL_DAYS),
      RAGSCOPE_ROLLUP_TTL_DAYS: String(BENCH_UI_TTL_DAYS),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, 180_000);
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Load {
  allPanelsDrawnMs: number;
  firstContentfulPaintMs: number;
  variablesMs: number;
  panels: number;
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>['context']['newPage']>>;

async function measure(page: Page, url: string): Promise<Load> {
  await page.goto(`${url}/d/${DASHBOARD}?from=${RANGE.from}&to=${RANGE.to}&refresh=`);
  await page
    .waitForFunction(() => ((window as unknown as { __ragscope?: { readyAt: number[] } }).__ragscope?.readyAt.length ?? 0) > 0, undefined, { timeout: 180_000 })
    .catch(async (err: Error) => {
      const state = await page.evaluate(() => `${document.body.dataset.state}: ${document.body.innerText.slice(0, 500)}`).catch(() => '');
      throw new Error(`${err.message} (page ${state})`);
    });
  const m = await page.evaluate(() => {
    const sections = [...document.querySelectorAll<HTMLElement>('section.panel')];
    return {
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      ready: (window as unknown as { __ragscope: { readyAt: number[] } }).__ragscope.readyAt[0]!,
      states: sections.map((s) => s.dataset.state ?? ''),
      variablesMs: Number(document.body.dataset.variablesMs ?? NaN),
    };
  });
  if (m.states.some((s) => s !== 'data')) throw new Error(`panels not all drawn with data: ${m.states.join(', ')}`);
  return { allPanelsDrawnMs: Math.round(m.ready), firstContentfulPaintMs: Math.round(m.fcp), variablesMs: m.variablesMs, panels: m.states.length };
}

const targets = args['no-baseline'] ? [current] : [baselineTarget(args['baseline-rev']!), current];
const results = new Map<string, { cold: Load[]; warm: Load[] }>(targets.map((t) => [t.name, { cold: [], warm: [] }]));
const loadBefore = loadavg();
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const processor = await startProcessor(target);
      const browser = await launchChromium({ width: 1600, height: 1000 });
      try {
        const r = results.get(target.name)!;
        for (let i = 0; i <= WARM; i++) {
          const page = await browser.context.newPage();
          const load = await measure(page, processor.url);
          (i === 0 ? r.cold : r.warm).push(load);
          console.log(`round ${round + 1} ${target.name} ${i === 0 ? 'cold' : 'warm'}: all ${load.panels} panels drawn ${load.allPanelsDrawnMs} ms (first contentful paint ${load.firstContentfulPaintMs} ms, variables ${load.variablesMs} ms)`);
          await page.close();
        }
      } finally {
        await browser.close();
        await processor.stop();
      }
    }
  }
} finally {
  if (!args.keep && !args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
}
const loadAfter = loadavg();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};
const summary = Object.fromEntries(
  [...results].map(([name, r]) => [
    name,
    {
      coldMedianMs: median(r.cold.map((l) => l.allPanelsDrawnMs)),
      coldMaxMs: Math.max(...r.cold.map((l) => l.allPanelsDrawnMs)),
      warmMedianMs: median(r.warm.map((l) => l.allPanelsDrawnMs)),
      coldFirstContentfulPaintMedianMs: median(r.cold.map((l) => l.firstContentfulPaintMs)),
      runs: r,
    },
  ]),
);
const report = {
  what: 'built-in Overview dashboard, 7-day range, headless Chromium: ms from navigation until every panel has drawn its data; cold = first load after a processor start, fresh browser profile',
  dashboard: DASHBOARD,
  range: { from: new Date(RANGE.from).toISOString(), to: new Date(RANGE.to).toISOString() },
  data,
  rounds: ROUNDS,
  warmLoadsPerRound: WARM,
  results: summary,
  targetMs: 2000,
  machine: { cpus: cpus().length, node: process.version, loadAverageBefore: loadBefore.map((x) => +x.toFixed(2)), loadAverageAfter: loadAfter.map((x) => +x.toFixed(2)) },
  date: new Date().toISOString(),
};
writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
for (const [name, s] of Object.entries(summary)) console.log(`${name}: cold median ${s.coldMedianMs} ms (max ${s.coldMaxMs}), warm median ${s.warmMedianMs} ms`);
console.log(`load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(1)).join(' ')}; wrote ${args.out}`);
