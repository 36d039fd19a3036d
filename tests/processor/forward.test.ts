// Forwarding: every stored span and log record reaches a downstream OTLP receiver (http/protobuf and gRPC),
// GenAI spans carrying ragscope.derived.* with their original attributes untouched; a dead downstream
// leaves ingestion unaffected, and the bounded queue's drops are counted in /metrics.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, postTraces, spanIdOf, traceIdOf, tracesRequest, type JsonSpan } from '../helpers/otlp-json.js';
import { startOtlpSink, waitFor, type OtlpSink } from '../helpers/otlp-sink.js';
import { decodeLogsProtobufjs, decodeTracesProtobufjs } from '../helpers/otlp-protobufjs/decoder.js';
import type { DecodedSpan } from '../../processor/src/model.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';

let sink: OtlpSink;
let proc: TestProcessor;

beforeAll(async () => {
  sink = await startOtlpSink();
  proc = await startProcessor({ RAGSCOPE_FORWARD_ENDPOINT: sink.httpUrl, RAGSCOPE_FORWARD_HEADERS: 'authorization=Bearer%20down-key' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
  await sink.close();
});

const forwardedSpans = (bodies: Buffer[]): DecodedSpan[] => bodies.flatMap((b) => decodeTracesProtobufjs(b));
const metric = async (url: string, pattern: RegExp) => Number(pattern.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 'NaN');

describe('forwarding', () => {
  it('forwards every stored span (OTLP/HTTP downstream), GenAI spans enriched under ragscope.derived.*, originals untouched', async () => {
    const t = testNow() - 5_000;
    const spans: JsonSpan[] = [
      { traceId: traceIdOf(101), spanId: spanIdOf(1011), name: 'chat', startMs: t, attributes: { ...chatAttributes(1000, 200, 'gpt-4o-mini'), 'ragscope.rag.stage': 'generation', 'app.int': 7, 'app.flag': true } },
      { traceId: traceIdOf(101), spanId: spanIdOf(1012), parentSpanId: spanIdOf(1011), name: 'db', startMs: t + 1, attributes: { 'db.system': 'postgresql', 'app.ratio': 0.25 } },
      { traceId: traceIdOf(101), spanId: '0000000000000000', name: 'refused', startMs: t + 2 },
    ];
    expect((await postTraces(proc.url, tracesRequest(spans, 'forwarded-svc'))).status).toBe(200);
    await waitFor(() => forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(101)).length === 2, 15_000, 'two forwarded spans');
    const got = forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(101));
    expect(got.map((s) => s.name).sort()).toEqual(['chat', 'db']);
    const chat = got.find((s) => s.name === 'chat')!;
    const stored = (await proc.query<{ CostUSD: string; PriceId: string; CostSource: string }>(`SELECT toString(CostUSD) AS CostUSD, PriceId, CostSource FROM genai_spans WHERE SpanId = '${spanIdOf(1011)}'`))[0];
    expect(Number(stored.CostUSD)).toBeGreaterThan(0);
    expect(chat.attributes).toMatchObject({
      ...chatAttributes(1000, 200, 'gpt-4o-mini'),
      'ragscope.rag.stage': 'generation',
      'app.int': 7,
      'app.flag': true,
      'ragscope.derived.tenant': 'default',
      'ragscope.derived.operation': 'chat',
      'ragscope.derived.provider': 'openai',
      'ragscope.derived.model': 'gpt-4o-mini',
      'ragscope.derived.usage_counted': true,
      'ragscope.derived.cost_source': stored.CostSource,
      'ragscope.derived.price_id': stored.PriceId,
    });
    expect(chat.attributes['ragscope.derived.cost_usd'] as number).toBeCloseTo(Number(stored.CostUSD), 12);
    expect(chat.origin.resource['service.name']).toBe('forwarded-svc');
    const db = got.find((s) => s.name === 'db')!;
    expect(db.attributes).toEqual({ 'db.system': 'postgresql', 'app.ratio': 0.25 });
    expect(db.parentSpanId).toBe(spanIdOf(1011));
    expect(db.startTimeUnixNano).toBe(BigInt(t + 1) * 1_000_000n);
    expect(sink.headers.at(-1)).toEqual({ authorization: 'Bearer down-key' });
  });

  it('forwards log records', async () => {
    const body = JSON.stringify({
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'log-svc' } }] }, scopeLogs: [{ scope: { name: 's' }, logRecords: [{ timeUnixNano: String(BigInt(testNow()) * 1_000_000n), severityNumber: 13, body: { stringValue: 'forward me' } }] }] }],
    });
    expect((await fetch(`${proc.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    await waitFor(() => sink.logs.flatMap((b) => decodeLogsProtobufjs(b)).some((l) => l.body === 'forward me'), 15_000, 'forwarded log');
    const log = sink.logs.flatMap((b) => decodeLogsProtobufjs(b)).find((l) => l.body === 'forward me')!;
    expect(log.severityNumber).toBe(13);
    expect(log.origin.resource['service.name']).toBe('log-svc');
  });

  it('a failing downstream is retried until it recovers; nothing lost', async () => {
    sink.failing = true;
    const spans = Array.from({ length: 5 }, (_, i) => ({ traceId: traceIdOf(202), spanId: spanIdOf(2020 + i), name: `retry-${i}`, startMs: testNow() - 1_000 }));
    expect((await postTraces(proc.url, tracesRequest(spans))).status).toBe(200);
    await waitFor(async () => (await metric(proc.url, /ragscope_forward_failures_total\{signal="traces"\} (\d+)/)) >= 2, 15_000, 'failed attempts');
    sink.failing = false;
    await waitFor(() => forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(202)).length === 5, 15_000, 'retried spans');
  });

  it('OTLP/protobuf requests are forwarded from their received bytes, the enrichment spliced in: every span, its own fields unchanged', async () => {
    const payload = buildGenAiTracePayload({ spanCount: 64, startMs: testNow() - 60_000, serviceName: 'spliced-svc' }).protobuf;
    const sent = decodeTracesProtobufjs(Buffer.from(payload));
    expect(sent.length).toBe(64);
    const encodedBefore = await metric(proc.url, /ragscope_forward_encoded_total\{signal="traces",how="reencoded"\} (\d+)/);
    const res = await fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payload });
    expect(res.status).toBe(200);
    const ours = () => forwardedSpans(sink.traces).filter((s) => s.origin.resource['service.name'] === 'spliced-svc');
    await waitFor(() => ours().length === 64, 15_000, '64 spliced spans');
    const stored = await proc.query<{ SpanId: string; Operation: string; Provider: string; Model: string; UsageCounted: number; CostSource: string; CostUSD: string; PriceId: string }>(
      `SELECT SpanId, Operation, Provider, if(ResponseModel != '', ResponseModel, RequestModel) AS Model, UsageCounted, CostSource, toString(CostUSD) AS CostUSD, PriceId FROM genai_spans WHERE ServiceName = 'spliced-svc'`,
    );
    expect(stored.length).toBeGreaterThan(0);
    const byId = new Map(stored.map((row) => [row.SpanId, row]));
    let costed = 0;
    for (const span of ours()) {
      const original = sent.find((s) => s.spanId === span.spanId)!;
      const derived = Object.fromEntries(Object.entries(span.attributes).filter(([k]) => k.startsWith('ragscope.derived.')));
      // Everything but the appended attributes is what the client sent.
      expect({ ...span, attributes: Object.fromEntries(Object.entries(span.attributes).filter(([k]) => !k.startsWith('ragscope.derived.'))) }).toEqual(original);
      const row = byId.get(span.spanId);
      if (!row) {
        expect(derived).toEqual({});
        continue;
      }
      expect(derived).toMatchObject({
        'ragscope.derived.tenant': 'default',
        'ragscope.derived.operation': row.Operation,
        'ragscope.derived.provider': row.Provider,
        'ragscope.derived.model': row.Model,
        'ragscope.derived.usage_counted': row.UsageCounted === 1,
        'ragscope.derived.cost_source': row.CostSource,
      });
      if (row.PriceId) expect(derived['ragscope.derived.price_id']).toBe(row.PriceId);
      if (derived['ragscope.derived.cost_usd'] !== undefined) {
        costed++;
        expect(derived['ragscope.derived.cost_usd'] as number).toBeCloseTo(Number(row.CostUSD), 12);
      }
    }
    expect(costed).toBeGreaterThan(0);
    expect(await metric(proc.url, /ragscope_forward_encoded_total\{signal="traces",how="spliced"\} (\d+)/)).toBe(64);
    // Not decoded and encoded again.
    expect(await metric(proc.url, /ragscope_forward_encoded_total\{signal="traces",how="reencoded"\} (\d+)/)).toBe(encodedBefore);
  });
});

describe('forwarding: what is not retried, what is not forwarded', () => {
  it('a batch the downstream rejects (HTTP 400: not retryable) is dropped and counted as rejected; the next one is forwarded', async () => {
    await restartWith({ RAGSCOPE_FORWARD_ENDPOINT: sink.httpUrl });
    sink.rejectWith = 400;
    const spans = (n: number, trace: number) => Array.from({ length: n }, (_, i) => ({ traceId: traceIdOf(trace), spanId: spanIdOf(trace * 10 + i), name: `rej-${trace}-${i}`, startMs: testNow() - 1_000 }));
    expect((await postTraces(proc.url, tracesRequest(spans(3, 401)))).status).toBe(200);
    await waitFor(async () => (await metric(proc.url, /ragscope_forward_dropped_total\{signal="traces",reason="rejected"\} (\d+)/)) === 3, 15_000, 'rejected batch dropped');
    // Sent once, not retried with backoff.
    expect(await metric(proc.url, /ragscope_forward_failures_total\{signal="traces"\} (\d+)/)).toBe(1);
    sink.rejectWith = undefined;
    expect((await postTraces(proc.url, tracesRequest(spans(2, 402)))).status).toBe(200);
    await waitFor(() => forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(402)).length === 2, 15_000, 'next batch forwarded');
    expect(forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(401))).toEqual([]);
    expect(await metric(proc.url, /ragscope_forward_queue_items (\d+)/)).toBe(0);
  });

  it('RAGSCOPE_FORWARD_SIGNALS=traces (Tempo, Jaeger): log records are stored but not forwarded, spans are', async () => {
    await restartWith({ RAGSCOPE_FORWARD_ENDPOINT: sink.httpUrl, RAGSCOPE_FORWARD_SIGNALS: 'traces' });
    const logsBefore = sink.logs.length;
    const body = JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 's' }, logRecords: [{ timeUnixNano: String(BigInt(testNow()) * 1_000_000n), body: { stringValue: 'keep me here' } }] }] }] });
    expect((await fetch(`${proc.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    const spans = [{ traceId: traceIdOf(410), spanId: spanIdOf(4100), name: 'traces-only', startMs: testNow() - 1_000 }];
    expect((await postTraces(proc.url, tracesRequest(spans))).status).toBe(200);
    await waitFor(() => forwardedSpans(sink.traces).some((s) => s.traceId === traceIdOf(410)), 15_000, 'span forwarded');
    const stored = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_logs WHERE Body = 'keep me here'");
    expect(Number(stored[0].n)).toBe(1);
    expect(sink.logs.length).toBe(logsBefore);
    expect(await metric(proc.url, /ragscope_forwarded_total\{signal="traces"\} (\d+)/)).toBe(1);
    expect(await (await fetch(`${proc.url}/metrics`)).text()).not.toMatch(/ragscope_forward\w*\{signal="logs"/);
  });
});

/** One embedded store per process: a processor with other forwarding settings replaces `proc`. */
async function restartWith(env: Record<string, string>): Promise<void> {
  await proc.stop();
  removeDir(proc.dataDir);
  proc = await startProcessor(env);
}

describe('forwarding over OTLP/gRPC', () => {
  it('forwards every stored span to a gRPC downstream, with metadata from RAGSCOPE_FORWARD_HEADERS', async () => {
    await restartWith({ RAGSCOPE_FORWARD_ENDPOINT: sink.grpcUrl, RAGSCOPE_FORWARD_PROTOCOL: 'grpc', RAGSCOPE_FORWARD_HEADERS: 'authorization=Bearer%20grpc-key' });
    const spans = Array.from({ length: 3 }, (_, i) => ({ traceId: traceIdOf(250), spanId: spanIdOf(2500 + i), name: `grpc-${i}`, startMs: testNow() - 1_000, attributes: chatAttributes(10, 1) }));
    expect((await postTraces(proc.url, tracesRequest(spans))).status).toBe(200);
    await waitFor(() => forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(250)).length === 3, 15_000, 'spans over gRPC');
    const got = forwardedSpans(sink.traces).filter((s) => s.traceId === traceIdOf(250));
    expect(got.every((s) => s.attributes['ragscope.derived.operation'] === 'chat')).toBe(true);
    expect(sink.headers.at(-1)).toEqual({ authorization: 'Bearer grpc-key' });
  });
});

