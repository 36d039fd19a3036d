// GET /v1/export/{named query}: the real processor on an ephemeral port with the embedded engine. Each format is
// parsed back (JSON lines in JS, CSV and Parquet by the engine with the query's own column types) and must equal
// the same named query's answer through POST /sql. A large export is streamed: its first bytes arrive while the
// query is still running in the engine and holding a /sql slot; a client that leaves has its query stopped.
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../processor/src/config.js';
import { createProcessor, type Processor } from '../../processor/src/app.js';
import { createLogger } from '../../processor/src/logger.js';
import { DEFAULT_QUERIES_DIR, loadNamedQuery, resolveParams } from '../../processor/src/query/named-queries.js';
import { LONG_RETENTION_DAYS, removeDir } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { generateDataset, sendDataset, startOfCurrentHourMs, syntheticPriceBook } from '../../tools/synthetic/index.js';

const BIG_ROWS = 400_000;
/** More rows than one engine block (65,409): the answer arrives in three chunks. */
const CHUNKED_ROWS = 150_000;
let processor: Processor;
let url: string;
let port: number;
let dataDir: string;
let queriesDir: string;
let from: string;
let to: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ragscope-export-'));
  queriesDir = mkdtempSync(join(tmpdir(), 'ragscope-export-queries-'));
  for (const f of readdirSync(DEFAULT_QUERIES_DIR)) copyFileSync(join(DEFAULT_QUERIES_DIR, f), join(queriesDir, f));
  // A query with a large answer, to see it streamed.
  writeFileSync(
    join(queriesDir, 'big_export.sql'),
    `-- Test only: {rows} numbered rows with a padding column, a large answer to stream.\n-- defaults: rows=1000\nSELECT number AS n, toString(number * 7) AS s, repeat('x', 64) AS pad FROM numbers({rows:UInt64})\n`,
  );
  const pricesFile = join(dataDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  const config = loadConfig({
    RAGSCOPE_HOST: '0.0.0.0',
    RAGSCOPE_PORT: '0',
    RAGSCOPE_GRPC_PORT: 'off',
    RAGSCOPE_DATA_DIR: join(dataDir, 'data'),
    RAGSCOPE_BATCH_MAX_DELAY_MS: '20',
    RAGSCOPE_LOG_LEVEL: 'silent',
    RAGSCOPE_RAW_TTL_DAYS: String(LONG_RETENTION_DAYS),
    RAGSCOPE_ROLLUP_TTL_DAYS: String(LONG_RETENTION_DAYS),
    RAGSCOPE_PRICES_FILE: pricesFile,
    // One query at a time: an export and /sql share the admission.
    RAGSCOPE_SQL_MAX_CONCURRENT: '1',
    RAGSCOPE_SQL_MAX_ROWS: '1000000',
  });
  processor = await createProcessor(config, createLogger(config.logLevel), { now: testNow, queriesDir });
  const listening = new URL(await processor.listen());
  port = Number(listening.port);
  url = `http://127.0.0.1:${port}`;
  const ds = generateDataset({ seed: 'export-test', requests: 400, days: 3, endMs: startOfCurrentHourMs(testNow()) });
  await sendDataset(url, ds, { order: 'shuffled', batchSpans: 400 });
  from = new Date(ds.fromMs).toISOString();
  to = new Date(ds.toMs).toISOString();
}, 300_000);

afterAll(async () => {
  await processor?.stop();
  removeDir(dataDir);
  removeDir(queriesDir);
});

/** The named query's answer through POST /sql, as JSON rows, and its column structure. */
async function viaSql(name: string, params: Record<string, string>): Promise<{ rows: unknown[]; structure: string }> {
  const q = loadNamedQuery(name, queriesDir);
  const bound = resolveParams(q, { ...params, ...(params.from ? { from: new Date(params.from) } : {}), ...(params.to ? { to: new Date(params.to) } : {}) });
  const post = async (query: string) => {
    const res = await fetch(`${url}/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, default_format: 'JSONEachRow', params: bound }) });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const rows = await post(q.sql);
  const columns = await post(`DESCRIBE TABLE (${q.sql})`);
  return { rows, structure: columns.map((c) => `\`${String(c.name)}\` ${String(c.type)}`).join(', ') };
}

