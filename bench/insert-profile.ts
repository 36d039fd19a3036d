// npm run bench:insert-profile [-- --requests 40 --spans 512 --rounds 5 --batch 5120 --sizes 1024,20480 --raw --formats --binary --fixed-cost]
//
// Where the embedded engine's insert time goes, per table, on the processor's own rows (bench payloads through
// the real pipeline), variants interleaved round by round so load from other processes skews them alike:
//   - genai_spans with all its materialized views, through @clickhouse/client on the chdb connection
//     (JSONCompactEachRow, one INSERT statement carrying the rows as text: how the shipper inserted until issue
//     15's raw insert; server mode still does);
//   - the same rows into a copy of genai_spans without views (format parsing + part creation only);
//   - with --raw, the same rows through chdb's raw passthrough insert (Buffer, engine-side parallel parsing);
//   - each materialized view's own cost: the view alone on the copy (view + its rollup's part) minus the copy alone;
//     and usage_cost_hourly_mv with the daily rollup it fed until migration 0031 (a second view and part per insert,
//     now a view read at query time): what 0031 took off each insert;
//   - otel_traces (with its trace-id view) and a copy without it;
//   - batch sizes (rows per insert), and parallel_view_processing (the views of one insert on several threads);
//   - with --formats, chdb's raw insert (how the shipper inserts on the embedded store) of the same rows as
//     JSONCompactEachRow, TabSeparated and CSV, input_format_* / max_insert_threads settings, an LZ4 copy of
//     otel_traces, and rows per insert (--sizes) on the tables as shipped;
//   - with --binary, the same rows read by the engine from a file (INSERT … SELECT FROM file(), how the shipper
//     inserts on the embedded store since issue 15's third round) as JSONCompactEachRow, RowBinary and Native,
//     against chdb's inline raw insert;
//   - with --fixed-cost, single-row inserts: what one insert costs however few its rows.
// chdb keeps per-query settings for the session: every insert here names all the settings it depends on.
// Prints µs per row for each and writes bench/results/insert-profile.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { decodeTraces } from '../processor/src/receive/protobuf-decoder.js';
import { Pipeline } from '../processor/src/pipeline.js';
import { loadPriceBook } from '../processor/src/derive/index.js';
import { insertFormat, LINE_COLUMNS } from '../processor/src/store/row-lines.js';
import { listMigrations, migrate, splitStatements, substituteVariables } from '../processor/src/store/migrations.js';
import type { TableName } from '../processor/src/store/write-queue.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '40' },
    spans: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '5120' },
    sizes: { type: 'string', default: '1024,20480' },
    // Also chdb's raw passthrough insert (a Buffer, parsed engine-side) for genai_spans.
    raw: { type: 'boolean', default: false },
    // Input formats and parsing settings (issue 15): the same rows through chdb's raw insert as
    // JSONCompactEachRow / TabSeparated / CSV (the latter two written by the engine from the same rows), against
    // the client path as shipped; otel_traces with LZ4 instead of ZSTD(1); input_format_* settings.
    formats: { type: 'boolean', default: false },
    // The same rows read by the engine from a file (INSERT … SELECT FROM file()) as JSONCompactEachRow,
    // RowBinary and Native: what a binary insert format would save in parsing (chdb-node's raw insert takes
    // text formats only).
    binary: { type: 'boolean', default: false },
    // The fixed cost of one insert: single-row inserts into each table as shipped and into copies without views.
    'fixed-cost': { type: 'boolean', default: false },
    // Only the variants whose name contains one of these (comma-separated) substrings.
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results/insert-profile.json' },
  },
});
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-bench-insert-profile-'));
  const { createChdbConnection } = await import('chdb/connection');
  const connection = createChdbConnection({ path: dataDir });
  const client = createClient({ connection: connection as never, json: { stringify: (r: unknown) => (typeof r === 'string' ? r : JSON.stringify(r)) } }) as ClickHouseClient;
  const raw = (connection as unknown as { chdb: { rawInsert(p: Record<string, unknown>): Promise<unknown> } }).chdb;
  try {
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS ragscope' });
    await client.command({ query: 'USE ragscope' });
    await migrate(client, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });
    const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 100_000, rawTtlDays: 30 });
    const genai: string[] = [];
    const traces: string[] = [];
    for (let i = 0; i < Number(args.requests); i++) {
      const payload = buildGenAiTracePayload({ spanCount: Number(args.spans), startMs: Date.now() - 3_600_000 + i * 60_000 });
      const rows = pipeline.processSpans(decodeTraces(payload.protobuf)).rows;
      genai.push(...(rows.genai_spans as string[]));
      traces.push(...(rows.otel_traces as string[]));
    }
    console.log(`ragscope bench:insert-profile — ${genai.length} genai_spans rows, ${traces.length} otel_traces rows, ${BATCH} rows per insert, ${ROUNDS} rounds`);

    const views = (
      await (await client.query({ query: "SELECT name, as_select FROM system.tables WHERE database = 'ragscope' AND engine = 'MaterializedView' ORDER BY name", format: 'JSONEachRow' })).json<{ name: string; as_select: string }>()
    );
    const genaiViews = views.filter((v) => /\bFROM\s+ragscope\.genai_spans\b/i.test(v.as_select));

    // Copies without views; and per view, a copy of the table feeding only that view (into a copy of its target).
    await client.command({ query: 'CREATE TABLE scratch_genai AS genai_spans' });
    await client.command({ query: 'CREATE TABLE scratch_traces AS otel_traces' });
    // Copies without their data-skipping indexes (bloom filters on ids and, in otel_traces, on map keys/values).
    await client.command({ query: 'CREATE TABLE scratch_traces_noidx AS otel_traces' });
    await client.command({ query: 'CREATE TABLE scratch_genai_noidx AS genai_spans' });
    for (const table of ['scratch_traces_noidx', 'scratch_genai_noidx']) {
      const indexes = await (await client.query({ query: `SELECT name FROM system.data_skipping_indices WHERE database = 'ragscope' AND table = '${table}'`, format: 'JSONEachRow' })).json<{ name: string }>();
      if (indexes.length > 0) await client.command({ query: `ALTER TABLE ${table} ${indexes.map((i) => `DROP INDEX ${i.name}`).join(', ')}` });
    }
    const viewCopies: { view: string; table: string }[] = [];
    for (const v of genaiViews) {
      const target = /TO\s+ragscope\.(\w+)/i.exec((await (await client.query({ query: `SHOW CREATE TABLE ${v.name}`, format: 'TabSeparatedRaw' })).text()))![1];
      const table = `scratch_src_${v.name}`;
      await client.command({ query: `CREATE TABLE ${table} AS genai_spans` });
      await client.command({ query: `CREATE TABLE scratch_dst_${v.name} AS ${target}` });
      const select = v.as_select.replace(/\bragscope\.genai_spans\b/g, `ragscope.${table}`);
      await client.command({ query: `CREATE MATERIALIZED VIEW scratch_mv_${v.name} TO scratch_dst_${v.name} AS ${select}` });
      viewCopies.push({ view: v.name, table });
    }

    // Until migration 0031, usage_cost_daily was a rollup fed from usage_cost_hourly's blocks (0004's table and
    // view, read from the migration itself): the hourly view's copy with that cascade behind it.
    const hourlyCopy = viewCopies.find((c) => c.view === 'usage_cost_hourly_mv');
    if (hourlyCopy) {
      const m0004 = listMigrations().find((m) => m.version === 4)!;
      const statements = splitStatements(substituteVariables(m0004.sql, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 }, m0004.file));
      const daily = (start: RegExp) => statements.find((st) => start.test(st.replace(/--[^\n]*\n/g, '').trim()))!;
      const table = `scratch_src_cascade`;
      await client.command({ query: `CREATE TABLE ${table} AS genai_spans` });
      await client.command({ query: 'CREATE TABLE scratch_dst_cascade_hourly AS usage_cost_hourly' });
      const hourlySelect = genaiViews.find((v) => v.name === 'usage_cost_hourly_mv')!.as_select.replace(/\bragscope\.genai_spans\b/g, `ragscope.${table}`);
      await client.command({ query: `CREATE MATERIALIZED VIEW scratch_mv_cascade_hourly TO scratch_dst_cascade_hourly AS ${hourlySelect}` });
      await client.command({ query: daily(/^CREATE TABLE IF NOT EXISTS usage_cost_daily\b/).replace('usage_cost_daily', 'scratch_dst_cascade_daily') });
      await client.command({
        query: daily(/^CREATE MATERIALIZED VIEW IF NOT EXISTS usage_cost_daily_mv\b/)
          .replace('usage_cost_daily_mv TO usage_cost_daily', 'scratch_mv_cascade_daily TO scratch_dst_cascade_daily')
          .replace(/FROM usage_cost_hourly\b/, 'FROM scratch_dst_cascade_hourly'),
      });
      viewCopies.push({ view: 'usage_cost_hourly_mv + usage_cost_daily_mv (cascaded, before 0031)', table });
    }

    const batches = (lines: string[], size: number) => {
      const out: string[][] = [];
      for (let i = 0; i + size <= lines.length; i += size) out.push(lines.slice(i, i + size));
      return out.length > 0 ? out : [lines];
    };
    let token = 0;
    const viaClient = (table: string, lines: string[]) => {
      const columns = insertFormat(table as TableName, lines);
      return client.insert({ table, values: lines, ...columns, clickhouse_settings: { insert_deduplication_token: `p${token++}`, deduplicate_blocks_in_dependent_materialized_views: 1, parallel_view_processing: 0 } });
    };
    const asTable = (real: TableName, target: string) => (lines: string[]) => {
      const columns = insertFormat(real, lines);
      return client.insert({ table: target, values: lines, ...columns, clickhouse_settings: { insert_deduplication_token: `p${token++}`, deduplicate_blocks_in_dependent_materialized_views: 1, parallel_view_processing: 0 } });
    };
    const viaRaw = (real: TableName, target: string) => (lines: string[]) => {
      const columns = insertFormat(real, lines) as { columns: string[] };
      return raw.rawInsert({ table: target, values: Buffer.from(`${lines.join('\n')}\n`), format: 'JSONCompactEachRow', columns: columns.columns.map((c) => c.replaceAll('`', '')), settings: { insert_deduplication_token: `p${token++}`, deduplicate_blocks_in_dependent_materialized_views: 1, parallel_view_processing: 0 } });
    };

    // Rows as Buffers in other formats, written by the engine from the same rows (a copy holding them once).
    const formatBatches = async (real: TableName, format: string): Promise<Buffer[]> => {
      const columns = LINE_COLUMNS[real]!;
      const source = real === 'otel_traces' ? traces : genai;
      await client.command({ query: `CREATE TABLE IF NOT EXISTS scratch_fmt_${real} AS ${real}` });
      if (Number(await (await client.query({ query: `SELECT count() FROM scratch_fmt_${real}`, format: 'TabSeparated' })).text()) === 0) {
        await client.insert({ table: `scratch_fmt_${real}`, values: source, ...insertFormat(real, source), clickhouse_settings: { insert_deduplication_token: `fmt-${real}` } });
      }
      const out: Buffer[] = [];
      for (let offset = 0; offset + BATCH <= source.length || out.length === 0; offset += BATCH) {
        const select = `SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM scratch_fmt_${real} ORDER BY TraceId, SpanId LIMIT ${BATCH} OFFSET ${offset}`;
        out.push(Buffer.from(await (await client.query({ query: select, format: format as 'TabSeparated' })).text()));
      }
      return out;
    };
    const rawColumns = (real: TableName) => LINE_COLUMNS[real]!.slice();
    const rawBuffer = (real: TableName, target: string, format: string, settings: Record<string, number | string> = {}) => (data: Buffer) =>
      raw.rawInsert({ table: target, values: data, format, columns: rawColumns(real), settings: { insert_deduplication_token: `p${token++}`, deduplicate_blocks_in_dependent_materialized_views: 1, parallel_view_processing: 0, ...settings } });
    const asJsonBuffers = (lines: string[]) => batches(lines, BATCH).map((b) => Buffer.from(`${b.join('\n')}\n`));
    const formatVariants: Variant[] = [];
    if (args.formats) {
      await client.command({ query: (await (await client.query({ query: 'SHOW CREATE TABLE otel_traces', format: 'TabSeparatedRaw' })).text()).replace(/ragscope\.otel_traces\b/, 'ragscope.scratch_traces_lz4').replaceAll('ZSTD(1)', 'LZ4') });
      for (const real of ['otel_traces', 'genai_spans'] as const) {
        const copy = real === 'otel_traces' ? 'scratch_traces' : 'scratch_genai';
        const json = asJsonBuffers(real === 'otel_traces' ? traces : genai);
        const tsv = await formatBatches(real, 'TabSeparated');
        const csv = await formatBatches(real, 'CSV');
        const add = (name: string, buffers: Buffer[], insert: (b: Buffer) => Promise<unknown>) =>
          formatVariants.push({ name, rows: real === 'otel_traces' ? traces : genai, size: BATCH, buffers, insert: insert as never });
        add(`${real} copy, raw JSONCompactEachRow`, json, rawBuffer(real, copy, 'JSONCompactEachRow'));
        add(`${real} copy, raw TabSeparated`, tsv, rawBuffer(real, copy, 'TabSeparated'));
        add(`${real} copy, raw CSV`, csv, rawBuffer(real, copy, 'CSV'));
        add(`${real} copy, raw JSONCompactEachRow, input_format_parallel_parsing = 0`, json, rawBuffer(real, copy, 'JSONCompactEachRow', { input_format_parallel_parsing: 0 }));
        add(`${real} copy, raw JSONCompactEachRow, input_format_defaults_for_omitted_fields = 0`, json, rawBuffer(real, copy, 'JSONCompactEachRow', { input_format_defaults_for_omitted_fields: 0 }));
        add(`${real} copy, raw JSONCompactEachRow, max_insert_threads = 2`, json, rawBuffer(real, copy, 'JSONCompactEachRow', { max_insert_threads: 2 }));
        add(`${real} as shipped (views), raw JSONCompactEachRow`, json, rawBuffer(real, real, 'JSONCompactEachRow'));
        if (real === 'otel_traces') add('otel_traces copy, LZ4 instead of ZSTD(1), raw JSONCompactEachRow', json, rawBuffer(real, 'scratch_traces_lz4', 'JSONCompactEachRow'));
        for (const size of args.sizes.split(',').map(Number)) {
          const sized = batches(real === 'otel_traces' ? traces : genai, size).map((b) => Buffer.from(`${b.join('\n')}\n`));
          formatVariants.push({ name: `${real} as shipped (views), raw JSONCompactEachRow, ${size} rows per insert`, rows: real === 'otel_traces' ? traces : genai, size, buffers: sized, insert: rawBuffer(real, real, 'JSONCompactEachRow') as never });
        }
      }
    }

    if (args.binary) {
      for (const real of ['otel_traces', 'genai_spans'] as const) {
        const copy = real === 'otel_traces' ? 'scratch_traces' : 'scratch_genai';
        await formatBatches(real, 'TabSeparated'); // fills scratch_fmt_<real>
        const columns = LINE_COLUMNS[real]!.map((c) => `\`${c}\``).join(', ');
        const structure = (await (await client.query({ query: `DESCRIBE (SELECT ${columns} FROM scratch_fmt_${real})`, format: 'JSONEachRow' })).json<{ name: string; type: string }>())
          .map((c) => `\`${c.name}\` ${c.type}`)
          .join(', ');
        const source = real === 'otel_traces' ? traces : genai;
        for (const format of ['JSONCompactEachRow', 'RowBinary', 'Native']) {
          const files: string[] = [];
          for (let offset = 0; offset + BATCH <= source.length || files.length === 0; offset += BATCH) {
            const file = join(dataDir, `fmt-${real}-${offset}.${format}`);
            await client.command({ query: `INSERT INTO FUNCTION file('${file}', '${format}', '${structure.replaceAll("'", "\\'")}') SELECT ${columns} FROM scratch_fmt_${real} ORDER BY TraceId, SpanId LIMIT ${BATCH} OFFSET ${offset}` });
            files.push(file);
          }
          for (const target of [copy, real]) {
            formatVariants.push({
              name: `${real} ${target === real ? 'as shipped (views)' : 'copy'}, file() ${format}`,
              rows: source,
              size: BATCH,
              buffers: files.map((f) => Buffer.from(f)),
              insert: ((f: Buffer) =>
                client.command({
                  query: `INSERT INTO ${target} (${columns}) SELECT * FROM file('${f.toString()}', '${format}', '${structure.replaceAll("'", "\\'")}') SETTINGS insert_deduplication_token = 'p${token++}', deduplicate_blocks_in_dependent_materialized_views = 1, parallel_view_processing = 0`,
                })) as never,
            });
          }
        }
        formatVariants.push({ name: `${real} copy, raw JSONCompactEachRow`, rows: source, size: BATCH, buffers: asJsonBuffers(source), insert: rawBuffer(real, copy, 'JSONCompactEachRow') as never });
        formatVariants.push({ name: `${real} as shipped (views), raw JSONCompactEachRow`, rows: source, size: BATCH, buffers: asJsonBuffers(source), insert: rawBuffer(real, real, 'JSONCompactEachRow') as never });
      }
    }

    if (args['fixed-cost']) {
      // 8 single-row inserts per round: µs per row is µs per insert here.
      const few = (lines: string[]) => lines.slice(0, 8);
      formatVariants.push(
        { name: 'genai_spans as shipped (views), 1 row per insert (cost per insert)', rows: few(genai), size: 1, buffers: few(genai).map((l) => Buffer.from(`${l}\n`)), insert: rawBuffer('genai_spans', 'genai_spans', 'JSONCompactEachRow') as never },
        { name: 'genai_spans copy, 1 row per insert (cost per insert)', rows: few(genai), size: 1, buffers: few(genai).map((l) => Buffer.from(`${l}\n`)), insert: rawBuffer('genai_spans', 'scratch_genai', 'JSONCompactEachRow') as never },
        { name: 'otel_traces as shipped (view), 1 row per insert (cost per insert)', rows: few(traces), size: 1, buffers: few(traces).map((l) => Buffer.from(`${l}\n`)), insert: rawBuffer('otel_traces', 'otel_traces', 'JSONCompactEachRow') as never },
      );
    }

    interface Variant {
      name: string;
      rows: string[];
      size: number;
      /** Pre-built insert bodies (raw format variants); the insert then takes one Buffer instead of lines. */
      buffers?: Buffer[];
      insert(lines: string[]): Promise<unknown>;
    }
    const variants: Variant[] = [
      { name: 'genai_spans, all views (as shipped)', rows: genai, size: BATCH, insert: (l) => viaClient('genai_spans', l) },
      { name: 'genai_spans copy, no views', rows: genai, size: BATCH, insert: asTable('genai_spans', 'scratch_genai') },
      ...(args.raw
        ? [
            { name: 'genai_spans copy, no views, chdb raw insert', rows: genai, size: BATCH, insert: viaRaw('genai_spans', 'scratch_genai') },
            { name: 'genai_spans, all views, chdb raw insert', rows: genai, size: BATCH, insert: viaRaw('genai_spans', 'genai_spans') },
          ]
        : []),
      ...viewCopies.map((c) => ({ name: `view ${c.view} (with the copy)`, rows: genai, size: BATCH, insert: asTable('genai_spans', c.table) })),
      {
        name: 'genai_spans, all views, parallel_view_processing = 1',
        rows: genai,
        size: BATCH,
        insert: (l: string[]) => client.insert({ table: 'genai_spans', values: l, ...insertFormat('genai_spans', l), clickhouse_settings: { insert_deduplication_token: `p${token++}`, deduplicate_blocks_in_dependent_materialized_views: 1, parallel_view_processing: 1 } }),
      },
      { name: 'otel_traces, with its view (as shipped)', rows: traces, size: BATCH, insert: (l: string[]) => viaClient('otel_traces', l) },
      { name: 'otel_traces copy, no view', rows: traces, size: BATCH, insert: asTable('otel_traces', 'scratch_traces') },
      { name: 'otel_traces copy, no view, no skip indexes', rows: traces, size: BATCH, insert: asTable('otel_traces', 'scratch_traces_noidx') },
      { name: 'genai_spans copy, no views, no skip indexes', rows: genai, size: BATCH, insert: asTable('genai_spans', 'scratch_genai_noidx') },
      ...args.sizes
        .split(',')
        .map(Number)
        .flatMap((size) => [
          { name: `genai_spans, all views, ${size} rows per insert`, rows: genai, size, insert: (l: string[]) => viaClient('genai_spans', l) },
          { name: `otel_traces, ${size} rows per insert`, rows: traces, size, insert: (l: string[]) => viaClient('otel_traces', l) },
        ]),
      ...formatVariants,
    ];
    // CPU time of this process (the engine runs in it, all its threads) is what a loaded 2-core machine can
    // measure reliably; wall time is printed alongside.
    if (args.only) {
      const wanted = args.only.split(',');
      variants.splice(0, variants.length, ...variants.filter((v) => wanted.some((w) => v.name.includes(w))));
    }
    const cpu = variants.map(() => [] as number[]);
    const wall = variants.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (let k = 0; k < variants.length; k++) {
        const v = variants[k];
        const bs: unknown[] = v.buffers ?? batches(v.rows, v.size);
        const rows = v.buffers ? v.buffers.length * Math.min(v.size, v.rows.length) : (bs as string[][]).reduce((n, b) => n + b.length, 0);
        const started = performance.now();
        const cpu0 = process.cpuUsage();
        for (const b of bs) await v.insert(b as string[]);
        const used = process.cpuUsage(cpu0);
        if (round === 0) continue; // warm-up
        cpu[k].push((used.user + used.system) / rows);
        wall[k].push(((performance.now() - started) * 1000) / rows);
      }
    }
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const results = variants.map((v, k) => ({ variant: v.name, rowsPerInsert: v.size, cpuMicrosPerRow: r2(median(cpu[k])), wallMicrosPerRow: r2(median(wall[k])), cpuSamples: cpu[k].map(r2) }));
    const copyAlone = results.find((r) => r.variant === 'genai_spans copy, no views')?.cpuMicrosPerRow ?? NaN;
    console.log(`${'variant'.padEnd(64)} ${'CPU µs/row'.padStart(10)} ${'wall µs/row'.padStart(11)}`);
    for (const r of results) {
      const extra = r.variant.startsWith('view ') ? `   (view alone ≈ ${(r.cpuMicrosPerRow - copyAlone).toFixed(2)} µs CPU/row)` : '';
      console.log(`${r.variant.padEnd(64)} ${r.cpuMicrosPerRow.toFixed(2).padStart(10)} ${r.wallMicrosPerRow.toFixed(2).padStart(11)}${extra}`);
    }
    const load = (await import('node:os')).loadavg();
    console.log(`load average ${load.map((x) => x.toFixed(2)).join(' / ')}`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(args.out!, `${JSON.stringify({ benchmark: 'insert-profile', date: new Date().toISOString(), node: process.version, loadAverage: load, parameters: { rows: genai.length, batch: BATCH, rounds: ROUNDS }, results }, null, 2)}\n`);
    console.log(`wrote ${args.out}`);
  } finally {
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
