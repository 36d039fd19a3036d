// npm run bench:pipeline [-- --baseline-rev <rev, default: main> --processes 3 --rounds 11 --spans 512 --profile]
//
// Issue 15's "processor CPU per span" stage by stage, no database, in-process: the bench's GenAI trace payloads
// (bench/decode-payloads.ts, 8 distinct 512-span requests) through one revision's pipeline, CPU µs per span
// (process.cpuUsage: user + system) for each stage:
//   decode        OTLP protobuf → DecodedSpan (receive/protobuf-decoder.ts)
//   normalize     DecodedSpan → GenAiRecord (normalize/)
//   dedupe        usage dedupe over the batch (normalize/dedupe.ts)
//   price         GenAiRecord → CostResult (derive/)
//   rows traces   otel_traces row text (store/row-lines.ts)
//   rows genai    genai_spans row text (store/genai-spans-columns.ts)
//   wal record    the request's rows joined into its write-ahead-log record (store/wal-record.ts encodeRecord):
//                 what the processor does with the rows before it answers (the durable bytes)
//                 A revision whose pipeline hands the queue line rows (store/json-bytes.ts LineRow, written
//                 straight into the record's bytes, no string per row): the rows stages are its row writers
//                 alone (writeTraceRow / writeGenAiRow into a scratch buffer), and "wal record" writes them
//                 again, into the record (the row text is counted in both).
// and the total: decode + Pipeline.processSpans + encodeRecord, one request at a time (what a request costs the
// processor up to its durable write). Also shown, outside the total: "insert body", the shipper's insert of the
// same rows on the embedded connection up to the SQL text the engine gets (the client's body, chdb's statement
// text as UTF-8; bench:speed counts the client's join instead of the record). The baseline revision (default: main) is checked out and measured in the SAME run: each revision in
// fresh processes, alternating; per process the median of its rounds, then the median over processes.
// --profile also runs one process per revision under the V8 CPU profiler (the total loop's rounds only) and prints the functions with
// the most self time. Prints figures and writes bench/results/pipeline.json (+ .cpuprofile files with --profile).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { baselineCheckout, ROOT } from './support/baseline.js';
import type { CostResult, DecodedSpan, GenAiRecord } from '../processor/src/model.js';

const { values: args } = parseArgs({
  options: {
    'baseline-rev': { type: 'string', default: 'main' },
    processes: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '11' },
    spans: { type: 'string', default: '512' },
    profile: { type: 'boolean', default: false },
    /** Only the total, no stage rounds (whose 20 000 live spans per round disturb the process's GC). */
    'total-only': { type: 'boolean', default: false },
    /** Node flags for a third column: the current code run with them (e.g. --max-semi-space-size=64). */
    'current-flags': { type: 'string' },
    worker: { type: 'string' },
    'worker-mode': { type: 'string', default: 'stages' },
    out: { type: 'string', default: 'bench/results/pipeline.json' },
  },
});
const SPANS = Number(args.spans);
const ROUNDS = Number(args.rounds);
/** Requests per round: ~20 000 spans. */
const PER_ROUND = Math.max(1, Math.round(20_000 / SPANS));
const TENANT = 'default';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (x: number) => Math.round(x * 100) / 100;

const STAGES = ['decode', 'normalize', 'dedupe', 'price', 'rows otel_traces', 'rows genai_spans', 'wal record'] as const;
/** Outside the total. */
const EXTRA = ['insert body'] as const;
type Stage = (typeof STAGES)[number] | (typeof EXTRA)[number];
const ALL: readonly Stage[] = [...STAGES, ...EXTRA];
interface WorkerResult {
  stages: Record<Stage, number[]>;
  /** decode + processSpans + encodeRecord, request by request. */
  total: number[];
}

