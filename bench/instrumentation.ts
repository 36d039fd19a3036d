// npm run bench:instrumentation [-- --rounds 3 --pairs 120 --block 16 --write-docs]
//
// Per-call overhead of tracing a (non-streamed) chat completion made with the real `openai` SDK:
// @ragscope/instrumentation vs @traceloop/instrumentation-openai (OpenLLMetry) vs uninstrumented, in the
// same run, against the local HTTP stub of the API (and, to take kernel/scheduler noise out, with an
// in-process fetch returning the same response). Each figure comes from a fresh process
// (bench/instrumentation-worker.ts) that alternates small blocks of instrumented and uninstrumented calls
// (two copies of the same SDK version, only one patched), so that load on this shared machine hits both
// sides alike. Spans are exported as in an app (batch processor, OTLP/HTTP protobuf to a local sink):
// one batch holds every span of a worker (OTEL_BSP_*, same settings on both sides), so nothing is exported
// inside a timed block and the final flush, which serializes and sends every timed span, is timed and
// charged per instrumented call. (Before, 512-span batches were exported inside whichever timed block
// completed them, where the 10th percentile and the trimmed mean mostly left them out, and only the last
// partial batch was charged: most of the export cost went uncounted, on both sides.)
// With --before <dir> a previous build of the package is measured in the same run.
// A separate process measures, the same way, the cost of OpenTelemetry context
// propagation itself (AsyncLocalStorage on vs off), which every OTel instrumentation pays on Node 20.
// Rounds run the processes in random order; reported figures are medians over rounds.
// Writes bench/results/instrumentation.json; with --write-docs also the "Instrumentation overhead"
// section of docs/benchmarks.md (and nothing else in that file).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : Number(process.env[`BENCH_${name.toUpperCase()}`] ?? fallback);
};
const ROUNDS = flag('rounds', 3);
const PAIRS = flag('pairs', 120);
const BLOCK = flag('block', 16);
const WARMUP = flag('warmup', 300);
const WRITE_DOCS = args.includes('--write-docs');
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
// --experiments: also the control modes (ids x-*) that look for asymmetries of the pairing itself.
const EXPERIMENTS = args.includes('--experiments');
// --node-arg ARG (repeatable): extra node option of every worker (e.g. --cpu-prof, --trace-gc).
const NODE_ARGS = args.flatMap((a, i) => (a === '--node-arg' ? [args[i + 1]!] : []));
// --env KEY=VALUE (repeatable): extra environment of every worker.
const EXTRA_ENV: Record<string, string> = {};
args.forEach((a, i) => {
  if (a === '--env') {
    const [k, ...v] = args[i + 1]!.split('=');
    EXTRA_ENV[k!] = v.join('=');
  }
});
// --before <dir>: a previous build of the package (its package.json + dist/) measured in the same run.
const BEFORE = args.includes('--before') ? resolve(args[args.indexOf('--before') + 1]!) : undefined;
const BEFORE_LABEL = args.includes('--before-label') ? args[args.indexOf('--before-label') + 1]! : 'previous build';

/** A copy of node_modules/<source> installed as package `name` (`openai` is what the require hooks patch). */
function sdkCopy(source: string, name: 'openai' | 'openai-plain', tag: string): { dir: string; version: string } {
  const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules', source, 'package.json'), 'utf8')) as { version: string }).version;
  const base = join(ROOT, 'node_modules', '.cache', 'ragscope-tests', `${name === 'openai' ? '' : 'plain-'}${tag}-${version}`);
  const target = join(base, 'node_modules', name);
  if (!existsSync(join(target, 'package.json'))) {
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(ROOT, 'node_modules', source), target, { recursive: true, filter: (src) => !/\.(d\.ts|d\.mts|map|mjs)$/.test(src) && !src.includes(`${source}/src/`) });
  }
  return { dir: base, version };
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1763800000,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: {
    prompt_tokens: 24,
    completion_tokens: 2,
    total_tokens: 26,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
});

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

type Sample = { wallUs: number; cpuUs: number };
interface WorkerResult {
  mode: string;
  pairs: number;
  block: number;
  a: Sample[];
  b: Sample[];
  diffs: Sample[];
  flushWallUs: number;
  flushCpuUs: number;
  /** The main thread's share of flushCpuUs (Linux only). */
  flushMainCpuUs?: number;
  spansExported?: number;
}

