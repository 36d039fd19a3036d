// SQL endpoint isolation: what /sql can do to the processor it runs in.
//   npm run bench:sql-guard
// Starts the processor as `npm start` does (processor/dist/start.cjs, embedded store in a temp dir) and runs
// the issue-10 probes: the repeat() and groupArray() heavy queries (RSS of the processor before, peak, after),
// then ingest latency with no query running, and while 6 long /sql queries are sent at once (with the default
// concurrency limit, and with RAGSCOPE_SQL_MAX_CONCURRENT=6 so all six run). Prints figures and writes
// bench/results/sql-guard.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatSpanRequest, spawnProcessor, type SpawnedProcessor } from '../tests/helpers/spawn-processor.js';

const MB = 1e6;
const LONG = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 7';
const INGEST_REQUESTS = 10;
const progress = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]) * 1024;
}

/** Runs `work` while sampling the child's RSS every 20 ms; returns its result and the peak. */
async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssOf(pid)) };
  } finally {
    clearInterval(timer);
  }
}

async function heavyProbe(p: SpawnedProcessor, query: string) {
  const pid = p.child.pid!;
  const before = rssOf(pid);
  const started = performance.now();
  const { result, peak } = await withPeakRss(pid, async () => {
    const res = await fetch(`${p.url}/sql`, { method: 'POST', body: query });
    const text = await res.text();
    return { status: res.status, bytes: text.length, answer: res.status === 200 ? `${text.length} bytes` : text.slice(0, 160) };
  });
  const after = rssOf(pid);
  return { query, ...result, seconds: (performance.now() - started) / 1000, rssBeforeMB: before / MB, rssPeakMB: peak / MB, rssAfterMB: after / MB };
}

let spanId = 1;
async function ingestLatencies(p: SpawnedProcessor): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < INGEST_REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(`${p.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatSpanRequest(spanId++, Date.now() - 60_000),
      signal: AbortSignal.timeout(120_000),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
    out.push(performance.now() - t);
    progress(`ingest ${i + 1}/${INGEST_REQUESTS}: ${Math.round(out[out.length - 1])} ms`);
  }
  return out;
}

const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { p50Ms: Math.round(s[Math.floor(s.length / 2)]), maxMs: Math.round(s[s.length - 1]), n: s.length };
};

async function whileLongQueries(p: SpawnedProcessor) {
  const aborts = Array.from({ length: 6 }, () => new AbortController());
  const statuses = aborts.map((a) =>
    fetch(`${p.url}/sql`, { method: 'POST', body: LONG, signal: a.signal }).then(
      (r) => String(r.status),
      () => 'aborted by client',
    ),
  );
  // Let them reach the engine.
  for (let i = 0; i < 100; i++) {
    const m = await (await fetch(`${p.url}/metrics`)).text();
    const running = Number(/^ragscope_sql_queries_running (\d+)/m.exec(m)?.[1] ?? 0);
    if (running > 0 && running >= Math.min(6, Number(process.env.EXPECT_RUNNING ?? 0))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  const running = Number(/^ragscope_sql_queries_running (\d+)/m.exec(metrics)?.[1] ?? 0);
  const t = performance.now();
  const ready = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(120_000) });
  const readyMs = performance.now() - t;
  const latencies = await ingestLatencies(p);
  progress('aborting the long queries');
  for (const a of aborts) a.abort();
  const answers = await Promise.all(statuses);
  const counts: Record<string, number> = {};
  for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
  return { queriesRunning: running, sqlAnswers: counts, readyzStatus: ready.status, readyzMs: Math.round(readyMs), ingest: summary(latencies) };
}

async function run(label: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ragscope-bench-sqlguard-'));
  const p = await spawnProcessor(dir, env);
  try {
    await ingestLatencies(p); // warm-up
    const idle = summary(await ingestLatencies(p));
    progress(`${label}: heavy probes, then 6 long queries`);
    const probes = label === 'defaults' ? [await heavyProbe(p, "SELECT repeat('x', 100000) FROM numbers(45000)"), await heavyProbe(p, 'SELECT groupArray(number) FROM numbers(200000000)')] : [];
    process.env.EXPECT_RUNNING = env.RAGSCOPE_SQL_MAX_CONCURRENT ?? '2';
    const busy = await whileLongQueries(p);
    return { label, env, ingestIdle: idle, probes, sixLongQueries: busy };
  } finally {
    progress('stopping the processor');
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // A long SQL time-out so the six queries run through every ingest request.
  const slow = { RAGSCOPE_SQL_TIMEOUT_SECONDS: '600' };
  const results = [await run('defaults', slow), await run('six admitted', { ...slow, RAGSCOPE_SQL_MAX_CONCURRENT: '6' })];
  for (const r of results) {
    console.log(`\n== ${r.label} ${JSON.stringify(r.env)}`);
    console.log(`ingest, no query running: p50 ${r.ingestIdle.p50Ms} ms, max ${r.ingestIdle.maxMs} ms (${r.ingestIdle.n} requests)`);
    for (const pr of r.probes) {
      console.log(
        `${pr.query}\n  → HTTP ${pr.status} in ${pr.seconds.toFixed(1)} s: ${pr.answer}\n  RSS before ${pr.rssBeforeMB.toFixed(0)} MB, peak ${pr.rssPeakMB.toFixed(0)} MB, after ${pr.rssAfterMB.toFixed(0)} MB`,
      );
    }
    const b = r.sixLongQueries;
    console.log(
      `6 long /sql queries at once: ${b.queriesRunning} running, answers ${JSON.stringify(b.sqlAnswers)}; /readyz ${b.readyzStatus} in ${b.readyzMs} ms; ingest p50 ${b.ingest.p50Ms} ms, max ${b.ingest.maxMs} ms`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/sql-guard.json', `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
  console.log('\nwrote bench/results/sql-guard.json');
}

await main();
