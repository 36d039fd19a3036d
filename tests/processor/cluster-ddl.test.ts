// The cluster form of every migration (RAGSCOPE_CLICKHOUSE_CLUSTER, processor/src/store/cluster-ddl.ts), checked
// with the embedded engine; no ClickHouse server or Keeper runs here, so ON CLUSTER, replication and Distributed
// routing themselves are not exercised. What runs:
//  - every rendered statement is parsed by ClickHouse (formatQuery);
//  - the rendered DDL, with only ON CLUSTER / the Replicated path arguments removed and each Distributed table
//    replaced by a Merge table over its local table (a one-shard Distributed stand-in), is executed in a second
//    database: its tables have exactly the single-node columns, keys, TTLs and settings, and every named query
//    gives the same answer on it as on the single-node schema for the same synthetic traffic;
//  - a statement without a cluster form fails rendering; node drift is found from real system.tables listings.
import { ConversationSignalsJob } from '../../processor/src/derive/conversation-signals.js';
import { SIGNAL_THRESHOLD_DEFAULTS } from '../../processor/src/config.js';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARDING_KEYS, clusterMigrationsTable, createdObject, localName } from '../../processor/src/store/cluster-ddl.js';
import { modifyTtlStatement, ttlTemplates } from '../../processor/src/store/retention.js';
import { stringifyRow } from '../../processor/src/store/clickhouse.js';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, OBJECT_LABEL_SQL, compareNodes, driftQueries, expectedObjects, listMigrations, migrate, renderMigration, splitStatements, substituteVariables } from '../../processor/src/store/migrations.js';
import { ConfigError, loadConfig } from '../../processor/src/config.js';
import { listNamedQueries, runNamedQuery } from '../../processor/src/query/named-queries.js';
import { generateDataset, loadDirect, syntheticPriceBook } from '../../tools/synthetic/index.js';
import { testNow } from '../helpers/clock.js';

// Long retention: the data sits at the suite's instant (testNow) and the engine's TTLs count from its real clock.
const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
const TARGET = { cluster: 'ragscope_cluster', database: 'cl' };
const migrations = listMigrations();
const rendered = migrations.map((m) => ({ file: m.file, statements: renderMigration(m, VARS, TARGET) }));
const allStatements = rendered.flatMap((r) => r.statements);

const dir = mkdtempSync(join(tmpdir(), 'ragscope-cluster-ddl-'));
let client: ClickHouseClient;

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

