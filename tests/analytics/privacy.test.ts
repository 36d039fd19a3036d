// Privacy of the query sketch and topic: with content capture off (the default), a query sent through the real
// instrumentation (traceRag + traceRetrieval, real OTel SDK, OTLP/HTTP protobuf exporter) into the real
// processor leaves no trace of its text in the store: no String/Array/Map column of any table in the database
// (every one listed by system.columns) contains the text or any of its words of 4+ characters. What is stored
// instead is the fingerprint (a SHA-256 prefix) and the sketch, one UInt64: 64 bits summarizing a whole query
// cannot be decoded back into it (many texts share each value); like the fingerprint it can only confirm a
// guessed text, which a configured salt (RAGSCOPE_FINGERPRINT_SALT) prevents.
// Control: the same scan finds a second query sent with content capture on, so the scan is not blind.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, RagscopeSpanProcessor, simHash64, traceRag, traceRetrieval } from '../../instrumentation/src/index.js';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import { ConversationSignalsJob } from '../../processor/src/derive/conversation-signals.js';

const PRIVATE_QUERY = 'Why was my quarterly invoice charged twice yesterday?';
const CAPTURED_QUERY = 'Whereabouts does the lighthouse telescope calibration happen?';
const wordsOf = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 4);

let proc: TestProcessor;
let provider: TracerProvider;
let privateTraceId = '';

async function ask(query: string, captureContent: boolean): Promise<string> {
  configure({ captureContent });
  const traceId = await traceRag('privacy-check', { userId: 'u-privacy', sessionId: 's-privacy', conversationId: 'c-privacy', feature: 'privacy-check', query, topic: 'account-help' }, async (req) => {
    await traceRetrieval({ dataSourceId: 'kb-privacy', topK: 2, query }, async (stage) => {
      stage.setDocuments([{ id: 'doc-1', score: 0.8 }, { id: 'doc-2', score: 0.7 }]);
    });
    return req.traceId;
  });
  await provider.forceFlush();
  return traceId;
}

beforeAll(async () => {
  proc = await startProcessor();
  provider = new TracerProvider({
    spanProcessors: [new RagscopeSpanProcessor(), new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${proc.url}/v1/traces` }) })],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  privateTraceId = await ask(PRIVATE_QUERY, false);
  await ask(CAPTURED_QUERY, true);
  await proc.processor.queue.flushed();
  // The stored implicit-feedback signals (migration 0027) are scanned too: one pass of the job, at an instant
  // after these real-clock spans.
  const at = Date.now() + 60_000;
  const job = new ConversationSignalsJob(proc.processor.store.writer, () => at, { ...proc.processor.config.signals, intervalSeconds: 0 });
  await job.refresh();
  await job.stop();
}, 120_000);

afterAll(async () => {
  configure({ captureContent: false });
  await provider?.shutdown();
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
});

/** Every (table, column) of the database that can hold text, and how many rows contain any of `needles`. */
async function textHits(needles: string[]): Promise<{ table: string; column: string; rows: number }[]> {
  const columns = await proc.query<{ table: string; name: string; type: string }>(
    `SELECT c.table AS table, c.name AS name, c.type AS type
     FROM system.columns AS c
     INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = currentDatabase() AND t.engine NOT LIKE '%View%'
       AND (c.type LIKE '%String%' OR c.type LIKE 'Array%' OR c.type LIKE 'Map%' OR c.type LIKE 'Nested%')
       AND c.type NOT LIKE 'AggregateFunction%'`,
  );
  expect(columns.length).toBeGreaterThan(50);
  expect(new Set(columns.map((c) => c.table))).toContain('genai_spans');
  expect(new Set(columns.map((c) => c.table))).toContain('conversation_turns');
  expect(new Set(columns.map((c) => c.table))).toContain('conversation_signals');
  const list = `[${needles.map((n) => `'${n.replace(/'/g, "\\'")}'`).join(', ')}]`;
  const out: { table: string; column: string; rows: number }[] = [];
  for (const c of columns) {
    const [r] = await proc.query<{ n: string }>(`SELECT count() AS n FROM \`${c.table}\` WHERE multiSearchAnyCaseInsensitive(toString(\`${c.name}\`), ${list})`);
    out.push({ table: c.table, column: c.name, rows: Number(r!.n) });
  }
  return out;
}

describe('with content capture off, the query text is stored nowhere', () => {
  it('the request is stored, with its fingerprint, sketch and topic', async () => {
    const rows = await proc.query<{ QueryFingerprint: string; QuerySketch: string; QueryTopic: string }>(
      `SELECT QueryFingerprint, toString(QuerySketch) AS QuerySketch, QueryTopic FROM genai_spans WHERE TraceId = '${privateTraceId}' AND RagStage = 'request'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.QueryFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(rows[0]!.QuerySketch).toBe(simHash64(PRIVATE_QUERY).toString());
    expect(rows[0]!.QueryTopic).toBe('account-help');
    const [t] = await proc.query<{ type: string }>(`SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'genai_spans' AND name = 'QuerySketch'`);
    expect(t!.type).toBe('Nullable(UInt64)');
    const stored = await proc.query<{ QueryFingerprint: string }>(`SELECT QueryFingerprint FROM conversation_signals FINAL WHERE TraceId = '${privateTraceId}'`);
    expect(stored.map((r) => r.QueryFingerprint)).toEqual([rows[0]!.QueryFingerprint]);
  });

  it('no String/Array/Map column of any table contains the text or any of its words of 4+ characters', async () => {
    const needles = [PRIVATE_QUERY, ...wordsOf(PRIVATE_QUERY)];
    expect(needles.length).toBeGreaterThan(4);
    const hits = (await textHits(needles)).filter((h) => h.rows > 0);
    expect(hits).toEqual([]);
  });

  it('control: the query sent with content capture on is found by the same scan', async () => {
    const hits = (await textHits([CAPTURED_QUERY])).filter((h) => h.rows > 0);
    expect(hits.length).toBeGreaterThan(0);
  });
});
