import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { checkParams, ParamError, placeholderNames } from '../../processor/src/query/sql-params.js';
import { sqlClient } from '../../demo/src/sql.js';

// ClickHouse query parameters on POST /sql and in `npm run sql`, against the real embedded engine.

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor();
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

async function post(path: string, body: string, json = false): Promise<Response> {
  return fetch(`${proc.url}${path}`, { method: 'POST', headers: { 'content-type': json ? 'application/json' : 'text/plain' }, body });
}

describe('placeholders', () => {
  it('finds {name:Type} outside literals and comments', () => {
    const names = placeholderNames(`SELECT {a:UInt8}, '{b:String}', "{c:X}", \`{d:Y}\` -- {e:Z}\n /* {f:W} */ { g : Array(String) }, 'it''s {h:S}'`);
    expect([...names].sort()).toEqual(['a', 'g']);
  });

  it('names the missing parameter', () => {
    expect(() => checkParams('SELECT {tenant:String}', {})).toThrow(ParamError);
    expect(() => checkParams('SELECT {tenant:String}', {})).toThrow(/"tenant".*param_tenant=/);
    expect(() => checkParams('SELECT {tenant:String}', { tenant: 'x' })).not.toThrow();
  });
});

describe('POST /sql with query parameters', () => {
  it('binds param_<name> from the URL, typed by the engine', async () => {
    const res = await post(`/sql?param_n=41&param_s=${encodeURIComponent("it's \\ {x}")}`, 'SELECT {n:UInt32} + 1 AS n, {s:String} AS s FORMAT JSONEachRow');
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toEqual({ n: 42, s: "it's \\ {x}" });
  });

  it('binds "params" from a JSON body, arrays included, and lets the URL and body combine', async () => {
    const res = await post(
      '/sql?param_k=3',
      JSON.stringify({
        query: 'SELECT {ids:Array(String)} AS ids, {k:UInt8} * 2 AS k, {f:Float64} AS f, {b:Bool} AS b',
        default_format: 'JSONEachRow',
        params: { ids: ['a', "b'c"], f: 0.25, b: true },
      }),
      true,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toEqual({ ids: ['a', "b'c"], k: 6, f: 0.25, b: true });
  });

  it('filters stored data by a parameter (a value that would break hand-quoted SQL)', async () => {
    const res = await post('/sql?param_name=' + encodeURIComponent("x' OR 1=1 --"), "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = {name:String} FORMAT TSV");
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('0');
    const real = await post('/sql?param_name=genai_spans', 'SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = {name:String} FORMAT TSV');
    expect((await real.text()).trim()).toBe('1');
  });

  it('answers 400 naming a missing parameter before running the query', async () => {
    const res = await post('/sql?param_other=1', 'SELECT {tenant:String}');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/missing query parameter "tenant"/);
  });

  it('answers 400 naming a parameter whose value does not parse as its type', async () => {
    const res = await post('/sql?param_n=abc', 'SELECT {n:UInt32}');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; code: string };
    expect(body.error).toMatch(/'n'/);
    expect(body.code).toBe('457');
  });

  it('answers 400 for a malformed params field or name', async () => {
    const notObject = await post('/sql', JSON.stringify({ query: 'SELECT 1', params: [1] }), true);
    expect(notObject.status).toBe(400);
    expect((await notObject.json()).error).toMatch(/"params"/);
    const badValue = await post('/sql', JSON.stringify({ query: 'SELECT {x:String}', params: { x: { nested: 1 } } }), true);
    expect(badValue.status).toBe(400);
    expect((await badValue.json()).error).toMatch(/"x"/);
    const badName = await post('/sql', JSON.stringify({ query: 'SELECT 1', params: { 'a-b': 1 } }), true);
    expect(badName.status).toBe(400);
    expect((await badName.json()).error).toMatch(/a-b/);
  });

  it('runs parameterized queries from the demo SQL client', async () => {
    const sql = sqlClient(proc.url);
    const rows = await sql<{ v: string; n: number }>('SELECT {v:String} AS v, {n:UInt16} AS n', { v: "o'brien", n: 7 });
    expect(rows).toEqual([{ v: "o'brien", n: 7 }]);
  });
});

describe('npm run sql with --param_<name>', () => {
  const cli = join(import.meta.dirname, '../../processor/dist/cli/sql.js');
  const run = promisify(execFile);

  it('passes --param_x=value and --param_y value like clickhouse-client', async () => {
    const { stdout } = await run(process.execPath, [cli, 'SELECT {x:String} AS x, {y:UInt8} + 1 AS y', '--param_x=a b', '--param_y', '9', '--format', 'JSONEachRow'], {
      env: { ...process.env, RAGSCOPE_URL: proc.url },
    });
    expect(JSON.parse(stdout)).toEqual({ x: 'a b', y: 10 });
  });

  it("runs the README's example (a parameter inside INTERVAL)", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        cli,
        'SELECT count() AS calls, sum(CostUSD) AS cost FROM genai_spans WHERE RequestModel = {model:String} AND Timestamp >= now() - INTERVAL {days:UInt16} DAY',
        '--param_model=gpt-4o',
        '--param_days=7',
        '--format',
        'JSONEachRow',
      ],
      { env: { ...process.env, RAGSCOPE_URL: proc.url } },
    );
    expect(Number((JSON.parse(stdout) as { calls: unknown }).calls)).toBe(0);
  });

  it('reports the missing parameter and exits non-zero', async () => {
    const failed = await run(process.execPath, [cli, 'SELECT {x:String}'], { env: { ...process.env, RAGSCOPE_URL: proc.url } }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toMatch(/error 400: missing query parameter "x"/);
  });
});