describe('forwarding to a dead downstream', () => {
  it('ingestion is unaffected; the bounded queue drops the oldest requests and counts their spans (gRPC protocol)', async () => {
    const dead = await startOtlpSink();
    const deadUrl = dead.grpcUrl;
    await dead.close();
    await restartWith({ RAGSCOPE_FORWARD_ENDPOINT: deadUrl, RAGSCOPE_FORWARD_PROTOCOL: 'grpc', RAGSCOPE_FORWARD_QUEUE_SIZE: '50', RAGSCOPE_FORWARD_TIMEOUT_MS: '500' });
    for (let r = 0; r < 4; r++) {
      const spans = Array.from({ length: 40 }, (_, i) => ({ traceId: traceIdOf(300 + r), spanId: spanIdOf(3000 + r * 100 + i), name: `dead-${r}-${i}`, startMs: testNow() - 1_000 }));
      expect((await postTraces(proc.url, tracesRequest(spans))).status).toBe(200);
    }
    const stored = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName LIKE 'dead-%'");
    expect(Number(stored[0].n)).toBe(160);
    // Whole requests are dropped, oldest first (the one being retried included), until at most 50 wait.
    expect(await metric(proc.url, /ragscope_forward_dropped_total\{signal="traces",reason="queue_full"\} (\d+)/)).toBe(120);
    expect(await metric(proc.url, /ragscope_forward_queue_items (\d+)/)).toBe(40);
  });
});

