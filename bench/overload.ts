// npm run bench:overload [-- --clients 16,200 --requests 400 --spans 250 --baseline-rev 53e35d0]
//
// Overload as a production would bring it: many Collector-style clients (OTLP/HTTP protobuf, attempt time-out
// 1.2 s, retries after time-outs, connection errors and 429/503 with Retry-After, 5 attempts) against one
// processor on the embedded store, on this machine. For each client count it reports acknowledged spans/s,
// p99 acknowledgement latency, requests given up, duplicates (rows − distinct spans, in otel_traces and
// genai_spans), how far the cost rollup is from the distinct spans' cost, and the processor's peak RSS.
// The same load runs against the baseline revision (the write path before the write-ahead log) in the same
// run, so the two are compared on the same machine at the same time. Writes bench/results/overload.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataset } from '../tools/synthetic/index.js';
import { encodeTraces } from '../tools/synthetic/otlp.js';
import { orderedSpans } from '../tools/synthetic/send.js';
import { freePort, waitFor } from './support/processor.js';
import { baselineCheckout, processorMain } from './support/baseline.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '16,200' },
    requests: { type: 'string', default: '400' },
    spans: { type: 'string', default: '250' },
    'timeout-ms': { type: 'string', default: '1200' },
    attempts: { type: 'string', default: '5' },
    'baseline-rev': { type: 'string', default: '53e35d0' },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const CLIENTS = args.clients.split(',').map(Number);
const REQUESTS = Number(args.requests);
const SPANS = Number(args.spans);
const TIMEOUT_MS = Number(args['timeout-ms']);
const ATTEMPTS = Number(args.attempts);
const ROOT = resolve(import.meta.dirname, '..');

interface Target {
  name: string;
  main: string;
  /** How to wait until what was acknowledged is queryable. */
  flush(url: string): Promise<void>;
}

/** The baseline revision's processor, built once into .bench/baseline-<rev> (bench/support/baseline.ts). */
function baselineTarget(rev: string): Target {
  const dir = baselineCheckout(rev);
  return {
    name: `baseline ${rev}`,
    main: processorMain(dir),
    // Its answer meant "written"; but handlers keep writing after a client gave up: wait for an empty queue.
    async flush(url) {
      await waitFor('the baseline queue to drain', async () => /ragscope_write_queue_rows 0\b/.test(await (await fetch(`${url}/metrics`)).text()), 300_000);
    },
  };
}

const currentTarget: Target = {
  name: 'write-ahead log',
  main: join(ROOT, 'processor/dist/start.cjs'),
  async flush(url) {
    const res = await fetch(`${url}/v1/flush?timeout_ms=300000`, { method: 'POST' });
    if (!res.ok) throw new Error(`flush: ${res.status} ${await res.text()}`);
  },
};

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function sql(url: string, query: string): Promise<string> {
  const res = await fetch(`${url}/sql`, { method: 'POST', body: query });
  const text = await res.text();
  if (!res.ok) throw new Error(`/sql ${res.status}: ${text}`);
  return text.trim();
}

