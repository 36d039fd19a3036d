// Migration 0024 on a store that already holds data: spans and log records stored before TenantId existed
// belong to the default tenant (RAGSCOPE_TENANT at the upgrade), and an otel_traces line written to the
// write-ahead log by an older processor (no trailing TenantId) is still stored on replay, under that tenant.
import { describe, expect, it } from 'vitest';
import { insertLines } from '../../processor/src/store/clickhouse.js';
import { migrate } from '../../processor/src/store/migrations.js';
import { TRACE_COLUMNS, TRACE_COLUMNS_BEFORE_TENANT, traceRowLine } from '../../processor/src/store/row-lines.js';
import type { DecodedSpan } from '../../processor/src/model.js';
import { useScratchStore } from '../helpers/scratch-store.js';

const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
const scratch = useScratchStore('tenant-migration', VARS, '0024');

const span = (traceId: string): DecodedSpan =>
  ({
    traceId,
    spanId: 'b'.repeat(16),
    parentSpanId: '',
    traceState: '',
    name: 'old span',
    kind: 1,
    startTimeUnixNano: BigInt(Date.UTC(2026, 10, 20, 12)) * 1_000_000n,
    endTimeUnixNano: BigInt(Date.UTC(2026, 10, 20, 12)) * 1_000_000n + 5_000_000n,
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
    origin: { resource: { 'service.name': 'legacy-svc' }, scope: { name: 's', version: '1', attributes: {} } },
  }) as unknown as DecodedSpan;

async function rows<T>(sql: string): Promise<T[]> {
  return (await scratch.store.writer.query({ query: sql, format: 'JSONEachRow' })).json<T>();
}

describe('migration 0024: TenantId on otel_traces and otel_logs', () => {
  it('gives rows stored before it the default tenant, and replays an older log line under it', async () => {
    const store = scratch.store;
    const columns = await rows<{ name: string }>("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'otel_traces' AND name = 'TenantId'");
    expect(columns).toEqual([]);
    // A line as an older processor wrote it: the current line without its trailing tenant.
    const oldLine = (traceId: string) => JSON.stringify((JSON.parse(traceRowLine(span(traceId), 'x')) as unknown[]).slice(0, TRACE_COLUMNS_BEFORE_TENANT));
    expect(JSON.parse(oldLine('a'.repeat(32)))).toHaveLength(TRACE_COLUMNS.length - 1);
    await store.writer.insert({
      table: 'otel_traces',
      values: [oldLine('a'.repeat(32))],
      format: 'JSONCompactEachRow',
      columns: TRACE_COLUMNS.slice(0, TRACE_COLUMNS_BEFORE_TENANT).map((c) => `\`${c}\``) as [string, ...string[]],
    });
    await store.writer.insert({ table: 'otel_logs', values: [{ Timestamp: '1795176000000000000', TraceId: 'a'.repeat(32), Body: 'old log', ServiceName: 'legacy-svc' }], format: 'JSONEachRow' });

    await migrate(store.writer, { ...VARS, DEFAULT_TENANT: 'legacy' });
    expect(await rows('SELECT TenantId FROM otel_traces')).toEqual([{ TenantId: 'legacy' }]);
    expect(await rows('SELECT TenantId FROM otel_logs')).toEqual([{ TenantId: 'legacy' }]);

    // After the upgrade: an old write-ahead-log line replays under the default tenant, a new one keeps its own.
    await insertLines(store.writer, 'otel_traces', 'JSONCompactEachRow', [oldLine('c'.repeat(32)), traceRowLine(span('d'.repeat(32)), 'team-d')], 'replay-1');
    expect(await rows("SELECT TraceId, TenantId FROM otel_traces WHERE TraceId IN ('cccccccccccccccccccccccccccccccc', 'dddddddddddddddddddddddddddddddd') ORDER BY TraceId")).toEqual([
      { TraceId: 'c'.repeat(32), TenantId: 'legacy' },
      { TraceId: 'd'.repeat(32), TenantId: 'team-d' },
    ]);
  });

  it('keeps the strict column count for the other tables\' lines', async () => {
    const store = scratch.store;
    await expect(insertLines(store.writer, 'genai_spans', 'JSONCompactEachRow', ['["too","short"]'], 'short-1')).rejects.toThrow();
  });
});
