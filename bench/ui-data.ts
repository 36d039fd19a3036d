// Fills a data directory for bench:ui (run by bench/ui.ts in a process of its own, because the embedded
// engine binds one data directory per process and the measured processors must open it after):
// 7 days of seeded synthetic traffic with ≥ --spans GenAI spans, loaded through the processor's pipeline
// (loadDirect), then every rollup merged (OPTIMIZE ... FINAL), as background merges would over time.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../processor/src/config.js';
import { createProcessor } from '../processor/src/app.js';
import { createLogger } from '../processor/src/logger.js';
import { generateDataset, loadDirect } from '../tools/synthetic/index.js';
import { BENCH_UI_END, BENCH_UI_TTL_DAYS, DAY_MS } from './support/ui-data-range.js';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    spans: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '7' },
    seed: { type: 'string', default: 'bench-ui' },
    out: { type: 'string' },
  },
});
const TARGET = Number(args.spans);
const DAYS = Number(args.days);
const SPANS_PER_REQUEST = 5.5;

const config = loadConfig({
  RAGSCOPE_PORT: '0',
  RAGSCOPE_GRPC_PORT: 'off',
  RAGSCOPE_DATA_DIR: args['data-dir']!,
  RAGSCOPE_LOG_LEVEL: 'silent',
  RAGSCOPE_RAW_TTL_DAYS: String(BENCH_UI_TTL_DAYS),
  RAGSCOPE_ROLLUP_TTL_DAYS: String(BENCH_UI_TTL_DAYS),
});
const processor = await createProcessor(config, createLogger('silent'));
const writer = processor.store.writer;
const count = async (sql: string) => Number(((await (await writer.query({ query: sql, format: 'JSONEachRow' })).json()) as Array<{ n: string }>)[0]!.n);

let loadSeconds: number | undefined;
if ((await count('SELECT count() AS n FROM genai_spans')) < TARGET) {
  const started = performance.now();
  // one day at a time, so the generated objects of a whole week never sit in memory at once
  const perDay = Math.ceil(TARGET / SPANS_PER_REQUEST / DAYS);
  let spans = 0;
  for (let d = 0; d < DAYS; d++) {
    const ds = generateDataset({ seed: `${args.seed}-${d}`, requests: perDay, days: 1, endMs: BENCH_UI_END - d * DAY_MS });
    const stats = await loadDirect(writer, ds, { rawTtlDays: BENCH_UI_TTL_DAYS });
    if (stats.rejectedSpans > 0) throw new Error(`${stats.rejectedSpans} spans refused`);
    spans += stats.spans;
    process.stdout.write(`\rloaded day ${d + 1}/${DAYS}: ${spans.toLocaleString('en-US')} spans`);
  }
  loadSeconds = (performance.now() - started) / 1000;
  process.stdout.write(` in ${loadSeconds.toFixed(0)} s\n`);
}
// Every table whose engine merges rows (Summing/Aggregating/Replacing): merged, so every run reads the same layout.
const optimizeStarted = performance.now();
const rollups = (await (
  await writer.query({ query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND match(engine, '^(Summing|Aggregating|Replacing)MergeTree')", format: 'JSONEachRow' })
).json()) as Array<{ name: string }>;
for (const t of rollups) await writer.command({ query: `OPTIMIZE TABLE ${t.name} FINAL` });
const data = {
  genaiSpans: await count('SELECT count() AS n FROM genai_spans'),
  traceSpans: await count('SELECT count() AS n FROM otel_traces'),
  days: DAYS,
  loadSeconds,
  optimizedRollups: rollups.map((t) => t.name),
  optimizeSeconds: (performance.now() - optimizeStarted) / 1000,
};
await processor.stop();
if (data.genaiSpans < TARGET) throw new Error(`only ${data.genaiSpans} GenAI spans loaded, want ${TARGET}`);
if (args.out) writeFileSync(args.out, JSON.stringify(data));
console.log(`${data.genaiSpans.toLocaleString('en-US')} GenAI spans; ${rollups.length} rollups merged in ${data.optimizeSeconds.toFixed(1)} s`);
