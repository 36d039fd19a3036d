import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { waitFor } from '../helpers/spawn-processor.js';

// /sql cannot hurt the process it runs in: per-query memory and result limits, a concurrency limit, and
// queries stopped in the engine when their client leaves. Real embedded ClickHouse, in this process.

const MiB = 1024 * 1024;
let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({
    RAGSCOPE_SQL_MAX_CONCURRENT: '1',
    RAGSCOPE_SQL_MAX_MEMORY_BYTES: String(256 * MiB),
    RAGSCOPE_SQL_MAX_RESULT_BYTES: String(4 * MiB),
    RAGSCOPE_SQL_MAX_ROWS: '100000000',
    RAGSCOPE_SQL_TIMEOUT_SECONDS: '300',
  });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

const LONG_QUERY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 7';

function sql(query: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${proc.url}/sql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: query, signal });
}

/** /sql queries the engine is running now (found by the tag every /sql query carries). */
async function runningSqlQueries(): Promise<number> {
  const rows = await proc.query<{ n: string }>("SELECT count() AS n FROM system.processes WHERE startsWith(query, '/* ragscope-sql ')");
  return Number(rows[0].n);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${proc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

describe('/sql resource limits', () => {
  it('refuses the 4 GB repeat() probe at the memory limit, with RSS growth far below it', async () => {
    const before = process.memoryUsage().rss;
    const res = await sql("SELECT repeat('x', 100000) FROM numbers(45000)");
    const after = process.memoryUsage().rss;
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; code: string; limit: string };
    expect(['241', '396']).toContain(body.code);
    expect(body.limit).toMatch(/RAGSCOPE_SQL_MAX_(MEMORY|RESULT)_BYTES/);
    expect(after - before).toBeLessThan(1024 * MiB);
  });

  it('refuses the groupArray(number) FROM numbers(2e8) probe instead of answering 1.9 GB', async () => {
    const res = await sql('SELECT groupArray(number) FROM numbers(200000000)');
    expect(res.status).toBe(400);
    expect(['241', '396']).toContain(((await res.json()) as { code: string }).code);
  });

  it('stops a result over RAGSCOPE_SQL_MAX_RESULT_BYTES with the limit named', async () => {
    const res = await sql('SELECT number, toString(number) AS s FROM numbers(5000000)');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; code: string };
    expect(body.code).toBe('396');
    expect(body.error).toMatch(/result/i);
    // Below the limits everything still works.
    const small = await sql('SELECT sum(number) FROM numbers(1000000) FORMAT TSV');
    expect(await small.text()).toBe('499999500000\n');
  });
});

describe('/sql concurrency and cancellation', () => {
  it('answers 429 with Retry-After past RAGSCOPE_SQL_MAX_CONCURRENT, and a client that leaves stops its query', async () => {
    const abort = new AbortController();
    const long = sql(LONG_QUERY, abort.signal).catch((err: Error) => err);
    await waitFor('the long query to run in the engine', async () => (await runningSqlQueries()) === 1, 30_000);
    expect(await metric('ragscope_sql_queries_running')).toBe(1);

    const refused = await sql('SELECT 1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await refused.json()).error).toMatch(/RAGSCOPE_SQL_MAX_CONCURRENT/);

    abort.abort();
    expect(await long).toBeInstanceOf(Error);
    // The engine really stops it (it would otherwise run for minutes), and the slot comes back.
    await waitFor('the engine to stop the abandoned query', async () => (await runningSqlQueries()) === 0, 20_000);
    await waitFor('the slot to be released', async () => (await metric('ragscope_sql_queries_running')) === 0, 20_000);
    expect(await metric('ragscope_sql_cancelled_total')).toBe(1);
    const after = await sql('SELECT 1 FORMAT TSV');
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('1\n');
  });
});

describe('stopping with /sql queries running', () => {
  it('cancels them in the engine and answers their clients 503 instead of waiting for their time-out', async () => {
    const long = sql(LONG_QUERY);
    await waitFor('the long query to run in the engine', async () => (await runningSqlQueries()) === 1, 30_000);
    const stopped = await Promise.race([proc.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still stopping after 60 s'), 60_000))]);
    expect(stopped).toBe('stopped');
    const res = await long;
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatch(/cancelled: shutting down/);
  });
});