describe('forwarding to a dead OTLP/HTTP downstream', () => {
  it('every request is stored and acknowledged; dropped requests are counted and never encoded', async () => {
    await restartWith({ RAGSCOPE_FORWARD_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, RAGSCOPE_FORWARD_QUEUE_SIZE: '64' });
    for (let r = 0; r < 10; r++) {
      const payload = buildGenAiTracePayload({ spanCount: 32, startMs: testNow() - 600_000 + r * 10_000, serviceName: 'dead-http' }).protobuf;
      expect((await fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payload })).status).toBe(200);
    }
    const stored = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE ServiceName = 'dead-http'");
    expect(Number(stored[0].n)).toBe(320);
    // At most 64 spans (two requests) wait; the other 256 were dropped, oldest first.
    expect(await metric(proc.url, /ragscope_forward_queue_items (\d+)/)).toBe(64);
    expect(await metric(proc.url, /ragscope_forward_dropped_total\{signal="traces",reason="queue_full"\} (\d+)/)).toBe(256);
    await waitFor(async () => (await metric(proc.url, /ragscope_forward_failures_total\{signal="traces"\} (\d+)/)) >= 1, 15_000, 'a failed attempt');
    // Encoding happens per send attempt, one batch at a time, never when a request is queued or dropped:
    // spans encoded ≤ attempts (failed ones + the one in flight) × the largest batch (the 64 queued spans).
    const encoded = await metric(proc.url, /ragscope_forward_encoded_total\{signal="traces",how="spliced"\} (\d+)/);
    const failures = await metric(proc.url, /ragscope_forward_failures_total\{signal="traces"\} (\d+)/);
    expect(encoded).toBeGreaterThan(0);
    expect(encoded).toBeLessThanOrEqual((failures + 1) * 64);
    expect(encoded % 32).toBe(0);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