/** Rows the engine reads back from `data` in `format` with the given structure. */
async function parseBack(format: 'CSVWithNames' | 'Parquet', structure: string, data: Buffer): Promise<unknown[]> {
  const writer = processor.store.writer;
  let sql: string;
  const params: Record<string, string> = { structure };
  if (format === 'Parquet') {
    const file = join(dataDir, `back-${Math.random().toString(36).slice(2)}.parquet`);
    writeFileSync(file, data);
    sql = 'SELECT * FROM file({file:String}, Parquet, {structure:String})';
    params.file = file;
  } else {
    sql = 'SELECT * FROM format(CSVWithNames, {structure:String}, {data:String})';
    params.data = data.toString('utf8');
  }
  return (await writer.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json();
}

async function exportOf(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(`${url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Rows with every float rounded to 12 significant digits: each export runs the query again, and the engine's
 * parallel aggregation may add a float average's terms in another order (last-bit differences, seen in CI).
 */
function settled(rows: unknown[]): unknown[] {
  const round = (v: unknown): unknown =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : Array.isArray(v) ? v.map(round) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v;
  return rows.map(round);
}

describe('GET /v1/export/{named query}', () => {
  const cases: [string, Record<string, string>][] = [
    ['confidence_distribution', {}],
    ['low_confidence_requests', { threshold: '0.7', limit: '500' }],
    ['cost_per_model_per_day', {}],
    ['confidence_by_rating', {}],
  ];
  for (const [name, extra] of cases) {
    it(`${name}: csv, json and parquet each equal the /sql answer`, async () => {
      const params = { from, to, ...extra };
      const expected = await viaSql(name, params);
      expect(expected.rows.length, `${name} has rows`).toBeGreaterThan(0);
      const qs = new URLSearchParams(params).toString();

      const json = await exportOf(`/v1/export/${name}?${qs}&format=json`);
      expect(json.status, json.body.toString()).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(json.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${name}_\\d{12}-\\d{12}\\.jsonl"$`));
      expect(settled(json.body.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)))).toEqual(settled(expected.rows));

      const csv = await exportOf(`/v1/export/${name}?${qs}&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/\.csv"$/);
      expect(settled(await parseBack('CSVWithNames', expected.structure, csv.body))).toEqual(settled(expected.rows));

      const parquet = await exportOf(`/v1/export/${name}?${qs}&format=parquet`);
      expect(parquet.status).toBe(200);
      expect(parquet.headers.get('content-type')).toBe('application/vnd.apache.parquet');
      expect(parquet.body.subarray(0, 4).toString()).toBe('PAR1');
      expect(settled(await parseBack('Parquet', expected.structure, parquet.body))).toEqual(settled(expected.rows));
    });
  }

  it('csv is the default format; parameters left out take the query defaults', async () => {
    const res = await exportOf(`/v1/export/low_confidence_requests?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(res.status).toBe(200);
    const expected = await viaSql('low_confidence_requests', { from, to });
    expect(expected.rows.length).toBeGreaterThan(0);
    expect(settled(await parseBack('CSVWithNames', expected.structure, res.body))).toEqual(settled(expected.rows));
    expect(settled((await viaSql('low_confidence_requests', { from, to, threshold: '0.6', limit: '50' })).rows)).toEqual(settled(expected.rows));
  });

  it('unknown query → 404 listing the names; bad or missing parameters → 400 naming them', async () => {
    const unknown = await fetch(`${url}/v1/export/no_such_query?from=${from}&to=${to}`);
    expect(unknown.status).toBe(404);
    const u = (await unknown.json()) as { error: string; queries: string[] };
    expect(u.error).toContain('no_such_query');
    expect(u.queries).toContain('confidence_distribution');
    expect(u.queries).toContain('cost_per_model_per_day');

    const cases: [string, string][] = [
      [`/v1/export/confidence_distribution?to=${to}`, 'from'],
      [`/v1/export/confidence_distribution?from=yesterday&to=${to}`, 'from'],
      [`/v1/export/confidence_distribution?from=${from}&to=${to}&format=xlsx`, 'format'],
      [`/v1/export/confidence_distribution?from=${from}&to=${to}&treshold=0.5`, 'treshold'],
      [`/v1/export/low_confidence_requests?from=${from}&to=${to}&limit=1&limit=2`, 'limit'],
    ];
    for (const [path, parameter] of cases) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: string; parameter: string };
      expect(body.parameter, path).toBe(parameter);
      expect(body.error, path).toContain(`"${parameter}"`);
    }
    // A value the engine cannot bind to the parameter's type: refused before any byte, naming it.
    const bad = await fetch(`${url}/v1/export/low_confidence_requests?from=${from}&to=${to}&threshold=low`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/threshold/);
  });

  it('a large export streams: first bytes arrive while the query still runs and holds the /sql slot; then it completes', async () => {
    const { res, chunk } = await firstChunk(`/v1/export/big_export?rows=${BIG_ROWS}&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="big_export.csv"');
    const expectedBytes = BIG_ROWS * 64 + 1000; // lower bound: the padding alone
    expect(chunk.length).toBeLessThan(expectedBytes / 4);
    // The query is still in the engine, and the one /sql slot is taken by it.
    expect(await runningExports()).toBe(1);
    const refused = await fetch(`${url}/sql`, { method: 'POST', body: 'SELECT 1' });
    expect(refused.status).toBe(429);
    res.resume();
    let bytes = chunk.length;
    let lines = chunk.toString().split('\n').length - 1;
    for await (const c of res) {
      bytes += (c as Buffer).length;
      lines += (c as Buffer).toString().split('\n').length - 1;
    }
    expect(lines).toBe(BIG_ROWS + 1);
    expect(bytes).toBeGreaterThan(expectedBytes);
    expect(await runningExports()).toBe(0);
    const after = await fetch(`${url}/sql`, { method: 'POST', body: 'SELECT 42 FORMAT TSV' });
    expect((await after.text()).trim()).toBe('42');
  });

  it('a large export in several engine chunks is one document: one CSV header, one Parquet file with every row', async () => {
    const csv = await exportOf(`/v1/export/big_export?rows=${CHUNKED_ROWS}&format=csv`);
    const lines = csv.body.toString().split('\n');
    expect(lines.filter((l) => l === '"n","s","pad"')).toHaveLength(1);
    expect(lines.length).toBe(CHUNKED_ROWS + 2); // header, rows, and the empty string after the last newline
    const parquet = await exportOf(`/v1/export/big_export?rows=${CHUNKED_ROWS}&format=parquet`);
    expect(parquet.status).toBe(200);
    const [back] = (await parseBack('Parquet', '`n` UInt64, `s` String, `pad` String', parquet.body).then((rows) => [rows.length])) as number[];
    expect(back).toBe(CHUNKED_ROWS);
  });

  it('a client that leaves mid-export has its query stopped and the slot freed', async () => {
    const { res } = await firstChunk(`/v1/export/big_export?rows=${BIG_ROWS}&format=json`);
    expect(await runningExports()).toBe(1);
    res.destroy();
    await waitFor(async () => (await runningExports()) === 0 && (await fetch(`${url}/sql`, { method: 'POST', body: 'SELECT 1' })).status === 200);
  });

  it('the /sql access rule: refused from a non-loopback address', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    expect(address, 'this test needs a non-loopback IPv4 interface').toBeDefined();
    const res = await fetch(`http://${address}:${port}/v1/export/confidence_distribution?from=${from}&to=${to}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/loopback/);
  });
});

/** Starts an export and resolves with its first body chunk, the response paused after it. */
function firstChunk(path: string): Promise<{ res: IncomingMessage; chunk: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, (res) => {
      res.once('data', (chunk: Buffer) => {
        res.pause();
        resolve({ res, chunk });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * big_export queries running in the engine now. The embedded engine lists a streamed query by its formatted text
 * (comments dropped, parameters bound as _CAST(...)), so it is found by its body; this query excludes itself.
 */
async function runningExports(): Promise<number> {
  const rs = await processor.store.writer.query({
    query: "SELECT count() AS n FROM system.processes WHERE query LIKE '%repeat(\\'x\\', 64)%' AND query NOT LIKE '%system.processes%'",
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]!.n);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
