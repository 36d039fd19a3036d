import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/processor.js';
import { chatSpanRequest, spawnProcessor, waitFor, type SpawnedProcessor } from '../helpers/spawn-processor.js';

// Ingestion while /sql is saturated with long queries, on the processor as `npm start` runs it (start.cjs
// sizes libuv's thread pool before anything loads). The probe: 6 concurrent heavy queries filled
// the 4 default threads and an ingest request timed out at 60 s.

const HEAVY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 7';
// Inside the raw retention the pipeline applies to the wall clock; nothing asserted depends on the instant.
const SPAN_START_MS = Date.now() - 60_000;
let dir: string;
let proc: SpawnedProcessor;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragscope-isolation-'));
  proc = await spawnProcessor(dir, { RAGSCOPE_SQL_MAX_CONCURRENT: '4', RAGSCOPE_SQL_TIMEOUT_SECONDS: '600' });
});

afterAll(async () => {
  await proc?.stop();
  removeDir(dir);
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${proc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

describe('ingestion while /sql runs long queries', () => {
  it('admits RAGSCOPE_SQL_MAX_CONCURRENT queries, refuses the rest with 429, and still stores a span while they run', async () => {
    expect(proc.logs.some((l) => String(l.msg).includes('concurrency lowered'))).toBe(false);

    const aborts = Array.from({ length: 6 }, () => new AbortController());
    const heavy = aborts.map((a) =>
      fetch(`${proc.url}/sql`, { method: 'POST', body: HEAVY, signal: a.signal }).then(
        (r) => r.status,
        () => 'aborted' as const,
      ),
    );
    await waitFor('4 queries running', async () => (await metric('ragscope_sql_queries_running')) === 4, 30_000);
    await waitFor('2 queries refused', async () => (await metric('ragscope_sql_refused_total{reason="concurrency"}').catch(() => 0)) === 2, 30_000);

    // Ingest and readiness answer while all four still run (generous deadline: the 2 cores are busy).
    const ingest = await fetch(`${proc.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatSpanRequest(0xabc, SPAN_START_MS),
      signal: AbortSignal.timeout(60_000),
    });
    expect(ingest.status).toBe(200);
    const ready = await fetch(`${proc.url}/readyz`, { signal: AbortSignal.timeout(60_000) });
    expect(ready.status).toBe(200);
    expect(await metric('ragscope_sql_queries_running')).toBe(4);

    for (const a of aborts) a.abort();
    const statuses = await Promise.all(heavy);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 'aborted')).toHaveLength(4);
    await waitFor('the aborted queries to stop', async () => (await metric('ragscope_sql_queries_running')) === 0, 60_000);

    const stored = await fetch(`${proc.url}/sql?param_trace=${(0xabc).toString(16).padStart(32, '0')}`, {
      method: 'POST',
      body: 'SELECT count() FROM genai_spans WHERE TraceId = {trace:String} FORMAT TSV',
    });
    expect(await stored.text()).toBe('1\n');
  });
});
