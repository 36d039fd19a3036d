// Ingest throughput with forwarding off vs on, downstream dead and downstream slow, in one run: the cost
// forwarding adds to ingestion (goal: within 10 % of off). Each round starts a fresh processor per setting
// (settings alternate in order between rounds) and sends the same OTLP/HTTP protobuf payloads.
// Throughput = spans acknowledged per second.
//   npm run bench:forward [-- --requests 60 --spans 512 --concurrency 16 --rounds 5 --slow-ms 200]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { freePort, waitReady } from './support/processor.js';

const { values: args } = parseArgs({
  options: { requests: { type: 'string' }, spans: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, 'slow-ms': { type: 'string' } },
});
const REQUESTS = Number(args.requests ?? 60);
const SPANS = Number(args.spans ?? 512);
const CONCURRENCY = Number(args.concurrency ?? 16);
const ROUNDS = Number(args.rounds ?? 5);
const SLOW_MS = Number(args['slow-ms'] ?? 200);

async function measure(payloads: Uint8Array[], forwardEnv: Record<string, string>): Promise<{ spansPerSecond: number; failures: number; metrics: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-fwd-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['processor/dist/start.cjs'], {
    env: { ...process.env, RAGSCOPE_PORT: String(port), RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_LOG_LEVEL: 'error', ...forwardEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payloads[next++ % payloads.length] as Uint8Array<ArrayBuffer> });
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const metrics = (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('ragscope_forward')).join('; ');
    return { spansPerSecond: (REQUESTS * SPANS) / seconds, failures, metrics };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

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
  const deadUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const settings: Record<string, Record<string, string>> = {
    off: {},
    dead: { RAGSCOPE_FORWARD_ENDPOINT: deadUrl },
    slow: { RAGSCOPE_FORWARD_ENDPOINT: slowUrl },
  };
  const names = Object.keys(settings);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const lastMetrics: Record<string, string> = {};
  console.log(`ragscope bench:forward — node ${process.version}, ${ROUNDS} rounds × ${REQUESTS} requests × ${SPANS} spans per setting, concurrency ${CONCURRENCY}, slow downstream answers after ${SLOW_MS} ms`);
  try {
    await measure(payloads.slice(0, 8), settings.off); // warm-up: page cache, first chdb start
    for (let r = 0; r < ROUNDS; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const name of order) {
        const result = await measure(payloads, settings[name]);
        rates[name].push(result.spansPerSecond);
        lastMetrics[name] = result.metrics;
        console.log(`  round ${r + 1} ${name.padEnd(4)} ${Math.round(result.spansPerSecond).toLocaleString('en-US').padStart(8)} spans/s acknowledged (${result.failures} failed)`);
      }
    }
  } finally {
    slow.close();
  }
  const summary = Object.fromEntries(names.map((n) => [n, { spansPerSecond: rates[n], medianSpansPerSecond: median(rates[n]), relativeToOff: median(rates[n]) / median(rates.off), forwardMetricsLastRound: lastMetrics[n] }]));
  for (const n of names) console.log(`median ${n.padEnd(4)} ${Math.round(summary[n].medianSpansPerSecond).toLocaleString('en-US')} spans/s (${(summary[n].relativeToOff * 100).toFixed(1)} % of off)  ${lastMetrics[n]}`);
  console.log(`slow downstream received ${received} export requests`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/forward.json', JSON.stringify({ node: process.version, requests: REQUESTS, spansPerRequest: SPANS, concurrency: CONCURRENCY, rounds: ROUNDS, slowMs: SLOW_MS, ...summary }, null, 2) + '\n');
}

await main();
