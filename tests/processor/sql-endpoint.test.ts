import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { isLoopback } from '../../processor/src/query/loopback.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, postTraces, spanIdOf, traceIdOf, tracesRequest } from '../helpers/otlp-json.js';

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_SQL_MAX_ROWS: '50', RAGSCOPE_SQL_MAX_THREADS: '1' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

async function sql(body: string, init: { json?: boolean; headers?: Record<string, string> } = {}) {
  return fetch(`${proc.url}/sql`, {
    method: 'POST',
    headers: { 'content-type': init.json ? 'application/json' : 'text/plain', ...init.headers },
    body,
  });
}

describe('POST /sql', () => {
  it('runs each query with the configured thread limit (RAGSCOPE_SQL_MAX_THREADS), not the engine default', async () => {
    const res = await sql("SELECT getSetting('max_threads') AS t FORMAT TSV");
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('1');
  });

  it('runs a query and honours its FORMAT clause', async () => {
    const res = await sql('SELECT number AS n FROM system.numbers LIMIT 3 FORMAT JSONEachRow');
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split('\n').map((l) => Number(JSON.parse(l).n))).toEqual([0, 1, 2]);
  });

  it('uses TabSeparatedWithNames by default and default_format from a JSON body', async () => {
    expect(await (await sql('SELECT 1 AS one')).text()).toBe('one\n1\n');
    const res = await sql(JSON.stringify({ query: 'SELECT 2 AS two', default_format: 'CSVWithNames' }), { json: true });
    expect(await res.text()).toBe('"two"\n2\n');
  });

  it('sees the ragscope database by default, with what was sent once it is flushed', async () => {
    const span = { traceId: traceIdOf(42), spanId: spanIdOf(42), name: 'chat via sql', startMs: testNow() - 1000, attributes: chatAttributes(10, 5) };
    expect((await postTraces(proc.url, tracesRequest([span]))).status).toBe(200);
    // Acknowledged means "in the write-ahead log": read-your-writes over /sql needs the flush first.
    expect((await fetch(`${proc.url}/v1/flush`, { method: 'POST' })).status).toBe(200);
    const res = await sql("SELECT count() FROM genai_spans WHERE SpanName = 'chat via sql' FORMAT TSV");
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('1');
  });

  it('is read-only: writes, DDL and setting changes are refused', async () => {
    for (const q of ['INSERT INTO genai_spans (TenantId) VALUES (\'x\')', 'DROP TABLE genai_spans', 'CREATE TABLE t (a UInt8) ENGINE = Memory', 'SET readonly = 0']) {
      const res = await sql(q);
      expect(res.status, q).toBeGreaterThanOrEqual(400);
      expect((await res.json()).error, q).toMatch(/readonly|read.only|Cannot/i);
    }
    const still = await proc.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'genai_spans'");
    expect(Number(still[0].n)).toBe(1);
    const rows = await proc.query<{ n: string; x: string }>("SELECT count() AS n, countIf(TenantId = 'x') AS x FROM genai_spans");
    expect(rows.map((r) => [Number(r.n), Number(r.x)])).toEqual([[1, 0]]);
  });

  it('enforces the row limit with a clear error', async () => {
    const res = await sql('SELECT number FROM system.numbers LIMIT 1000');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/Limit for result exceeded|max_result_rows|rows/i);
  });

  it('reports SQL errors as 400 with the engine message', async () => {
    const res = await sql('SELEC 1');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/Syntax error/);
    const empty = await sql('   ');
    expect(empty.status).toBe(400);
    const badJson = await sql('{"query": 1}', { json: true });
    expect((await badJson.json()).error).toMatch(/"query" must be a string/);
  });

  it('keeps the writer session writable after read-only queries', async () => {
    await proc.processor.store.writer.command({ query: 'CREATE TABLE IF NOT EXISTS writer_probe (a UInt8) ENGINE = Memory' });
    await proc.processor.store.writer.command({ query: 'DROP TABLE writer_probe' });
  });
});

describe('SQL access control', () => {
  it('recognises loopback addresses', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.5')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:192.168.1.4')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});
