// npm run bench:storage [-- --requests 10000 --days 7]
//
// Storage per span, measured: seeded synthetic RAG traffic (tools/synthetic) goes through the processor's own
// pipeline (loadDirect) into a fresh embedded store; every table is then merged (OPTIMIZE ... FINAL, the state
// background merges converge to) and system.parts gives the bytes on disk of the active parts per table.
// Prints per-table figures, bytes per span (raw tables), rollup bytes (per request for request_rollup, per
// day for the rest) and writes bench/results/storage.json. docs/scaling.md builds its sizing on these figures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../processor/src/config.js';
import { openStore } from '../processor/src/store/clickhouse.js';
import { migrate } from '../processor/src/store/migrations.js';
import { generateDataset, loadDirect, startOfCurrentHourMs, syntheticPriceBook } from '../tools/synthetic/index.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    days: { type: 'string', default: '7' },
    out: { type: 'string', default: 'bench/results/storage.json' },
  },
});
const REQUESTS = Number(args.requests);
const DAYS = Number(args.days);

/** Tables written per span (raw) and what the materialized views derive from them. */
const RAW_PER_SPAN = ['otel_traces', 'otel_traces_trace_id_ts', 'genai_spans', 'response_lookup'];

interface TableSize {
  table: string;
  rows: number;
  bytesOnDisk: number;
  compressed: number;
  uncompressed: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ragscope-bench-storage-'));
  const store = await openStore(loadConfig({ RAGSCOPE_DATA_DIR: join(dir, 'data') }), { timeoutSeconds: 600, maxRows: 10_000_000, maxMemoryBytes: 4 * 2 ** 30, maxResultBytes: 2 ** 30 });
  try {
    await migrate(store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });
    const pricesFile = join(dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
    const endMs = startOfCurrentHourMs();
    const ds = generateDataset({ seed: 'bench-storage', requests: REQUESTS, days: DAYS, endMs });
    const started = performance.now();
    const stats = await loadDirect(store.writer, ds, { pricesFile, now: () => endMs });
    const loadSeconds = (performance.now() - started) / 1000;

    const q = async <T>(query: string) => (await store.writer.query({ query, format: 'JSONEachRow' })).json<T>();
    const tables = (await q<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'schema_migrations'")).map((t) => t.name);
    for (const t of tables) await store.writer.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    const sizes = (
      await q<{ table: string; rows: string; bytesOnDisk: string; compressed: string; uncompressed: string }>(
        `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytesOnDisk, sum(data_compressed_bytes) AS compressed,
                sum(data_uncompressed_bytes) AS uncompressed
         FROM system.parts WHERE database = currentDatabase() AND active AND table != 'schema_migrations'
         GROUP BY table ORDER BY bytesOnDisk DESC`,
      )
    ).map((r): TableSize => ({ table: r.table, rows: Number(r.rows), bytesOnDisk: Number(r.bytesOnDisk), compressed: Number(r.compressed), uncompressed: Number(r.uncompressed) }));
    const [{ spans, requests }] = await q<{ spans: string; requests: string }>('SELECT count() AS spans, uniqExact(TraceId) AS requests FROM genai_spans');
    const spanCount = Number(spans);
    const requestCount = Number(requests);
    const size = (t: string) => sizes.find((s) => s.table === t)?.bytesOnDisk ?? 0;
    const rawBytes = RAW_PER_SPAN.reduce((a, t) => a + size(t), 0);
    const logTables = ['otel_logs', 'feedback', 'evaluations'];
    const rollups = sizes.filter((s) => !RAW_PER_SPAN.includes(s.table) && !logTables.includes(s.table));
    const requestRollup = size('request_rollup');
    const otherRollups = rollups.filter((r) => r.table !== 'request_rollup').reduce((a, r) => a + r.bytesOnDisk, 0);

    console.log(`ragscope bench:storage — ${REQUESTS} requests over ${DAYS} days, ${spanCount} GenAI spans (${(spanCount / requestCount).toFixed(2)} per request), loaded in ${loadSeconds.toFixed(1)} s, every table merged`);
    console.log('table                          rows      bytes on disk   bytes/row   compression');
    for (const s of sizes) {
      console.log(`${s.table.padEnd(28)} ${String(s.rows).padStart(9)} ${String(s.bytesOnDisk).padStart(16)} ${(s.bytesOnDisk / Math.max(1, s.rows)).toFixed(1).padStart(10)} ${(s.uncompressed / Math.max(1, s.compressed)).toFixed(1).padStart(9)}×`);
    }
    console.log(`raw per span (${RAW_PER_SPAN.join(' + ')}): ${(rawBytes / spanCount).toFixed(1)} bytes`);
    console.log(`request_rollup per request: ${(requestRollup / requestCount).toFixed(1)} bytes; other rollups: ${otherRollups} bytes for ${DAYS} days (${(otherRollups / DAYS).toFixed(0)} bytes/day at this dimension cardinality)`);

    const result = {
      benchmark: 'storage',
      date: new Date().toISOString(),
      node: process.version,
      parameters: { requests: REQUESTS, days: DAYS, seed: 'bench-storage' },
      spans: spanCount,
      requests: requestCount,
      spansPerRequest: spanCount / requestCount,
      loaded: stats,
      loadSeconds,
      tables: sizes,
      rawBytesPerSpan: rawBytes / spanCount,
      rawTables: RAW_PER_SPAN,
      requestRollupBytesPerRequest: requestRollup / requestCount,
      otherRollupBytes: otherRollups,
      otherRollupBytesPerDay: otherRollups / DAYS,
    };
    writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${args.out}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