async function run(target: Target, clients: number, payloads: Uint8Array<ArrayBuffer>[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-overload-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [target.main], {
    env: { ...process.env, RAGSCOPE_PORT: String(port), RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitFor('the processor', async () => (await fetch(`${url}/readyz`)).ok, 120_000);
    const ackLatencies: number[] = [];
    const counts = { acked: 0, gaveUp: 0, attempts: 0, timeouts: 0, refused: 0, errors: 0 };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < payloads.length) {
          const body = payloads[next++];
          let done = false;
          for (let attempt = 0; attempt < ATTEMPTS && !done; attempt++) {
            counts.attempts++;
            const t0 = performance.now();
            let wait = 100 * 2 ** attempt;
            try {
              const res = await fetch(`${url}/v1/traces`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-protobuf' },
                body,
                signal: AbortSignal.timeout(TIMEOUT_MS),
              });
              await res.arrayBuffer();
              if (res.status === 200) {
                ackLatencies.push(performance.now() - t0);
                done = true;
              } else {
                counts.refused++;
                wait = Math.min(5000, 1000 * Number(res.headers.get('retry-after') ?? '1'));
              }
            } catch (err) {
              if ((err as Error).name === 'TimeoutError') counts.timeouts++;
              else counts.errors++;
            }
            if (!done) await new Promise((r) => setTimeout(r, wait));
          }
          if (done) counts.acked++;
          else counts.gaveUp++;
        }
      }),
    );
    const ackSeconds = (performance.now() - started) / 1000;
    await target.flush(url);
    const storedSeconds = (performance.now() - started) / 1000;
    const [traces, distinctTraces, genai, distinctGenai] = (
      await sql(url, 'SELECT (SELECT count() FROM otel_traces), (SELECT uniqExact(TraceId, SpanId) FROM otel_traces), (SELECT count() FROM genai_spans), (SELECT uniqExact(TraceId, SpanId) FROM genai_spans) FORMAT TSV')
    )
      .split('\t')
      .map(Number);
    const [distinctCost, rollupCost] = (
      await sql(url, 'SELECT (SELECT sum(c) FROM (SELECT any(ifNull(CostUSD, 0)) AS c FROM genai_spans WHERE UsageCounted = 1 GROUP BY TraceId, SpanId)), (SELECT sum(CostUSD) FROM usage_cost_hourly) FORMAT TSV')
    )
      .split('\t')
      .map(Number);
    const sent = payloads.length * SPANS;
    return {
      target: target.name,
      clients,
      spansSent: sent,
      ackedSpansPerSecond: (counts.acked * SPANS) / ackSeconds,
      storedSpansPerSecond: distinctTraces / storedSeconds,
      p50AckMs: quantile(ackLatencies, 0.5),
      p99AckMs: quantile(ackLatencies, 0.99),
      ...counts,
      rowsOtelTraces: traces,
      distinctOtelTraces: distinctTraces,
      duplicatesOtelTraces: traces - distinctTraces,
      rowsGenai: genai,
      distinctGenai,
      duplicatesGenai: genai - distinctGenai,
      lostSpans: Math.max(0, counts.acked * SPANS - distinctTraces),
      rollupCostVsDistinct: distinctCost > 0 ? rollupCost / distinctCost : NaN,
      peakRssMb: peakRssMb(child.pid!),
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ds = generateDataset({ seed: 'bench-overload', requests: Math.ceil((REQUESTS * SPANS) / 5), days: 1, withFeedback: false });
  const spans = orderedSpans(ds, 'natural');
  const payloads: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i + SPANS <= spans.length && payloads.length < REQUESTS; i += SPANS) payloads.push(encodeTraces(spans.slice(i, i + SPANS)));
  console.log(`ragscope bench:overload — node ${process.version}, ${payloads.length} requests × ${SPANS} spans, attempt time-out ${TIMEOUT_MS} ms, ${ATTEMPTS} attempts`);
  const targets = args['no-baseline'] ? [currentTarget] : [baselineTarget(args['baseline-rev']), currentTarget];
  const results = [];
  for (const clients of CLIENTS) {
    for (const target of targets) {
      const r = await run(target, clients, payloads);
      results.push(r);
      console.log(
        `\n${r.target}, ${clients} clients: ${Math.round(r.ackedSpansPerSecond).toLocaleString('en-US')} acknowledged spans/s, ` +
          `${Math.round(r.storedSpansPerSecond).toLocaleString('en-US')} stored spans/s; ack p50 ${r.p50AckMs.toFixed(0)} ms, p99 ${r.p99AckMs.toFixed(0)} ms`,
      );
      console.log(`  attempts ${r.attempts} (time-outs ${r.timeouts}, 429/503 ${r.refused}, connection errors ${r.errors}); requests given up ${r.gaveUp}`);
      console.log(`  duplicates: otel_traces ${r.duplicatesOtelTraces} (${r.rowsOtelTraces} rows / ${r.distinctOtelTraces} spans), genai_spans ${r.duplicatesGenai}; acknowledged but lost ${r.lostSpans}`);
      console.log(`  usage_cost_hourly cost / distinct spans' cost = ${r.rollupCostVsDistinct.toFixed(4)}; peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    }
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/overload.json'),
    `${JSON.stringify({ benchmark: 'overload', date: new Date().toISOString(), node: process.version, parameters: { clients: CLIENTS, requests: payloads.length, spansPerRequest: SPANS, timeoutMs: TIMEOUT_MS, attempts: ATTEMPTS, baselineRev: args['baseline-rev'] }, results }, null, 2)}\n`,
  );
  console.log('\nwrote bench/results/overload.json');
}

void main();
