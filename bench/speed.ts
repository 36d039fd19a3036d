// npm run bench:speed [-- --baseline-rev 95a6666 --requests 200 --spans 512 --concurrency 16 --e2e-runs 2 --variant-env NAME=VALUE]
//
// Issue 15's single-machine speed figures as ratios against a baseline revision measured in the SAME run (this
// machine is shared and noisy: only same-run ratios are comparable):
//   (a) processor CPU per span: decode + normalize + dedupe + price + row encoding (the insert body's bytes),
//       no database, measured as process CPU time (process.cpuUsage: user + system) around the pipeline on the
//       bench's GenAI payloads (8 distinct 512-span requests); each revision in fresh processes, alternating;
//   (b) end to end: OTLP/HTTP protobuf → processor (child process, embedded store) → rows committed in ClickHouse
//       (POST /v1/flush), spans/s, baseline and current processor alternating, fresh data directory each; and
//       the processor's CPU per span by thread group (Linux /proc: Node's main thread, the engine's pools, merges).
// Prints figures and writes bench/results/speed.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMicrosPerSpan, threadCpuSeconds } from './support/thread-cpu.js';
import { buildGenAiTracePayload, type TracePayload } from './decode-payloads.js';
import { baselineCheckout, processorMain, ROOT } from './support/baseline.js';
import { freePort, waitReady } from './support/processor.js';

const { values: args } = parseArgs({
  options: {
    'baseline-rev': { type: 'string', default: '95a6666' },
    requests: { type: 'string', default: '200' },
    spans: { type: 'string', default: '512' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '15' },
    'e2e-runs': { type: 'string', default: '2' },
    'no-e2e': { type: 'boolean', default: false },
    'no-cpu': { type: 'boolean', default: false },
    'cpu-processes': { type: 'string', default: '3' },
    'cpu-worker': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    // A third processor in the end-to-end rounds: the current code with these settings (same-run A/B of a setting).
    'variant-env': { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: 'bench/results/speed.json' },
  },
});
const REQUESTS = Number(args.requests);
const SPANS = Number(args.spans);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => Math.round(x * 100) / 100;

/** One revision's pipeline: OTLP protobuf bytes in, the insert bodies' bytes out (what the client sends). */
type EncodeRequest = (protobuf: Uint8Array) => number;

async function pipelineOf(root: string): Promise<EncodeRequest> {
  // The built JavaScript (processor/dist), what `npm start` runs. Measuring the TypeScript sources through tsx
  // measured its transpiled form instead: every imported binding becomes a getter call on a module object
  // (fieldTag(1, LEN) is three calls), which doubled the decoder's cost (13.8 vs 4.8 µs per span).
  const load = (path: string) => import(pathToFileURL(join(root, 'processor/dist', path)).href);
  const { decodeTraces } = await load('receive/protobuf-decoder.js');
  const { Pipeline } = await load('pipeline.js');
  const { loadPriceBook } = await load('derive/index.js');
  const store = await load('store/clickhouse.js');
  const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 100_000, rawTtlDays: 30 });
  // A revision that encodes insert bodies itself says how (insertBody); before, @clickhouse/client joined each row's
  // stringifyRow text with newlines.
  const body: (table: string, rows: unknown[]) => { length: number } =
    store.insertBody ?? ((_table: string, rows: unknown[]) => rows.map((row) => `${store.stringifyRow(row)}\n`).join(''));
  // A revision whose pipeline hands the write queue line rows (ProcessedBatch.queueRows, written straight into
  // the write-ahead-log record's bytes) is measured that way: the record's bytes are its insert bodies (the
  // shipper inserts them as they are on the embedded store); making strings of its rows would measure a path the
  // processor no longer takes.
  const { encodeRecord } = await load('store/wal-record.js');
  return (protobuf) => {
    const batch = pipeline.processSpans(decodeTraces(protobuf));
    if (batch.queueRows) {
      let recordBytes = 0;
      for (const t of encodeRecord(batch.queueRows, batch.keys).tables) recordBytes += t.bytes.length;
      return recordBytes;
    }
    const { rows } = batch;
    let bytes = 0;
    for (const table in rows) bytes += body(table, rows[table]).length;
    return bytes;
  };
}