/** The rendered cluster DDL made executable on one embedded node: the only edits a test stand-in needs. */
function localize(statement: string): string {
  return statement
    .replace(/ ON CLUSTER 'ragscope_cluster'/g, '')
    .replace(/ENGINE = Replicated([A-Za-z]+)\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'(?:, )?/, 'ENGINE = $1(')
    .replace(/ AS (\w+) ENGINE = Distributed\([^\n]*\)$/, " AS $1 ENGINE = Merge(currentDatabase(), '^$1$$')")
    // A backfill writes the Distributed table on a cluster; the Merge stand-in takes no inserts, and on one node
    // the local table holds every shard's rows.
    .replace(/^INSERT INTO (\w+)\b/, 'INSERT INTO $1_local');
}

beforeAll(async () => {
  // The processor's writer JSON (rows written as text lines pass through), so loadDirect inserts as it does there.
  client = createClient({ connection: createChdbConnection({ path: join(dir, 'chdb') }) as never, json: { parse: JSON.parse, stringify: stringifyRow } });
  for (const db of ['sn', 'cl', 'partial']) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({ query: 'USE sn' });
  await migrate(client, VARS);
  await client.command({ query: 'USE cl' });
  for (const statement of allStatements) await client.command({ query: localize(statement) });
}, 120_000);

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Equal, except that JSON numbers (Float64 results: sums and averages whose last digits depend on the order
 * rows are added in, which differs between layouts) are compared to a relative 1e-9. Decimals and 64-bit
 * integers arrive as strings and are compared exactly.
 */
function expectSameWithin(actual: unknown, expected: unknown, label: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tol = Math.max(Math.abs(expected) * 1e-9, 1e-12);
    if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${label}: got ${actual}, expected ≈ ${expected}`);
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    expect(actual.length, label).toBe(expected.length);
    expected.forEach((e, i) => expectSameWithin(actual[i], e, `${label}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    expect(Object.keys(actual).sort(), label).toEqual(Object.keys(expected).sort());
    for (const k of Object.keys(expected)) expectSameWithin((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${label}.${k}`);
    return;
  }
  expect(actual, label).toEqual(expected);
}

describe('cluster form of every migration', () => {
  it('renders every migration; every statement runs ON CLUSTER and creates with IF NOT EXISTS', () => {
    expect(migrations.length).toBeGreaterThan(10);
    expect(allStatements.length).toBeGreaterThan(40);
    // Backfills (INSERT ... SELECT) run once, on one node, through the Distributed tables: no ON CLUSTER.
    const backfills = allStatements.filter((s) => /^INSERT INTO /.test(s));
    expect(backfills.length).toBeGreaterThan(0);
    for (const s of backfills) expect(s, s.slice(0, 80)).not.toMatch(/ON CLUSTER|_local\b/);
    for (const s of allStatements.filter((x) => !backfills.includes(x))) {
      expect(s, s.slice(0, 80)).toContain("ON CLUSTER 'ragscope_cluster'");
      // CREATE OR REPLACE VIEW (a later migration redefining a view) is idempotent by itself.
      if (/^CREATE/.test(s)) expect(s, s.slice(0, 80)).toMatch(/^CREATE (TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS |^CREATE OR REPLACE VIEW /);
    }
    // 0011's non_replicated_deduplication_window statements have no cluster form on purpose; its column change does.
    const exactlyOnce = rendered.find((r) => r.file === '0011_exactly_once.sql')!;
    expect(exactlyOnce.statements).toHaveLength(2);
    expect(exactlyOnce.statements[0]).toMatch(/^ALTER TABLE genai_spans_local ON CLUSTER 'ragscope_cluster'\s+MODIFY COLUMN CostUSD/);
    expect(exactlyOnce.statements[1]).toMatch(/^ALTER TABLE genai_spans ON CLUSTER 'ragscope_cluster'\s+MODIFY COLUMN CostUSD/);
  });

  it('ClickHouse parses every rendered statement (formatQuery)', async () => {
    for (const statement of allStatements) {
      const [r] = await rows<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: statement });
      if (/^INSERT INTO /.test(statement)) expect(r!.f, statement.slice(0, 80)).toMatch(/^INSERT INTO \w+/);
      else expect(r!.f, statement.slice(0, 80)).toMatch(/ON CLUSTER ragscope_cluster/);
    }
  });

  it('ClickHouse parses the replicated schema_migrations, the drift queries and the retention ALTERs', async () => {
    const statements = [
      clusterMigrationsTable(TARGET, 'version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)'),
      ...Object.values(driftQueries(TARGET)),
      ...ttlTemplates().map((t) => modifyTtlStatement({ ...t, table: localName(t.table) }, VARS, TARGET)),
    ];
    expect(statements.length).toBeGreaterThan(15);
    for (const q of statements) {
      const [r] = await rows<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q });
      expect(r!.f.length, q.slice(0, 80)).toBeGreaterThan(20);
    }
    expect(statements[0]).toContain("ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')");
    expect(statements.at(-1)).toMatch(/^ALTER TABLE \w+_local ON CLUSTER 'ragscope_cluster' MODIFY TTL /);
  });

  it('retention changes the local tables\' TTL (run with ON CLUSTER removed)', async () => {
    const templates = ttlTemplates().map((t) => ({ ...t, table: localName(t.table) }));
    expect(templates.length).toBeGreaterThan(15);
    await client.command({ query: 'USE cl' });
    for (const t of templates) await client.command({ query: localize(modifyTtlStatement(t, { RAW_TTL_DAYS: 7, ROLLUP_TTL_DAYS: 90 }, TARGET)) });
    const engines = await rows<{ name: string; engine_full: string }>("SELECT name, engine_full FROM system.tables WHERE database = 'cl' AND name LIKE '%\\_local'");
    for (const t of templates) {
      const e = engines.find((x) => x.name === t.table);
      expect(e?.engine_full, t.table).toContain(`toIntervalDay(${t.variable === 'RAW_TTL_DAYS' ? 7 : 90})`);
    }
    // back to the schema's own values for the comparisons below
    for (const t of templates) await client.command({ query: localize(modifyTtlStatement(t, VARS, TARGET)) });
  });

  it('leaves the single-node text as it is', () => {
    for (const m of migrations) expect(renderMigration(m, VARS)).toEqual(splitStatements(substituteVariables(m.sql, VARS, m.file)));
  });

  it('stores data in Replicated local tables, sharded on the trace id, behind Distributed tables with the user-facing names', async () => {
    const tables = await rows<{ name: string; engine: string }>("SELECT name, engine FROM system.tables WHERE database = 'sn' AND engine LIKE '%MergeTree' AND name != 'schema_migrations' ORDER BY name");
    expect(tables.length).toBeGreaterThan(15);
    for (const t of tables) {
      const local = allStatements.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t.name}_local `));
      expect(local, t.name).toBeDefined();
      expect(local).toContain(`ENGINE = Replicated${t.engine}('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`);
      const dist = allStatements.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${t.name} `))!;
      const key = SHARDING_KEYS[t.name];
      expect(dist).toBe(
        `CREATE TABLE IF NOT EXISTS ${t.name} ON CLUSTER 'ragscope_cluster' AS ${t.name}_local ENGINE = Distributed('ragscope_cluster', 'cl', '${t.name}_local'${key ? `, ${key}` : ''})`,
      );
    }
    // A request's spans (raw and GenAI) go to one shard, and its request_rollup / response_lookup rows are made there.
    for (const t of ['otel_traces', 'genai_spans', 'request_rollup', 'response_lookup']) expect(SHARDING_KEYS[t], t).toBe('cityHash64(TraceId)');
    expect(allStatements.find((s) => s.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS request_rollup_mv'))).toMatch(/TO request_rollup_local AS[\s\S]*FROM genai_spans_local AS s/);
    expect(allStatements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS feedback_local'))).toContain("'{replica}', Version)");
  });

  it('local tables have exactly the single-node columns, keys, TTL and settings; Distributed names the same columns', async () => {
    const tables = await rows<{ name: string; engine_full: string; sorting_key: string; partition_key: string; primary_key: string }>(
      "SELECT name, engine_full, sorting_key, partition_key, primary_key FROM system.tables WHERE database = 'sn' AND engine LIKE '%MergeTree' AND name != 'schema_migrations'",
    );
    const clTables = new Map(
      (await rows<{ name: string; engine_full: string; sorting_key: string; partition_key: string; primary_key: string }>(
        "SELECT name, engine_full, sorting_key, partition_key, primary_key FROM system.tables WHERE database = 'cl'",
      )).map((t) => [t.name, t]),
    );
    const columns = async (db: string, table: string) =>
      rows<Record<string, unknown>>(
        'SELECT name, type, position, default_kind, default_expression, compression_codec FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position',
        { db, t: table },
      );
    expect(tables.length).toBeGreaterThan(15);
    for (const t of tables) {
      const local = clTables.get(localName(t.name));
      expect(local, localName(t.name)).toBeDefined();
      // Single node keeps 0011's non_replicated_deduplication_window; replicated tables have their own window.
      expect(local!.engine_full).toBe(t.engine_full.replace(/, non_replicated_deduplication_window = 1000/, ''));
      expect([local!.sorting_key, local!.partition_key, local!.primary_key]).toEqual([t.sorting_key, t.partition_key, t.primary_key]);
      const single = await columns('sn', t.name);
      expect(single.length).toBeGreaterThan(2);
      expect(await columns('cl', localName(t.name)), t.name).toEqual(single);
      expect((await columns('cl', t.name)).map((c) => [c.name, c.type]), `${t.name} (Distributed stand-in)`).toEqual(single.map((c) => [c.name, c.type]));
    }
    const indices = async (db: string, suffix: string) =>
      (await rows<{ t: string; name: string; expr: string; type: string; granularity: number }>(
        "SELECT replaceRegexpOne(table, '_local$', '') AS t, name, expr, type_full AS type, granularity FROM system.data_skipping_indices WHERE database = {db:String} AND endsWith(table, {suffix:String}) ORDER BY t, name",
        { db, suffix },
      ));
    const snIndices = await indices('sn', '');
    expect(snIndices.length).toBeGreaterThan(5);
    expect(await indices('cl', '_local')).toEqual(snIndices);
  });

  it('has every single-node view, with the same columns, and materialized views on the local tables', async () => {
    const views = await rows<{ name: string; engine: string }>("SELECT name, engine FROM system.tables WHERE database = 'sn' AND engine IN ('View', 'MaterializedView') ORDER BY name");
    expect(views.filter((v) => v.engine === 'View').length).toBeGreaterThan(4);
    expect(views.filter((v) => v.engine === 'MaterializedView').length).toBeGreaterThan(10);
    const cl = new Map((await rows<{ name: string; engine: string; create_table_query: string }>("SELECT name, engine, create_table_query FROM system.tables WHERE database = 'cl'")).map((t) => [t.name, t]));
    for (const v of views) {
      expect(cl.get(v.name)?.engine, v.name).toBe(v.engine);
      if (v.engine === 'MaterializedView') {
        expect(cl.get(v.name)!.create_table_query, v.name).toMatch(/ TO cl\.\w+_local[\s\S]* FROM cl\.\w+_local/);
      } else {
        const cols = async (db: string) => rows('SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position', { db, t: v.name });
        const single = await cols('sn');
        if (single.length > 0) expect(await cols('cl'), v.name).toEqual(single); // parameterized views list no columns
      }
    }
    const labelled = await rows<{ name: string }>(`SELECT ${OBJECT_LABEL_SQL} AS name FROM system.tables WHERE database = 'cl'`);
    expect(expectedObjects(migrations, VARS, TARGET)).toEqual([...labelled.map((r) => r.name), 'schema_migrations'].sort());
    // 0031 replaced the table usage_cost_daily (and its view and local table) by a plain view.
    expect(cl.get('usage_cost_daily')?.engine).toBe('View');
    expect(cl.has('usage_cost_daily_local') || cl.has('usage_cost_daily_mv')).toBe(false);
  });

  it('every named query answers the same on the cluster layout as on one node, for the same traffic', async () => {
    const now = testNow();
    const ds = generateDataset({ seed: 'cluster-ddl', requests: 300, days: 3, endMs: now });
    const pricesFile = join(dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
    await client.command({ query: 'USE sn' });
    const stats = await loadDirect(client, ds, { pricesFile, now: () => now });
    expect(stats.genaiRows).toBeGreaterThan(1000);
    // What the processor writes, written into the local tables: the materialized views fill the local rollups.
    for (const t of ['otel_traces', 'genai_spans', 'otel_logs', 'feedback', 'evaluations']) {
      await client.command({ query: `INSERT INTO cl.${t}_local SELECT * FROM sn.${t}` });
    }
    // The stored implicit-feedback signals (migration 0027): one pass of the processor's job on one node, its rows
    // written into the local table like the other processor-written rows (the Merge stand-in takes no inserts).
    const job = new ConversationSignalsJob(client, () => now, { thresholds: SIGNAL_THRESHOLD_DEFAULTS, intervalSeconds: 0, longestRequestMin: 10 });
    expect((await job.refresh()).reduce((n, p) => n + p.rows, 0)).toBeGreaterThan(100);
    await job.stop();
    await client.command({ query: 'INSERT INTO cl.conversation_signals_local SELECT * FROM sn.conversation_signals' });
    const params = { from: new Date(now - 3 * 86_400_000), to: new Date(now) };
    const queries = listNamedQueries();
    expect(queries.length).toBeGreaterThan(15);
    let nonEmpty = 0;
    for (const q of queries) {
      await client.command({ query: 'USE sn' });
      const single = await runNamedQuery(client, q.name, params);
      await client.command({ query: 'USE cl' });
      const cluster = await runNamedQuery(client, q.name, params);
      expectSameWithin(cluster, single, q.name);
      if (single.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(queries.length - 3);
  }, 180_000);
});

describe('a migration without a cluster form', () => {
  const withExtra = (file: string, sql: string) => {
    const d = mkdtempSync(join(tmpdir(), 'ragscope-cluster-mig-'));
    for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR)) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(d, f));
    writeFileSync(join(d, file), sql);
    return listMigrations(d).find((m) => m.file === file)!;
  };

  it.each([
    ['a statement no rule knows', 'TRUNCATE TABLE feedback;', /no cluster form/],
    ['a drop without IF EXISTS', 'DROP VIEW feedback_latest;', /must say IF EXISTS/],
    ['a drop of a table the cluster form does not know', 'DROP TABLE IF EXISTS scratch;', /table scratch has no sharding key/],
    ['a new table without a sharding key', 'CREATE TABLE IF NOT EXISTS new_rollup (x UInt8) ENGINE = MergeTree ORDER BY x;', /new_rollup has no sharding key/],
    ['a table without IF NOT EXISTS', 'CREATE TABLE genai_spans (x UInt8) ENGINE = MergeTree ORDER BY x;', /must say IF NOT EXISTS/],
    ['an engine without a Replicated twin', 'CREATE TABLE IF NOT EXISTS genai_spans (x UInt8) ENGINE = Log;', /engine Log/],
    ['a materialized view that joins', 'CREATE MATERIALIZED VIEW IF NOT EXISTS j_mv TO errors_hourly AS SELECT * FROM genai_spans JOIN feedback USING TraceId;', /reads a second table/],
    ['a backfill into a table only materialized views write', 'INSERT INTO errors_hourly SELECT * FROM errors_hourly;', /errors_hourly needs a sharding key/],
    ['an ALTER with an unknown action', 'ALTER TABLE genai_spans DELETE WHERE 1;', /no rule for/],
    ['a migration that says ON CLUSTER itself', "CREATE VIEW IF NOT EXISTS v ON CLUSTER 'x' AS SELECT 1;", /ON CLUSTER is added/],
  ])('fails to render: %s', (_, sql, message) => {
    const m = withExtra('0099_new.sql', sql);
    expect(() => renderMigration(m, VARS, TARGET)).toThrow(MigrationError);
    expect(() => renderMigration(m, VARS, TARGET)).toThrow(message);
    expect(() => renderMigration(m, VARS, TARGET)).toThrow('0099_new.sql');
    expect(renderMigration(m, VARS)).toHaveLength(1); // the single-node text itself is untouched
  });
});

describe('drift between nodes', () => {
  it('names the node that lacks a migration, from real system.tables listings', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ragscope-cluster-partial-'));
    const files = readdirSync(DEFAULT_MIGRATIONS_DIR).sort();
    // The node lacks the last migration that creates objects, and every migration after it (some only alter).
    const createsObjects = (m: (typeof migrations)[number]) => renderMigration(m, VARS).some((st) => createdObject(st) !== undefined);
    const cut = migrations.length - 1 - [...migrations].reverse().findIndex(createsObjects);
    expect(cut).toBeGreaterThan(0);
    const lacking = migrations.slice(cut);
    for (const f of files.slice(0, cut)) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(d, f));
    await client.command({ query: 'USE partial' });
    await migrate(client, VARS, d);
    const node = async (db: string) => ({
      host: db,
      objects: (await rows<{ name: string }>(`SELECT ${OBJECT_LABEL_SQL} AS name FROM system.tables WHERE database = {db:String}`, { db })).map((r) => r.name),
      versions: (await rows<{ v: number }>(`SELECT version AS v FROM ${db}.schema_migrations`)).map((r) => Number(r.v)),
    });
    const expected = expectedObjects(migrations, VARS);
    const versions = migrations.map((m) => m.version);
    const lastObjects = lacking.flatMap((m) => renderMigration(m, VARS).map(createdObject)).filter(Boolean);
    expect(lastObjects.length).toBeGreaterThan(0);
    expect(compareNodes(expected, versions, [await node('sn')], 1)).toEqual([]);
    expect(compareNodes(expected, versions, [await node('sn'), await node('partial')], 3)).toEqual([
      '1 of 3 hosts did not answer',
      `partial: missing ${[...lastObjects].sort().join(', ')}`,
      `partial: schema_migrations lacks ${lacking.map((m) => m.version).join(', ')}`,
    ]);
    rmSync(d, { recursive: true, force: true });
  });
});

describe('RAGSCOPE_CLICKHOUSE_CLUSTER', () => {
  it('is refused in embedded mode, with the reason', () => {
    expect(() => loadConfig({ RAGSCOPE_CLICKHOUSE_CLUSTER: 'ragscope_cluster' })).toThrow(ConfigError);
    expect(() => loadConfig({ RAGSCOPE_CLICKHOUSE_CLUSTER: 'ragscope_cluster' })).toThrow(/RAGSCOPE_CLICKHOUSE_CLUSTER: cluster mode needs a ClickHouse server/);
  });

  it('is accepted with a server, and validated', () => {
    expect(loadConfig({ RAGSCOPE_CLICKHOUSE_URL: 'http://ch:8123', RAGSCOPE_CLICKHOUSE_CLUSTER: 'ragscope_cluster' }).clickhouseCluster).toBe('ragscope_cluster');
    expect(loadConfig({ RAGSCOPE_CLICKHOUSE_URL: 'http://ch:8123' }).clickhouseCluster).toBeUndefined();
    expect(() => loadConfig({ RAGSCOPE_CLICKHOUSE_URL: 'http://ch:8123', RAGSCOPE_CLICKHOUSE_CLUSTER: "x'; DROP" })).toThrow(/RAGSCOPE_CLICKHOUSE_CLUSTER must be/);
  });
});