/** Runs `fn` and returns the process CPU time it took, µs. */
function cpu(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

async function worker(root: string, mode: string): Promise<WorkerResult> {
  const load = (path: string) => import(pathToFileURL(join(root, path)).href);
  const { decodeTraces } = await load('processor/src/receive/protobuf-decoder.ts');
  const { normalizeSpan, UsageDeduplicator } = await load('processor/src/normalize/index.ts');
  const { computeCost, loadPriceBook } = await load('processor/src/derive/index.ts');
  const { Pipeline } = await load('processor/src/pipeline.ts');
  const { traceRowLine, TraceLineRow, writeTraceRow } = await load('processor/src/store/row-lines.ts');
  const { genAiRowLine, GenAiLineRow, writeGenAiRow } = await load('processor/src/store/genai-spans-columns.ts');
  const jsonBytes = TraceLineRow ? await load('processor/src/store/json-bytes.ts') : null;
  const store = await load('processor/src/store/clickhouse.ts');
  const { encodeRecord, linesBytes } = await load('processor/src/store/wal-record.ts');
  // The insert's body on the embedded connection, as the shipper's insert makes it (per request here; the
  // shipper's inserts hold up to RAGSCOPE_BATCH_ROWS rows). A revision whose records carry their tables' bytes
  // inserts those (below); one that only exports linesBytes hands the lines
  // to chdb's raw insert as one Buffer (issue 15); before, @clickhouse/client joined the rows into the body
  // (a revision that builds it itself exports insertBody), chdb's connection checked `body.trim()` and handed
  // `${query}\n${body}` to the engine as UTF-8 (Buffer.from stands for that copy).
  const INSERT_SQL = 'INSERT INTO otel_traces (`a`) FORMAT JSONCompactEachRow';
  const clientBody: (table: string, rows: unknown[]) => string =
    store.insertBody ?? ((_table: string, rows: unknown[]) => rows.map((row) => `${store.stringifyRow(row)}\n`).join(''));
  const body = (table: string, rows: unknown[]): number => {
    if (linesBytes && typeof rows[0] === 'string') return (linesBytes(rows) as Buffer).length;
    const text = clientBody(table, rows);
    if (text.trim().length === 0) return 0;
    return Buffer.from(`${INSERT_SQL}\n${text}`).length;
  };
  const priceBook = loadPriceBook(undefined);
  const pipeline = new Pipeline({ priceBook, tenant: TENANT, dedupeCacheSize: 100_000, rawTtlDays: 30 });
  const payloads = Array.from({ length: 8 }, (_, i) => buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 + i * 60_000 }).protobuf);
  let next = 0;
  const spansPerRound = PER_ROUND * SPANS;

  const totalRound = (): number =>
    cpu(() => {
      for (let i = 0; i < PER_ROUND; i++) {
        // What ingest enqueues (receive/ingest.ts): the line rows when the revision has them.
        const batch = pipeline.processSpans(decodeTraces(payloads[next++ % payloads.length]));
        encodeRecord(batch.queueRows ?? batch.rows, batch.keys);
      }
    }) / spansPerRound;

  const dedupe = new UsageDeduplicator(100_000);
  const stageRound = (): Record<Stage, number> => {
    const requests = Array.from({ length: PER_ROUND }, () => payloads[next++ % payloads.length]);
    let decoded: DecodedSpan[][] = [];
    let records: (GenAiRecord | null)[][] = [];
    let costs: (CostResult | null)[][] = [];
    let traceLines: unknown[][] = [];
    let genaiLines: unknown[][] = [];
    let keys: string[][] = [];
    const t = {} as Record<Stage, number>;
    t.decode = cpu(() => (decoded = requests.map((p) => decodeTraces(p))));
    t.normalize = cpu(() => (records = decoded.map((spans) => spans.map((s) => normalizeSpan(s)))));
    t.dedupe = cpu(() => decoded.forEach((spans, k) => dedupe.markBatch(spans.map((span, i) => ({ span, record: records[k][i] })))));
    t.price = cpu(
      () => (costs = decoded.map((spans, k) => spans.map((s, i) => (records[k][i] ? computeCost(records[k][i], Number(s.startTimeUnixNano / 1_000_000n), priceBook) : null)))),
    );
    if (jsonBytes) {
      // Line rows: the row writers alone, into one scratch buffer per request; the record writes them again.
      t['rows otel_traces'] = cpu(() => {
        traceLines = decoded.map((spans) => {
          const w = new jsonBytes.ByteWriter(spans.length * 1024);
          for (const s of spans) writeTraceRow(w, s, TENANT);
          return spans.map((s) => new TraceLineRow(s, TENANT));
        });
      });
      t['rows genai_spans'] = cpu(() => {
        genaiLines = decoded.map((spans, k) => {
          const w = new jsonBytes.ByteWriter(spans.length * 1024);
          const rows: unknown[] = [];
          for (let i = 0; i < spans.length; i++) {
            if (!records[k][i]) continue;
            writeGenAiRow(w, spans[i], records[k][i], costs[k][i], TENANT);
            rows.push(new GenAiLineRow(spans[i], records[k][i], costs[k][i], TENANT));
          }
          return rows;
        });
      });
    } else {
      t['rows otel_traces'] = cpu(() => (traceLines = decoded.map((spans) => spans.map((s) => traceRowLine(s, TENANT)))));
      t['rows genai_spans'] = cpu(
        () => (genaiLines = decoded.map((spans, k) => spans.flatMap((s, i) => (records[k][i] ? [genAiRowLine(s, records[k][i], costs[k][i], TENANT)] : [])))),
      );
    }
    keys = decoded.map((spans) => spans.map((s) => `${s.traceId}${s.spanId}`));
    let encoded: { tables: { table: string; lines: string[]; bytes?: Buffer }[] }[] = [];
    t['wal record'] = cpu(() => {
      encoded = requests.map((_, k) => encodeRecord({ otel_traces: traceLines[k], genai_spans: genaiLines[k] }, keys[k]));
    });
    // A revision whose records carry each table's bytes (TableLines.bytes) inserts those: one copy joining the
    // batch's records (Buffer.concat); else the body is made from the lines.
    t['insert body'] = cpu(() => {
      for (const record of encoded) {
        for (const lines of record.tables) {
          if (lines.bytes) Buffer.concat([lines.bytes]);
          else body(lines.table, lines.lines);
        }
      }
    });
    for (const s of ALL) t[s] /= spansPerRound;
    return t;
  };

  // JIT warm-up.
  for (let i = 0; i < 3; i++) {
    totalRound();
    if (mode === 'stages') stageRound();
  }
  const result: WorkerResult = { stages: Object.fromEntries(ALL.map((s) => [s, [] as number[]])) as Record<Stage, number[]>, total: [] };
  const profiler = mode === 'profile' ? await startProfiler() : null;
  for (let r = 0; r < ROUNDS; r++) {
    result.total.push(totalRound());
    if (mode === 'stages') {
      const t = stageRound();
      for (const s of ALL) result.stages[s].push(t[s]);
    }
  }
  if (profiler) writeFileSync(args.out!, JSON.stringify(await profiler.stop()));
  return result;
}