interface Mode {
  id: string;
  label: string;
  transport: 'http' | 'inprocess';
  worker: 'context' | 'ragscope' | 'ragscope-before' | 'traceloop' | 'copies' | 'als';
  instrumented: { dir: string; version: string };
  plain: { dir: string; version: string };
  /** Extra environment of the worker (the experiment modes). */
  env?: Record<string, string>;
  /** Extra node options of the worker (the experiment modes). */
  nodeArgs?: string[];
}

function runWorker(mode: Mode, baseEnv: Record<string, string>): Promise<WorkerResult> {
  const nodeArgs = [...NODE_ARGS, ...(mode.nodeArgs ?? []), '--import', 'tsx'];
  if (mode.worker === 'ragscope') nodeArgs.push('--import', '@ragscope/instrumentation/register');
  if (mode.worker === 'ragscope-before') nodeArgs.push('--import', pathToFileURL(join(BEFORE!, 'dist/register.js')).href);
  nodeArgs.push(join(ROOT, 'bench/instrumentation-worker.ts'), mode.worker, mode.instrumented.dir, mode.plain.dir, String(PAIRS), String(BLOCK), String(WARMUP));
  const env = { ...process.env, ...baseEnv, ...mode.env, BENCH_TRANSPORT: mode.transport, STUB_BODY: COMPLETION };
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, nodeArgs, { cwd: ROOT, env, timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${mode.id}: ${err.message}\n${stderr}`));
      resolvePromise(JSON.parse(stdout.trim().split('\n').pop()!) as WorkerResult);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Mean without the lowest and highest 10 %: keeps GC pauses caused by the instrumentation, drops load spikes. */
const trimmedMean = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length * 0.1);
  const kept = s.slice(k, s.length - k);
  return kept.reduce((x, y) => x + y, 0) / kept.length;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};

function analyse(res: WorkerResult) {
  return {
    // Least-disturbed estimate: the 10th percentile of per-call time over blocks, each side, then the
    // difference. On a contended machine the fastest blocks are the ones that ran without interference.
    // The export is charged at its CPU time in the wall columns too: the flush's wall time is mostly the wait
    // for the sink's answer (slow on a loaded machine), during which the app's event loop is free.
    p10OverheadWallUs: quantile(res.a.map((x) => x.wallUs), 0.1) - quantile(res.b.map((x) => x.wallUs), 0.1) + res.flushCpuUs,
    p10OverheadCpuUs: quantile(res.a.map((x) => x.cpuUs), 0.1) - quantile(res.b.map((x) => x.cpuUs), 0.1) + res.flushCpuUs,
    aWallUs: median(res.a.map((x) => x.wallUs)),
    aCpuUs: median(res.a.map((x) => x.cpuUs)),
    bWallUs: median(res.b.map((x) => x.wallUs)),
    bCpuUs: median(res.b.map((x) => x.cpuUs)),
    overheadWallUs: trimmedMean(res.diffs.map((d) => d.wallUs)) + res.flushCpuUs,
    overheadCpuUs: trimmedMean(res.diffs.map((d) => d.cpuUs)) + res.flushCpuUs,
    exportWallUs: res.flushWallUs,
    exportCpuUs: res.flushCpuUs,
    exportMainThreadCpuUs: res.flushMainCpuUs ?? NaN,
  };
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'instrumentation'], { cwd: ROOT, stdio: 'inherit' });
  const v6 = sdkCopy('openai-v6', 'openai', 'v6');
  const v6plain = sdkCopy('openai-v6', 'openai-plain', 'v6');
  const v7 = sdkCopy('openai', 'openai', 'v7');
  const v7plain = sdkCopy('openai', 'openai-plain', 'v7');
  const traceloopVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@traceloop/instrumentation-openai/package.json'), 'utf8')) as { version: string }).version;
  const tl = `@traceloop/instrumentation-openai ${traceloopVersion} (OpenLLMetry)`;
  const modes: Mode[] = [];
  for (const transport of ['http', 'inprocess'] as const) {
    modes.push(
      { id: `context-v6-${transport}`, label: 'OTel context propagation only (AsyncLocalStorage on vs off)', transport, worker: 'context', instrumented: v6, plain: v6plain },
      { id: `ragscope-v6-${transport}`, label: '**@ragscope/instrumentation**', transport, worker: 'ragscope', instrumented: v6, plain: v6plain },
      { id: `traceloop-v6-${transport}`, label: tl, transport, worker: 'traceloop', instrumented: v6, plain: v6plain },
    );
    if (BEFORE) modes.push({ id: `before-v6-${transport}`, label: `@ragscope/instrumentation, ${BEFORE_LABEL}`, transport, worker: 'ragscope-before', instrumented: v6, plain: v6plain });
  }
  if (EXPERIMENTS) {
    for (const transport of ['http', 'inprocess'] as const) {
      modes.push(
        { id: `x-copies-${transport}`, label: 'control: no instrumentation, `openai` copy vs `openai-plain` copy', transport, worker: 'copies', instrumented: v6, plain: v6plain },
        { id: `x-als-span-${transport}`, label: 'control: ALS on both sides, context.with(span context) vs none (same copy)', transport, worker: 'als', instrumented: v6, plain: v6plain, env: { BENCH_ALS_CTX: 'span' } },
        { id: `x-als-value-${transport}`, label: 'control: ALS on both sides, context.with(context with a value) vs none (same copy)', transport, worker: 'als', instrumented: v6, plain: v6plain, env: { BENCH_ALS_CTX: 'value' } },
        ...(transport === 'inprocess'
          ? ['immediate', 'idle', 'spin', 'thrash'].map((w) => ({ id: `x-rs-wait-${w}-inprocess`, label: `control: ragscope, in-process fetch that ${w}s`, transport, worker: 'ragscope' as const, instrumented: v6, plain: v6plain, env: { BENCH_WAIT: w } }))
          : []),
        // GC: a young generation 4x the default (fewer scavenges), and batches of 512 spans exported as they fill
        // (inside the timed blocks, as in an app) instead of every span held until the final flush.
        { id: `x-rs-semi64-${transport}`, label: 'control: ragscope, --max-semi-space-size=64', transport, worker: 'ragscope', instrumented: v6, plain: v6plain, nodeArgs: ['--max-semi-space-size=64'] },
        { id: `x-copies-semi64-${transport}`, label: 'control: copies, --max-semi-space-size=64', transport, worker: 'copies', instrumented: v6, plain: v6plain, nodeArgs: ['--max-semi-space-size=64'] },
        { id: `x-rs-batch512-${transport}`, label: 'control: ragscope, 512-span batches exported when full', transport, worker: 'ragscope', instrumented: v6, plain: v6plain, env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512', RAGSCOPE_BENCH_VARIANT: 'batch512' } },
        // Scratch switches of the OpenAI wrapper (RAGSCOPE_BENCH_VARIANT, read by a scratch build only).
        ...['outside', 'nospan', 'noend', 'noattrs'].map((v) => ({ id: `x-rs-${v}-${transport}`, label: `control: ragscope, wrapper variant ${v}`, transport, worker: 'ragscope' as const, instrumented: v6, plain: v6plain, env: { RAGSCOPE_BENCH_VARIANT: v } })),
        { id: `x-als-root-${transport}`, label: 'control: ALS on both sides, context.with(ROOT_CONTEXT) vs none (same copy)', transport, worker: 'als', instrumented: v6, plain: v6plain, env: { BENCH_ALS_CTX: 'root' } },
      );
    }
  }
  modes.push({ id: 'ragscope-v7-http', label: '**@ragscope/instrumentation**, openai v7 (OpenLLMetry does not support v7)', transport: 'http', worker: 'ragscope', instrumented: v7, plain: v7plain });

  let requests = 0;
  const stub = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION), 'x-request-id': 'req_bench' });
      res.end(COMPLETION);
    });
  });
  let exportRequests = 0;
  let exportBytes = 0;
  const sink = await listen((req, res) => {
    req.on('data', (c: Buffer) => (exportBytes += c.length));
    req.on('end', () => {
      exportRequests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  const env = {
    ...EXTRA_ENV,
    STUB_URL: stub.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: 'bench',
    RAGSCOPE_PRELOAD: 'false',
    // One batch holds every span of a worker: nothing is exported inside a timed block (where the 10th
    // percentile and the trimmed mean would leave it out), and the final flush, charged per instrumented
    // call, exports all of it. ragscope reads these; the OpenLLMetry worker passes the same to its processor.
    OTEL_BSP_MAX_QUEUE_SIZE: String(PAIRS * BLOCK + WARMUP + 64),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(PAIRS * BLOCK + WARMUP + 64),
    OTEL_BSP_SCHEDULE_DELAY: '3600000',
  };

  // --only a,b: the modes whose id contains a or b.
  if (ONLY) modes.splice(0, modes.length, ...modes.filter((m) => ONLY.split(',').some((o) => m.id.includes(o))));
  const results = new Map<string, WorkerResult[]>(modes.map((m) => [m.id, []]));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order = [...modes].sort(() => Math.random() - 0.5);
      for (const mode of order) {
        const res = await runWorker(mode, env);
        results.get(mode.id)!.push(res);
        const o = analyse(res);
        process.stderr.write(
          `round ${r + 1}/${ROUNDS} ${mode.id.padEnd(22)} off ${o.bWallUs.toFixed(1)} / ${o.bCpuUs.toFixed(1)}  on ${o.aWallUs.toFixed(1)} / ${o.aCpuUs.toFixed(1)}  ` +
            `overhead ${o.overheadWallUs.toFixed(1)} wall / ${o.overheadCpuUs.toFixed(1)} CPU µs/call, least-disturbed ${o.p10OverheadWallUs.toFixed(1)} / ${o.p10OverheadCpuUs.toFixed(1)} (export ${o.exportCpuUs.toFixed(1)}${Number.isFinite(o.exportMainThreadCpuUs) ? `, main thread ${o.exportMainThreadCpuUs.toFixed(1)}` : ''})\n`,
        );
      }
    }
  } finally {
    await stub.close();
    await sink.close();
  }

  const summary = modes.map((m) => {
    const runs = results.get(m.id)!.map(analyse);
    const med = (k: keyof ReturnType<typeof analyse>) => round1(median(runs.map((x) => x[k])));
    return {
      id: m.id,
      label: m.label,
      transport: m.transport,
      sdk: m.instrumented.version,
      offWallUsPerCall: med('bWallUs'),
      offCpuUsPerCall: med('bCpuUs'),
      onWallUsPerCall: med('aWallUs'),
      onCpuUsPerCall: med('aCpuUs'),
      overheadWallUs: med('overheadWallUs'),
      overheadCpuUs: med('overheadCpuUs'),
      p10OverheadWallUs: med('p10OverheadWallUs'),
      p10OverheadCpuUs: med('p10OverheadCpuUs'),
      exportWallUs: med('exportWallUs'),
      exportCpuUs: med('exportCpuUs'),
      exportMainThreadCpuUs: med('exportMainThreadCpuUs'),
      perRound: runs.map((x) => ({
        overheadWallUs: round1(x.overheadWallUs),
        overheadCpuUs: round1(x.overheadCpuUs),
        p10OverheadWallUs: round1(x.p10OverheadWallUs),
        p10OverheadCpuUs: round1(x.p10OverheadCpuUs),
      })),
    };
  });
  const get = (id: string) => summary.find((s) => s.id === id)!;
  const overheads: Record<string, { wallUs: number; cpuUs: number }> = {};
  for (const s of summary) overheads[s.id] = { wallUs: s.overheadWallUs, cpuUs: s.overheadCpuUs, p10WallUs: s.p10OverheadWallUs, p10CpuUs: s.p10OverheadCpuUs } as { wallUs: number; cpuUs: number };

  const out = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map(round1),
    rounds: ROUNDS,
    pairsPerRun: PAIRS,
    callsPerBlock: BLOCK,
    warmupPerSide: WARMUP,
    workerEnv: EXTRA_ENV,
    stubRequests: requests,
    otlpExportRequests: exportRequests,
    otlpExportBytes: exportBytes,
    targetOverheadUs: 50,
    summary,
    overheads,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/instrumentation.json'), `${JSON.stringify(out, null, 2)}\n`);

  const rows: string[] = [];
  for (const transport of ['http', 'inprocess'] as const) {
    for (const s of summary.filter((x) => x.transport === transport)) {
      const t = transport === 'http' ? 'HTTP stub' : 'in-process fetch';
      rows.push(
        `| ${t} | ${s.label} | ${s.sdk} | ${s.offWallUsPerCall} / ${s.offCpuUsPerCall} | ${s.onWallUsPerCall} / ${s.onCpuUsPerCall} | ${s.overheadWallUs} / ${s.overheadCpuUs} | **${s.p10OverheadWallUs}** / **${s.p10OverheadCpuUs}** |`,
      );
    }
  }
  const table = [
    '| transport | what | openai | µs/call without (median; wall / CPU) | µs/call with (median; wall / CPU) | overhead µs/call, paired mean (wall / CPU) | overhead µs/call, least-disturbed (wall / CPU) |',
    '|---|---|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  console.log(`\n${table}\n`);
  const verdicts: string[] = [];
  for (const transport of ['http', 'inprocess']) {
    if (!summary.some((x) => x.id === `ragscope-v6-${transport}`) || !summary.some((x) => x.id === `traceloop-v6-${transport}`) || !summary.some((x) => x.id === `context-v6-${transport}`)) continue;
    const r = get(`ragscope-v6-${transport}`);
    const t = get(`traceloop-v6-${transport}`);
    const c = get(`context-v6-${transport}`);
    const ok = r.p10OverheadWallUs <= 50 && r.p10OverheadWallUs < t.p10OverheadWallUs;
    const columns = (['overheadWallUs', 'overheadCpuUs', 'p10OverheadWallUs', 'p10OverheadCpuUs'] as const).filter((k) => r[k] >= t[k]);
    verdicts.push(
      `${transport === 'http' ? 'HTTP stub' : 'in-process fetch'}: ragscope ${r.p10OverheadWallUs} µs least-disturbed wall (target ≤ 50: ${r.p10OverheadWallUs <= 50 ? 'met' : 'not met'}); ` +
        (columns.length === 0 ? 'below OpenLLMetry in every column.' : `not below OpenLLMetry in ${columns.length} of 4 overhead columns (${columns.join(', ')}).`),
    );
    console.log(
      `${transport}: ragscope ${r.overheadWallUs} / ${r.overheadCpuUs} µs per call paired mean (wall / CPU), ${r.p10OverheadWallUs} / ${r.p10OverheadCpuUs} least-disturbed; ` +
        `OpenLLMetry ${t.overheadWallUs} / ${t.overheadCpuUs}, ${t.p10OverheadWallUs} / ${t.p10OverheadCpuUs}; context propagation (both pay it) ${c.p10OverheadWallUs} / ${c.p10OverheadCpuUs}. ` +
        `Target (least-disturbed wall ≤ 50 µs and below OpenLLMetry): ${ok ? 'met' : 'NOT met'}`,
    );
  }
  if (WRITE_DOCS) writeDocs(out, table, verdicts);
}

function writeDocs(out: { date: string; node: string; cpu: string; cpus: number; loadAverage: number[]; rounds: number; pairsPerRun: number; callsPerBlock: number }, table: string, verdicts: string[]): void {
  const path = join(ROOT, 'docs/benchmarks.md');
  const section = `## Instrumentation overhead

\`npm run bench:instrumentation\` (bench/instrumentation.ts, bench/instrumentation-worker.ts): per-call overhead of tracing a
non-streamed chat completion made with the real \`openai\` SDK, @ragscope/instrumentation vs @traceloop/instrumentation-openai
(OpenLLMetry, with its defaults), same run. Transport: the local HTTP stub of the API (what an app sees), and an in-process
\`fetch\` returning the same response (no socket: leaves the SDK's and the instrumentation's own work).

Method. The machine is shared (other work running), so absolute per-call times drift by more than the overhead. Every figure
is paired inside one process: ${out.pairsPerRun} pairs of ${out.callsPerBlock}-call blocks, instrumented and uninstrumented in random order within each
pair, using two copies of the same SDK version of which only one is patched. Two estimates: *paired mean* = trimmed mean
(10 %) of the per-pair differences (includes the extra slowdown that contention inflicts on the longer instrumented path);
*least-disturbed* = 10th percentile of per-call block time with minus without (on a contended machine the fastest blocks
are those that ran undisturbed: the closest to an idle machine). Spans are exported as in an app (batch processor,
OTLP/HTTP protobuf to a local sink), with one batch large enough for every span of a worker (\`OTEL_BSP_*\`, the same
for both instrumentations): nothing is exported inside a timed block, and the final flush, which serializes and sends
every timed span, is timed and charged to the instrumented calls at its CPU time (in the wall columns too: its wall time
is mostly the wait for the sink's answer, during which the app's event loop is free). "OTel context propagation" is measured the same way with only
OpenTelemetry's AsyncLocalStorage context manager, on vs off: on Node 20 AsyncLocalStorage hooks every promise once in use,
a cost every OpenTelemetry instrumentation pays on top of its own (it is active on both sides of the instrumentation pairs,
so not included in their figures). CPU = user + system time of the app process. ${out.rounds} rounds, fresh processes in random order,
medians over rounds. Run ${out.date.slice(0, 10)}: ${out.cpu}, ${out.cpus} cores (load average ${out.loadAverage.join(' / ')}), Node ${out.node}.
Raw figures: bench/results/instrumentation.json.

${table}

This run: ${verdicts.join(' ')}

OpenLLMetry records prompts and completions by default (ragscope does not) and does not support \`openai\` v7.${BEFORE ? `

"${BEFORE_LABEL}" is an earlier build of the package (its package.json + dist/), measured in the same run with the same
settings: the same-run A/B of whatever changed since.` : ''}

Where the time went with the SDK's tracer (\`node --cpu-prof\` of the in-process worker, 9,900 calls, quiet machine; per call): ~23 µs
exporting the span (OpenTelemetry's OTLP protobuf serializer, two-thirds of it writing attribute strings), charged to
the calls at its CPU time; ~30 µs the call path, almost all inside the OTel SDK: \`Tracer.startSpan\` ~16 (span object,
attribute validation twice, ids), \`context.with\` (AsyncLocalStorage) ~6, \`Span.end\` ~6, \`setAttributes\` ~4;
ragscope's own code under 1 µs per step. Earlier changes: export deferred out of the call that fills a batch, no zero
token counts, content policy skipped on ragscope's own spans when capture is off, no per-call \`bind\`.
Levers tried on 2026-12-04, each measured in one process A/B (\`npm run bench:span-export\`, bench/span-export.ts;
load average 6-9 on the 2 cores, medians of 15 alternating rounds):
- OTLP/protobuf serialization (kept): ragscope's own serializer (instrumentation/src/otlp-span-serializer.ts: one pass,
  cached bytes of keys, resource and scope, ids from hex through a table, messages handed over without a copy and
  their memory reused once answered) 1.5-3.1 µs per chat span vs 4.4-8.5 for OpenTelemetry's ProtobufTraceSerializer
  (2.6-2.9x in three runs; byte-identical output, tested). A first version that copied each message out of one
  reused buffer measured 1.5-3.0x in five runs: not conclusively slower, but it copies into fresh memory per export.
- Trace/span ids (kept): ids from a pool of \`crypto.randomFillSync\` bytes, 0.14-0.15 µs per trace+span id pair vs
  0.22-0.27 for the SDK's RandomIdGenerator (1.6-1.8x, ~0.1 µs per call). An earlier variant that hex-encoded
  through a lookup table in JS was no faster than the SDK (0.9-1.35x).
- Attributes at span start vs at the end (not changed): all 11 in one \`setAttributes\` at the end vs 6 at
  \`startSpan\` + 5 at the end differ by 0.2-0.5 µs per span (the SDK validates start attributes twice); the request
  attributes stay at \`startSpan\`, where samplers see them. The wrapper already makes one \`context.with\`, one
  \`setAttributes\` and one promise reaction per call.
In the full benchmark the serializer's gain is smaller than in isolation: the worker's timed flush is only the second
export of the process, when V8 has not finished optimizing the serializer (measured for ragscope's, with register()
and 2,220-span flushes: 32-46 µs per span in the first export of a process, 8-23 in the second, 2-11 later), and the
flush's CPU also counts garbage collection and the HTTP send. That the timed export comes too early for the JIT is not
why it costs ~20 µs per call, though: with the warm-up ended by five exports instead of one (\`--env BENCH_WARM_EXPORTS=5\`,
2026-12-05 01:21-01:25 UTC, load 1.4-1.7, bench/results/instrumentation-warm-exports-5.json) the timed flush, the process's
sixth export, still charged 19.4-26.9 µs per call to ragscope (ten worker processes), as much as in the default runs.
Since 2026-12-05 the worker also reads the main thread's own CPU during the flush (\`/proc/thread-self/schedstat\`,
"main thread" in the round lines, \`exportMainThreadCpuUs\` in the JSON): in the 01:55-01:58 UTC run (load 1.7-2.8,
bench/results/instrumentation-2026-12-05-main-thread.json) it was 7.5-13.0 µs of ragscope's 16.5-28.2 per call (medians:
HTTP 9.1 of 22.8, in-process 10.4 of 24.8) and 13.7-23.5 of OpenLLMetry's 28.2-47.7: about half of what the export is
charged runs on the process's other threads (garbage collection helpers, the compiler), which an app's event loop
does not wait for on a machine with a spare core. The charged figure stays the whole process's CPU (the conservative
choice); the main-thread figure says what the event loop itself pays.

**Why the same code costs ~2.4× more over HTTP** (session 6, \`npx tsx bench/instrumentation.ts --experiments
--only ragscope-v6-,x-rs-wait --rounds 3\`, bench/experiments/README.md; load 2-5, least-disturbed wall µs per call,
medians of 3 rounds; the wrapper's own synchronous work timed with bench/experiments/openai-wrapper-variants.patch):

| transport (in-process fetch unless HTTP) | overhead | the wrapper's synchronous work (start span + end), per round |
|---|---:|---|
| answers at once | 45.6 | 13.9 / 17.2 / 23.6 |
| answers after one event-loop turn | 74.9 | 24.1 / 24.9 / 26.5 |
| answers after a 500 µs busy wait | 89.4 | 21.6 / 30.7 / 37.5 |
| answers after a 1 ms timer (the process sleeps) | 144.7 | 39.9 / 53.7 / 57.0 |
| HTTP stub | 150.3 | 40.0 / 52.8 / 68.4 |

Not the socket, not the pairing: a fetch with no socket that waits on a 1 ms timer costs what the HTTP stub costs.
While the process waits, other work (the stub, the HTTP stack, other processes) evicts the instrumentation's code
and data from the CPU's caches, and the same 15-20 µs of span work then takes 40-65 µs; the uninstrumented SDK's
own code slows the same way (169 vs 60 µs per call in split CPU profiles). Ruled out by the controls: the two SDK
copies (no asymmetry beyond noise), running the call under a non-empty context (nothing measurable), held spans and
the young generation (no consistent effect; ±20 µs cannot be excluded). Cold, the costs per call are about 21-24 µs
to start the span, 8 for \`span.end\`, 7 for the result attributes and 3 for \`context.with\`, nearly all inside
OpenTelemetry's span implementation. **The HTTP figure is what an app waiting on the network sees; the in-process
figure is the warm best case.** Reaching ≤ 50 µs over HTTP meant halving the SDK's per-span work, not
ragscope's (under 1 µs per step): hence ragscope's own tracer (below).

**ragscope's own tracer** (2026-12-04, session 9): under \`register()\` the OpenAI and RAG-helper spans are made by
instrumentation/src/own-tracer.ts over the very processors, sampler, limits, id generator and resource handed to NodeSDK
(instrumentation/src/span-settings.ts), with OpenTelemetry's public attribute helpers: the same spans (tested side by
side with the SDK's Tracer), less code around them. The row "SDK tracer, the build before this change" is the same-run
A/B. What remains per call is AsyncLocalStorage (\`context.with\`), the span's attribute validation, the processors
(request-context stamping, the batch queue) and, charged at its CPU time, the export.

Reading the figures. The target is ≤ 50 µs per call (least-disturbed wall) and below OpenLLMetry in every column. Per-call
times here are several times those of an idle machine and overheads scale with them: the least-disturbed column is the fair
one to compare with the target, the paired mean shows how much worse it gets under contention. The load average of the run
is printed above; figures from a run on a loaded machine are not comparable with those of an idle one.

Versions: ragscope on the current OpenTelemetry JS generation (\`@opentelemetry/api\` 1.10, sdk-node 0.301, sdk-trace 3.x)
with its own OpenAI instrumentation; OpenLLMetry 0.27 depends on the previous generation (\`@opentelemetry/core\` 2.x,
\`@opentelemetry/instrumentation\` 0.203), run here with the repository's single api 1.10 copy (npm \`overrides\`) and
exporting through sdk-node 0.301, like ragscope.
`;
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const start = doc.indexOf('## Instrumentation overhead');
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1);
    doc = doc.slice(0, start) + section + (next >= 0 ? `\n${doc.slice(next + 1)}` : '');
  } else {
    doc = `${doc.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, doc);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
