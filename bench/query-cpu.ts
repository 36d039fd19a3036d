// npx tsx bench/query-cpu.ts --data-dir DIR --only a,b [--queries-dir DIR] [--baseline-queries-dir DIR] [--runs 7]
//
// On a kept bench:queries store (no migrations, no load), times named queries over the same 7-day window as
// bench:queries and reports, next to the wall-clock median, the median PROCESS CPU time of each query (user +
// system of this Node process; the embedded engine runs in it). On a shared 2-core machine the wall clock of a
// query mostly measures the neighbours; its CPU time moves far less with the load, so a before/after of query
// or schema changes is better read from it. With --baseline-queries-dir the two versions alternate, query by query.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../processor/src/config.js';
import { openStore, type StoreClients } from '../processor/src/store/clickhouse.js';
import { listNamedQueries, resolveParams, type NamedQuery } from '../processor/src/query/named-queries.js';
import { startOfCurrentHourMs } from '../tools/synthetic/index.js';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string', default: '7' },
    'queries-dir': { type: 'string' },
    'baseline-queries-dir': { type: 'string' },
  },
});
if (!args['data-dir'] || !args.only) throw new Error('--data-dir and --only are required');
const RUNS = Number(args.runs);
const names = args.only.split(',');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(store: StoreClients, q: NamedQuery, params: Record<string, unknown>) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let rows = 0;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const data = await (await store.writer.query({ query: q.sql, query_params: params, format: 'JSONEachRow' })).json();
    const c = process.cpuUsage(c0);
    if (i === 0) continue; // the first run warms caches
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
    rows = data.length;
  }
  return { wallMs: median(wall), cpuMs: median(cpu), rows };
}

const config = loadConfig({ RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: args['data-dir'], RAGSCOPE_LOG_LEVEL: 'silent' });
const store = await openStore(config, { timeoutSeconds: 3600, maxRows: 1e9, maxMemoryBytes: 8 * 2 ** 30, maxResultBytes: 2 ** 31 });
try {
  const toMs = startOfCurrentHourMs() + 2 * 3_600_000; // bench:queries' window
  const window = { from: new Date(toMs - 7 * 86_400_000), to: new Date(toMs) };
  const shipped = listNamedQueries(args['queries-dir']).filter((q) => names.includes(q.name));
  const baselines = new Map(args['baseline-queries-dir'] ? listNamedQueries(args['baseline-queries-dir']).map((q) => [q.name, q]) : []);
  for (const q of shipped) {
    const now = await measure(store, q, resolveParams(q, window));
    const base = baselines.get(q.name);
    const before = base ? await measure(store, base, resolveParams(base, window)) : null;
    console.log(
      `${q.name.padEnd(28)} cpu ${now.cpuMs.toFixed(0).padStart(5)} ms  wall ${now.wallMs.toFixed(0).padStart(5)} ms  (${now.rows} rows)` +
        (before ? `   baseline cpu ${before.cpuMs.toFixed(0).padStart(5)} ms  wall ${before.wallMs.toFixed(0).padStart(5)} ms  (${before.rows} rows)  cpu ${(before.cpuMs / now.cpuMs).toFixed(1)}×` : '') +
        `   load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
} finally {
  await store.close();
}