/** The V8 CPU profiler of this process (node:inspector), sampling every 100 µs until stop(). */
async function startProfiler(): Promise<{ stop(): Promise<object> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return { stop: async () => ((await session.post('Profiler.stop')) as { profile: object }).profile };
}

function runWorker(root: string, mode: string, profileOut?: string, nodeFlags: string[] = []): Promise<WorkerResult> {
  const extra = profileOut ? ['--out', profileOut] : [];
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', import.meta.filename, '--worker', root, '--worker-mode', mode, '--spans', String(SPANS), '--rounds', String(ROUNDS), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((done, fail) =>
    child.once('exit', (code) => (code === 0 ? done(JSON.parse(out) as WorkerResult) : fail(new Error(`pipeline worker for ${root} exited with ${code}`)))),
  );
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function of a .cpuprofile, as a share of all samples, highest first. */
function topFunctions(file: string, count: number): { fn: string; selfPercent: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const { callFrame } = byNode.get(id)!;
    const where = callFrame.url ? `${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, n]) => ({ fn, selfPercent: r2((100 * n) / total) }));
}

async function main(): Promise<void> {
  if (args.worker) {
    process.stdout.write(JSON.stringify(await worker(args.worker, args['worker-mode']!)));
    return;
  }
  const rev = execFileSync('git', ['rev-parse', '--short', args['baseline-rev']!], { cwd: ROOT, encoding: 'utf8' }).trim();
  const baseline = baselineCheckout(rev);
  const loadBefore = loadavg();
  console.log(`ragscope bench:pipeline — node ${process.version}, baseline ${args['baseline-rev']} (${rev}) vs current, ${PER_ROUND} requests × ${SPANS} spans per round, ${ROUNDS} rounds per process; load average ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}`);

  const flags = args['current-flags']?.split(/\s+/).filter(Boolean) ?? [];
  const variants: [root: string, flags: string[]][] = [[baseline, []], [ROOT, []], ...(flags.length > 0 ? [[ROOT, flags] as [string, string[]]] : [])];
  const perProcess: { stages: Record<Stage, number>; total: number }[][] = variants.map(() => []);
  for (let p = 0; p < Number(args.processes); p++) {
    for (let k = 0; k < variants.length; k++) {
      const r = await runWorker(variants[k][0], args['total-only'] ? 'total' : 'stages', undefined, variants[k][1]);
      perProcess[k].push({ stages: Object.fromEntries(ALL.map((s) => [s, r.stages[s].length > 0 ? median(r.stages[s]) : NaN])) as Record<Stage, number>, total: median(r.total) });
    }
  }
  const summary = (k: number) => ({
    stages: Object.fromEntries(ALL.map((s) => [s, r2(median(perProcess[k].map((x) => x.stages[s])))])) as Record<Stage, number>,
    stageSum: r2(median(perProcess[k].map((x) => STAGES.reduce((sum, s) => sum + x.stages[s], 0)))),
    total: r2(median(perProcess[k].map((x) => x.total))),
    totalPerProcess: perProcess[k].map((x) => r2(x.total)),
  });
  const base = summary(0);
  const now = summary(1);
  const flagged = flags.length > 0 ? summary(2) : null;
  console.log(`\nCPU µs per span (median over ${args.processes} processes of each one's median round)`);
  console.log(`${'stage'.padEnd(18)} ${'baseline'.padStart(9)} ${'current'.padStart(9)} ${'ratio'.padStart(7)}`);
  const line = (name: string, b: number, c: number) => console.log(`${name.padEnd(18)} ${b.toFixed(2).padStart(9)} ${c.toFixed(2).padStart(9)} ${`${r2(b / c)}×`.padStart(7)}`);
  for (const s of STAGES) line(s, base.stages[s], now.stages[s]);
  line('sum of stages', base.stageSum, now.stageSum);
  line('total', base.total, now.total);
  for (const s of EXTRA) line(`(${s})`, base.stages[s], now.stages[s]);
  console.log(`per process, total: baseline ${base.totalPerProcess.join(', ')}; current ${now.totalPerProcess.join(', ')}`);
  const ratio = r2(base.total / now.total);
  console.log(`→ ${ratio}× less CPU per span; current ${now.total} µs: target ≤ 7 µs ${now.total <= 7 ? 'met' : 'NOT met'}`);
  if (flagged) {
    console.log(`current with ${flags.join(' ')}: total ${flagged.total} µs (per process ${flagged.totalPerProcess.join(', ')}), ${r2(base.total / flagged.total)}× less than the baseline`);
  }

  let profiles: { revision: string; file: string; top: { fn: string; selfPercent: number }[] }[] = [];
  if (args.profile) {
    const dir = join(ROOT, 'bench/results/profiles');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    profiles = [];
    for (const [label, root] of [['baseline', baseline], ['current', ROOT]] as const) {
      const file = join(dir, `${label}.cpuprofile`);
      await runWorker(root, 'profile', file);
      const top = topFunctions(file, 25);
      profiles.push({ revision: label, file: file.slice(ROOT.length + 1), top });
      console.log(`\n${label}: self time, top functions (${file.slice(ROOT.length + 1)})`);
      for (const t of top) console.log(`  ${t.selfPercent.toFixed(1).padStart(5)} %  ${t.fn}`);
    }
  }
  const loadAfter = loadavg();
  console.log(`load average at the end ${loadAfter.map((x) => x.toFixed(2)).join(' / ')}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    resolve(ROOT, args.out!),
    `${JSON.stringify({ benchmark: 'pipeline', date: new Date().toISOString(), node: process.version, baselineRev: rev, loadAverage: { start: loadBefore, end: loadAfter }, parameters: { spansPerRequest: SPANS, requestsPerRound: PER_ROUND, rounds: ROUNDS, processes: Number(args.processes) }, cpuMicrosPerSpan: { baseline: base, current: now, ratio, ...(flagged ? { currentWithFlags: { flags, ...flagged } } : {}) }, profiles }, null, 2)}\n`,
  );
  console.log(`\nwrote ${args.out}`);
}

await main();
