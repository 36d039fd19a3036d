// Ingest throughput over OTLP/gRPC vs OTLP/HTTP (protobuf) into one processor, same payloads, same run,
// rounds alternating between the transports. Throughput = spans acknowledged per second (durable in the
// write-ahead log); the spool is drained (/v1/flush) between rounds so each starts alike.
//   npm run bench:grpc [-- --requests 100 --spans 512 --concurrency 16 --rounds 3]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { TRACE_SERVICE } from '../processor/src/receive/grpc-server.js';
import { freePort, waitReady } from './support/processor.js';

const { values: args } = parseArgs({
  options: { requests: { type: 'string' }, spans: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, distinct: { type: 'string' } },
});
const REQUESTS = Number(args.requests ?? 100);
const SPANS = Number(args.spans ?? 512);
const CONCURRENCY = Number(args.concurrency ?? 16);
const ROUNDS = Number(args.rounds ?? 3);
// Distinct payloads, one per request by default: a repeated payload is a client's retry now, acknowledged and dropped.
const DISTINCT = Number(args.distinct ?? REQUESTS);

type Send = (body: Uint8Array) => Promise<boolean>;

async function round(send: Send, payloads: Uint8Array[]): Promise<{ seconds: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) if (!(await send(payloads[next++ % payloads.length]))) failures++;
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failures };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const payloads = Array.from({ length: DISTINCT }, (_, i) => buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 + i * 60_000 }).protobuf);
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-grpc-'));
  const [port, grpcPort] = [await freePort(), await freePort()];
  // Duplicate memory off: the same payloads are sent again in every round and must be stored again.
  const child = spawn(process.execPath, ['processor/dist/start.cjs'], {
    env: { ...process.env, RAGSCOPE_PORT: String(port), RAGSCOPE_GRPC_PORT: String(grpcPort), RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_LOG_LEVEL: 'warn', RAGSCOPE_RECENT_KEYS: '0',
      // The HTTP side's concurrent-body gate (default 8) would refuse part of 16 concurrent requests: compare transports, not that limit.
      RAGSCOPE_MAX_CONCURRENT_BODIES: String(CONCURRENCY) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const Client = makeGenericClientConstructor(TRACE_SERVICE, 'TraceService');
  const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 }) as unknown as {
    Export(req: Buffer, md: Metadata, cb: (err: ServiceError | null) => void): void;
    close(): void;
  };
  const transports: Record<'http' | 'grpc', Send> = {
    http: async (body) => {
      const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: body as Uint8Array<ArrayBuffer> });
      await res.arrayBuffer();
      return res.status === 200;
    },
    grpc: (body) => new Promise((resolve) => client.Export(Buffer.from(body), new Metadata(), (err) => resolve(err === null))),
  };
  const results: Record<'http' | 'grpc', { spansPerSecond: number[]; failures: number }> = { http: { spansPerSecond: [], failures: 0 }, grpc: { spansPerSecond: [], failures: 0 } };
  try {
    await waitReady(url);
    console.log(`ragscope bench:grpc — node ${process.version}, ${ROUNDS} rounds × ${REQUESTS} requests × ${SPANS} spans per transport, concurrency ${CONCURRENCY}, ${payloads[0].length} bytes per request`);
    await round(transports.grpc, payloads.slice(0, 2)); // warm-up: connections, JIT
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of r % 2 === 0 ? (['http', 'grpc'] as const) : (['grpc', 'http'] as const)) {
        const flushed = await fetch(`${url}/v1/flush?timeout_ms=600000`, { method: 'POST' });
        if (!flushed.ok) throw new Error(`flush: ${flushed.status}`);
        const { seconds, failures } = await round(transports[name], payloads);
        const rate = ((REQUESTS - failures) * SPANS) / seconds; // acknowledged spans only
        results[name].spansPerSecond.push(rate);
        results[name].failures += failures;
        console.log(`  round ${r + 1} ${name.padEnd(4)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} spans/s acknowledged (${seconds.toFixed(2)} s, ${failures} failed)`);
      }
    }
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
  const summary = {
    node: process.version,
    requests: REQUESTS,
    spansPerRequest: SPANS,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    bytesPerRequest: payloads[0].length,
    http: { ...results.http, medianSpansPerSecond: median(results.http.spansPerSecond) },
    grpc: { ...results.grpc, medianSpansPerSecond: median(results.grpc.spansPerSecond) },
  };
  console.log(`median: HTTP ${Math.round(summary.http.medianSpansPerSecond).toLocaleString('en-US')} spans/s, gRPC ${Math.round(summary.grpc.medianSpansPerSecond).toLocaleString('en-US')} spans/s (gRPC/HTTP ${(summary.grpc.medianSpansPerSecond / summary.http.medianSpansPerSecond).toFixed(2)})`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/grpc.json', JSON.stringify(summary, null, 2) + '\n');
}

await main();