/** CPU µs per span of one revision's pipeline, per round of ~20 000 spans, after a JIT warm-up. */
function cpuRounds(encode: EncodeRequest, payloads: TracePayload[]): number[] {
  const perRound = Math.max(1, Math.round(20_000 / SPANS));
  let next = 0;
  const run = () => {
    for (let i = 0; i < perRound; i++) encode(payloads[next++ % payloads.length].protobuf);
  };
  for (let i = 0; i < 3; i++) run();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / (perRound * SPANS));
  }
  return samples;
}

/**
 * Each revision in fresh processes, alternating (baseline, current, baseline, ...): two copies of the pipeline in
 * one process skew each other (shared garbage collection, the order within a round), measured at 1.4× for
 * identical code. Per process the median of its rounds.
 */
async function cpuPerSpan(roots: string[], processes: number): Promise<number[][]> {
  const samples = roots.map(() => [] as number[]);
  for (let p = 0; p < processes; p++) {
    for (let k = 0; k < roots.length; k++) {
      const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--cpu-worker', roots[k], '--spans', String(SPANS), '--rounds', String(ROUNDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.once('exit', r));
      if (code !== 0) throw new Error(`cpu worker for ${roots[k]} exited with ${code}`);
      samples[k].push(median(JSON.parse(out) as number[]));
    }
  }
  return samples;
}

