// kill -9 under load, several times: the processor runs as its own process (node processor/dist/start.cjs, as npm start) on
// one data directory, Collector-style clients retry every request until it is acknowledged (on refused
// connections, resets, time-outs and 503), and at the end every span is stored exactly once and every rollup
// equals the raw rows. Reads go through the processor's own /sql (the engine allows one process per store).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, spanIdOf, traceIdOf, tracesRequest, type JsonSpan } from '../helpers/otlp-json.js';
import { TOTALS_SQL, expectConsistent, parseTotals } from '../helpers/consistency.js';

const MAIN = join(import.meta.dirname, '../../processor/dist/start.cjs');
const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-crash-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  removeDir(dataDir);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(port: number): ChildProcess {
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      RAGSCOPE_PORT: String(port),
      RAGSCOPE_GRPC_PORT: 'off',
      RAGSCOPE_DATA_DIR: dataDir,
      RAGSCOPE_LOG_LEVEL: 'error',
      RAGSCOPE_BATCH_MAX_DELAY_MS: '100',
      RAGSCOPE_BATCH_MAX_ROWS: '2000',
      RAGSCOPE_RAW_TTL_DAYS: '7300',
      RAGSCOPE_ROLLUP_TTL_DAYS: '7300',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return proc;
}

/** One request: `traces` traces of a root and a priced chat call, ids from `first`. */
function requestBody(first: number, traces: number): string {
  const spans: JsonSpan[] = [];
  for (let i = first; i < first + traces; i++) {
    const t = testNow() - 3_600_000 + i;
    spans.push({ traceId: traceIdOf(i), spanId: spanIdOf(2 * i), name: 'rag.request', startMs: t, durationMs: 30, attributes: { 'ragscope.rag.stage': 'request' } });
    spans.push({ traceId: traceIdOf(i), spanId: spanIdOf(2 * i + 1), parentSpanId: spanIdOf(2 * i), name: 'chat', startMs: t + 1, durationMs: 20, attributes: chatAttributes(100 + (i % 7), 10) });
  }
  return tracesRequest(spans, 'crash-test');
}

/** Like the Collector's otlphttp exporter: retry until acknowledged, whatever happened. */
async function sendUntilAcknowledged(url: () => string, body: string, stats: { attempts: number }): Promise<void> {
  for (;;) {
    stats.attempts++;
    try {
      const res = await fetch(`${url()}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      expect([429, 502, 503, 504]).toContain(res.status);
    } catch {
      // refused, reset or timed out: the processor is down or restarting
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Requests (by index) with fewer spans than sent, per raw table, as ranges: what a failed run needs to be explained. */
async function missingRequests(base: string, requests: number, tracesPerRequest: number): Promise<string> {
  const out: string[] = [];
  for (const table of ['otel_traces', 'genai_spans']) {
    const res = await fetch(`${base}/sql?default_format=JSONEachRow`, { method: 'POST', body: `SELECT TraceId, uniqExact(SpanId) AS n FROM ${table} GROUP BY TraceId` });
    const stored = new Map((await res.text()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { TraceId: string; n: string }).map((r) => [r.TraceId, Number(r.n)]));
    const short: number[] = [];
    for (let r = 0; r < requests; r++) {
      let n = 0;
      for (let i = 1 + r * tracesPerRequest; i <= (r + 1) * tracesPerRequest; i++) n += stored.get(traceIdOf(i)) ?? 0;
      if (n < 2 * tracesPerRequest) short.push(r);
    }
    out.push(`${table}: ${short.length} requests short (${short.join(',')})`);
  }
  return out.join('; ');
}

describe('kill -9 and restart under load', () => {
  it('every acknowledged span is stored once; rollups equal the raw rows', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = start(port);
    await waitUntil('the processor to start', async () => (await fetch(`${base}/readyz`)).ok);

    const REQUESTS = 240;
    const TRACES_PER_REQUEST = 25;
    const CLIENTS = 8;
    const stats = { attempts: 0 };
    let acknowledged = 0;
    let next = 0;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (next < REQUESTS) {
        const r = next++;
        await sendUntilAcknowledged(() => base, requestBody(1 + r * TRACES_PER_REQUEST, TRACES_PER_REQUEST), stats);
        acknowledged++;
      }
    });

    const KILLS = 4;
    for (let k = 1; k <= KILLS; k++) {
      const target = Math.round((REQUESTS * k) / (KILLS + 1));
      await waitUntil(`${target} acknowledged requests`, async () => acknowledged >= target, 120_000);
      const dying = child;
      const exited = new Promise((r) => dying.once('exit', r));
      dying.kill('SIGKILL');
      await exited;
      child = start(port);
    }
    await Promise.all(clients);
    expect(acknowledged).toBe(REQUESTS);
    expect(stats.attempts).toBeGreaterThan(REQUESTS); // the kills made clients retry

    const flushed = await fetch(`${base}/v1/flush?timeout_ms=60000`, { method: 'POST' });
    expect(flushed.status).toBe(200);
    const res = await fetch(`${base}/sql?default_format=JSONEachRow`, { method: 'POST', body: TOTALS_SQL });
    expect(res.status).toBe(200);
    const totals = parseTotals(JSON.parse((await res.text()).trim()));
    const spans = REQUESTS * TRACES_PER_REQUEST * 2;
    // On a miss, say which requests are missing from which table (a whole insert's range, or scattered spans).
    const missing = totals.uniqueTraces === spans && totals.uniqueGenai === spans ? '' : await missingRequests(base, REQUESTS, TRACES_PER_REQUEST);
    expect(totals.uniqueTraces, `otel_traces; totals ${JSON.stringify(totals)}; ${missing}`).toBe(spans);
    expect(totals.uniqueGenai, `genai_spans; totals ${JSON.stringify(totals)}; ${missing}`).toBe(spans);
    expectConsistent(totals, 'after kills');
    let inputTokens = 0;
    for (let i = 1; i <= REQUESTS * TRACES_PER_REQUEST; i++) inputTokens += 100 + (i % 7);
    expect(totals.countedInputTokens).toBe(inputTokens);
  }, 300_000);
});
