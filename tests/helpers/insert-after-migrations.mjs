// One process's life for tests/processor/modify-query-dedup.test.ts: open the embedded store as the
// processor does (migrations included), insert one block of genai_spans rows under the given token the way
// the shipper does, print the rollups' totals as JSON. libchdb binds a data directory per process, so each
// "process life" of the test is one run of this script.
import { loadConfig } from '../../processor/dist/config.js';
import { insertLines, openStore } from '../../processor/dist/store/clickhouse.js';
import { migrate } from '../../processor/dist/store/migrations.js';

const [dataDir, token, rowCount, exclusive] = process.argv.slice(2);
const config = loadConfig({ RAGSCOPE_DATA_DIR: dataDir });
const store = await openStore(config, { timeoutSeconds: 60, maxRows: 100_000, maxMemoryBytes: 1 << 30, maxResultBytes: 1 << 28 });
await migrate(store.writer, { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 }, undefined, { exclusive: exclusive === 'exclusive' });
// The state a kill -9 leaves when the source table's part of a range was not committed but a view's was: the
// next process's repeat of the range reaches the views again. Without a window on genai_spans every repeat
// does, so the views' own deduplication is what is measured.
await store.writer.command({ query: 'ALTER TABLE genai_spans MODIFY SETTING non_replicated_deduplication_window = 0' });
const base = Date.UTC(2026, 10, 20, 12);
const lines = Array.from({ length: Number(rowCount) }, (_, i) =>
  JSON.stringify({
    TenantId: 'default', Timestamp: new Date(base + i).toISOString().replace("T", " ").replace("Z", ""), ServiceName: 'svc', TraceId: `t${i}`, SpanId: `s${i}`, SpanName: 'chat',
    Operation: 'chat', Provider: 'openai', RequestModel: 'gpt-4o-mini', InputTokens: 100, OutputTokens: 10, UsageCounted: 1, DurationMs: 20 + (i % 50),
  }),
);
await insertLines(store.writer, 'genai_spans', 'JSONEachRow', lines, token);
const result = await store.writer.query({
  query: `SELECT (SELECT sum(Calls) FROM usage_cost_hourly) AS usage, (SELECT sum(Calls) FROM latency_hourly) AS latency,
            (SELECT sum(Spans) FROM request_rollup) AS requests, (SELECT count() FROM genai_spans) AS raw`,
  format: 'JSONEachRow',
});
console.log(JSON.stringify((await result.json())[0]));
await store.close();