async function endToEnd(main: string, payloads: TracePayload[], env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-speed-'));
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, RAGSCOPE_PORT: String(port), RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, 120_000);
    const threadsBefore = threadCpuSeconds(child.pid!);
    let next = 0;
    let failures = 0;
    let retries = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const payload = payloads[next++ % payloads.length];
          // Like an exporter: 429/503 (body slots or spool full) and connection errors are retried, up to 20 times.
          for (let attempt = 0; ; attempt++) {
            const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payload.protobuf }).catch((err: Error) => err);
            if (res instanceof Error) {
              // A connection reset (the server under heavy load): retried like a 503; the duplicate memory drops a repeat.
              if (attempt === 20) throw res;
              retries++;
              await new Promise((r) => setTimeout(r, 1000));
              continue;
            }
            await res.arrayBuffer();
            if (res.status === 200) break;
            if ((res.status !== 429 && res.status !== 503) || attempt === 20) {
              failures++;
              break;
            }
            retries++;
            await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? '1')));
          }
        }
      }),
    );
    const flushed = await fetch(`${url}/v1/flush?timeout_ms=600000`, { method: 'POST' });
    if (!flushed.ok) throw new Error(`flush: ${flushed.status} ${await flushed.text()}`);
    const seconds = (performance.now() - started) / 1000;
    const cpuPerSpanByThread = cpuMicrosPerSpan(threadsBefore, threadCpuSeconds(child.pid!), REQUESTS * SPANS);
    const counted = await fetch(`${url}/sql`, { method: 'POST', body: 'SELECT (SELECT count() FROM otel_traces), (SELECT count() FROM genai_spans) FORMAT TSV' });
    const [storedSpans, storedGenai] = (await counted.text()).trim().split('\t').map(Number);
    const spans = REQUESTS * SPANS;
    if (failures > 0 || storedSpans !== spans) throw new Error(`${main}: ${failures} non-200 answers, ${storedSpans} of ${spans} spans stored`);
    return { spans, storedGenai, retries, seconds: r2(seconds), spansPerSecond: Math.round(spans / seconds), cpuPerSpanByThread };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (args['cpu-worker']) {
    const payloads = Array.from({ length: 8 }, (_, i) => buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 + i * 60_000 }));
    process.stdout.write(JSON.stringify(cpuRounds(await pipelineOf(args['cpu-worker']), payloads)));
    return;
  }
  const rev = args['baseline-rev']!;
  const baseline = baselineCheckout(rev);
  const payloads = args['no-e2e'] ? [] : Array.from({ length: REQUESTS }, (_, i) => buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 + i * 60_000 }));
  const loadBefore = loadavg();
  console.log(`ragscope bench:speed — node ${process.version}, baseline ${rev} vs current, ${REQUESTS} requests × ${SPANS} spans; load average ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}`);

  const [cpuBase, cpuNow] = args['no-cpu'] ? [[NaN], [NaN]] : await cpuPerSpan([baseline, ROOT], Number(args['cpu-processes']));
  const cpu = {
    baselineMedianUs: r2(median(cpuBase)),
    currentMedianUs: r2(median(cpuNow)),
    baselineMinUs: r2(Math.min(...cpuBase)),
    currentMinUs: r2(Math.min(...cpuNow)),
    ratio: r2(median(cpuBase) / median(cpuNow)),
  };
  console.log('\n(a) processor CPU per span (decode + normalize + dedupe + price + insert body), process CPU time, fresh processes alternating');
  console.log(`  baseline ${rev}: median ${cpu.baselineMedianUs} µs, least ${cpu.baselineMinUs} µs (per process: ${cpuBase.map(r2).join(', ')})`);
  console.log(`  current:          median ${cpu.currentMedianUs} µs, least ${cpu.currentMinUs} µs (per process: ${cpuNow.map(r2).join(', ')})  → ${cpu.ratio}× less CPU (target ≤ 7 µs)`);

  const e2e: { target: string; spansPerSecond: number; seconds: number; storedGenai: number; retries: number; cpuPerSpanByThread: Record<string, number> }[] = [];
  if (!args['no-e2e']) {
    console.log('\n(b) end to end: OTLP/HTTP protobuf → processor → rows committed (/v1/flush)');
    for (let run = 0; run < Number(args['e2e-runs']); run++) {
      const settings = (list: string[]) => Object.fromEntries(list.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
      const variant = `variant ${args['variant-env'].join(' ')}`;
      for (const [target, main] of [
        [`baseline ${rev}`, processorMain(baseline)],
        ['current', processorMain(ROOT)],
        ...(args['variant-env'].length > 0 ? [[variant, processorMain(ROOT)] as const] : []),
      ] as const) {
        // --env NAME=VALUE settings apply to the current processor only: the baseline runs as shipped.
        const env = target === 'current' ? settings(args.env) : target === variant ? { ...settings(args.env), ...settings(args['variant-env']) } : {};
        const r = await endToEnd(main, payloads, env);
        e2e.push({ target, ...r });
        console.log(`  ${target.padEnd(18)} ${r.spansPerSecond.toLocaleString('en-US').padStart(8)} spans/s (${r.spans} spans in ${r.seconds} s; ${r.retries} requests retried after 429/503; load ${loadavg()[0].toFixed(2)})`);
        const threads = Object.entries(r.cpuPerSpanByThread);
        if (threads.length > 0) console.log(`    CPU µs/span by thread: ${threads.map(([name, us]) => `${name} ${us}`).join(', ')} (total ${r2(threads.reduce((n, [, us]) => n + us, 0))})`);
      }
    }
  }
  const best = (t: string) => Math.max(...e2e.filter((r) => r.target.startsWith(t)).map((r) => r.spansPerSecond));
  const e2eRatio = e2e.length > 0 ? r2(best('current') / best('baseline')) : null;
  if (e2eRatio !== null) console.log(`  best of each: ${e2eRatio}× the baseline's spans/s (target ≥ 2×)`);
  const variantRatio = args['variant-env'].length > 0 && e2e.length > 0 ? r2(best('variant') / best('baseline')) : null;
  if (variantRatio !== null) console.log(`  variant ${args['variant-env'].join(' ')}, best: ${variantRatio}× the baseline's spans/s`);
  const loadAfter = loadavg();
  console.log(`load average at the end ${loadAfter.map((x) => x.toFixed(2)).join(' / ')}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    resolve(ROOT, args.out!),
    `${JSON.stringify({ benchmark: 'speed', date: new Date().toISOString(), node: process.version, baselineRev: rev, loadAverage: { start: loadBefore, end: loadAfter }, parameters: { requests: REQUESTS, spansPerRequest: SPANS, concurrency: CONCURRENCY, rounds: ROUNDS, env: args.env, variantEnv: args['variant-env'] }, cpuMicrosPerSpan: { ...cpu, baselineSamples: cpuBase.map(r2), currentSamples: cpuNow.map(r2) }, endToEnd: e2e, endToEndRatio: e2eRatio, variantRatio }, null, 2)}\n`,
  );
  console.log(`\nwrote ${args.out}`);
}

await main();
