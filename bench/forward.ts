// Ingest throughput with forwarding off vs on (downstream healthy, dead and slow), in one run: the cost
// forwarding adds to ingestion (goal: within 10 % of off). "healthy" (a sink answering at once) is forwarding's own
// work; dead and slow show what a failing downstream adds on top of it. Each round starts a fresh processor per setting
// (settings alternate in order between rounds) and sends the same OTLP/HTTP protobuf payloads.
// Throughput = spans acknowledged per second.
//   npm run bench:forward [-- --requests 60 --spans 512 --concurrency 16 --rounds 5 --slow-ms 200]
//   --baseline DIR     also measure the processor built in DIR (DIR/processor/dist/start.cjs, e.g. a copy of main's
//                      build) in the same rotation: before/after figures from one run
//   --cpu-prof-dir DIR run every processor under node --cpu-prof, profiles written to DIR
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { freePort, waitReady } from './support/processor.js';

const { values: args } = parseArgs({
  options: { requests: { type: 'string' }, spans: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, 'slow-ms': { type: 'string' }, baseline: { type: 'string' }, 'cpu-prof-dir': { type: 'string' } },
});
const REQUESTS = Number(args.requests ?? 60);
const SPANS = Number(args.spans ?? 512);
const CONCURRENCY = Number(args.concurrency ?? 16);
const ROUNDS = Number(args.rounds ?? 5);
const SLOW_MS = Number(args['slow-ms'] ?? 200);
const BASELINE = args.baseline;
const CPU_PROF_DIR = args['cpu-prof-dir'];

interface Setting {
  entry: string;
  env: Record<string, string>;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // fields[0] is field 3 (state): utime and stime (fields 14 and 15) are at 11 and 12, in clock ticks (USER_HZ = 100 on Linux)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function measure(payloads: Uint8Array[], { entry, env: forwardEnv }: Setting): Promise<{ spansPerSecond: number; cpuMsPer1000Spans: number; failures: number; metrics: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-fwd-'));
  const port = await freePort();
  const child = spawn(process.execPath, [...(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : []), entry], {
    env: { ...process.env, RAGSCOPE_PORT: String(port), RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_LOG_LEVEL: 'error',
      // Every client request gets a body slot: refusals would measure the limit, not forwarding.
      RAGSCOPE_MAX_CONCURRENT_BODIES: String(CONCURRENCY), ...forwardEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
    let next = 0;
    let failures = 0;
    let acknowledged = 0;
    const cpuBefore = cpuSeconds(child.pid!);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          try {
            const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payloads[next++ % payloads.length] as Uint8Array<ArrayBuffer> });
            await res.arrayBuffer();
            if (res.status === 200) acknowledged++;
            else failures++;
          } catch {
            failures++; // connection reset under overload: not acknowledged
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    const metrics = (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('ragscope_forward')).join('; ');
    return { spansPerSecond: (acknowledged * SPANS) / seconds, cpuMsPer1000Spans: (cpu * 1000 * 1000) / (acknowledged * SPANS), failures, metrics };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The forwarding-off setting a setting is compared with (the baseline build's for base-*). */
const offOf = (name: string) => (name.startsWith('base-') ? 'base-off' : 'off');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  // Distinct payloads (fresh ids): nothing is dropped as a duplicate.
  const payloads = Array.from({ length: REQUESTS }, (_, i) => buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 + i * 60_000 }).protobuf);
  let received = 0;
  const slow = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => (received++, res.writeHead(200).end()), SLOW_MS));
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
  let healthyReceived = 0;
  const healthy = createServer((req, res) => {
    req.resume();
    req.on('end', () => (healthyReceived++, res.writeHead(200).end()));
  });
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', r));
  const healthyUrl = `http://127.0.0.1:${(healthy.address() as { port: number }).port}`;
  const deadUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const envs: Record<string, Record<string, string>> = { off: {}, healthy: { RAGSCOPE_FORWARD_ENDPOINT: healthyUrl }, dead: { RAGSCOPE_FORWARD_ENDPOINT: deadUrl }, slow: { RAGSCOPE_FORWARD_ENDPOINT: slowUrl } };
  const settings: Record<string, Setting> = {};
  for (const [name, env] of Object.entries(envs)) settings[name] = { entry: 'processor/dist/start.cjs', env };
  if (BASELINE) for (const [name, env] of Object.entries(envs)) settings[`base-${name}`] = { entry: join(BASELINE, 'processor/dist/start.cjs'), env };
  const names = Object.keys(settings);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpuCosts: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const lastMetrics: Record<string, string> = {};
  const loadAverageAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`ragscope bench:forward — node ${process.version}, ${ROUNDS} rounds × ${REQUESTS} requests × ${SPANS} spans per setting, concurrency ${CONCURRENCY}, slow downstream answers after ${SLOW_MS} ms; load average ${loadAverageAtStart.join(' ')}`);
  try {
    await measure(payloads.slice(0, 8), settings.off); // warm-up: page cache, first chdb start
    for (let r = 0; r < ROUNDS; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const name of order) {
        const result = await measure(payloads, settings[name]);
        rates[name].push(result.spansPerSecond);
        cpuCosts[name].push(result.cpuMsPer1000Spans);
        lastMetrics[name] = result.metrics;
        console.log(`  round ${r + 1} ${name.padEnd(9)} ${Math.round(result.spansPerSecond).toLocaleString('en-US').padStart(8)} spans/s acknowledged (${result.failures} failed), processor CPU ${result.cpuMsPer1000Spans.toFixed(1)} ms per 1,000 spans`);
      }
    }
  } finally {
    slow.close();
    healthy.close();
  }
  const summary = Object.fromEntries(names.map((n) => [n, { spansPerSecond: rates[n], medianSpansPerSecond: median(rates[n]), relativeToOff: median(rates[n]) / median(rates[offOf(n)]),
        cpuMsPer1000Spans: cpuCosts[n], medianCpuMsPer1000Spans: median(cpuCosts[n]),
        // Ingest capacity when CPU-bound: off's CPU cost per span / this setting's (less sensitive to other load than throughput).
        cpuCapacityRelativeToOff: median(cpuCosts[offOf(n)]) / median(cpuCosts[n]),
        forwardMetricsLastRound: lastMetrics[n] }]));
  for (const n of names) console.log(`median ${n.padEnd(9)} ${Math.round(summary[n].medianSpansPerSecond).toLocaleString('en-US')} spans/s (${(summary[n].relativeToOff * 100).toFixed(1)} % of ${offOf(n)}); CPU ${summary[n].medianCpuMsPer1000Spans.toFixed(1)} ms per 1,000 spans (capacity ${(summary[n].cpuCapacityRelativeToOff * 100).toFixed(1)} % of ${offOf(n)})  ${lastMetrics[n]}`);
  const loadAverage = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`load average at the end: ${loadAverage.join(' ')} (${cpus().length} cores)`);
  console.log(`slow downstream received ${received} export requests, healthy downstream ${healthyReceived}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/forward.json', JSON.stringify({ node: process.version, loadAverageAtEnd: loadAverage, loadAverageAtStart, requests: REQUESTS, spansPerRequest: SPANS, concurrency: CONCURRENCY, rounds: ROUNDS, slowMs: SLOW_MS, exportRequestsReceived: { slow: received, healthy: healthyReceived }, ...summary }, null, 2) + '\n');
}

await main();
