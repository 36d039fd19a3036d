// OTLP/gRPC into the processor with the real OTel gRPC exporters: the same rows and cost as OTLP/HTTP for
// the same spans, gzip, logs, INVALID_ARGUMENT naming the field, partial success, and RESOURCE_EXHAUSTED
// with RetryInfo while the spool is full (then the same export succeeds once it drained, stored once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace, type Tracer } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { grpcLoggerProvider, grpcTraceExporter, rawExport, sequentialIds, statusDetails, tracerProviderWith } from '../helpers/otel-grpc.js';

let proc: TestProcessor;
let port: number;

beforeAll(async () => {
  proc = await startProcessor();
  port = proc.processor.grpcPort!;
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

/** One RAG request: a workflow root, a priced chat call with cache reads, an embedding, a plain span. */
function emitRequest(tracer: Tracer, marker: string): void {
  const start = testNow() - 60_000;
  const root = tracer.startSpan('rag.request', { kind: SpanKind.SERVER, startTime: start, attributes: { 'gen_ai.operation.name': 'invoke_workflow', 'ragscope.rag.stage': 'request' } });
  const ctx = trace.setSpan(context.active(), root);
  {
    tracer
      .startSpan('embeddings text-embedding-3-small', {
        startTime: start + 10,
        attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'text-embedding-3-small', 'gen_ai.usage.input_tokens': 42 },
      }, ctx)
      .end(start + 40);
    tracer
      .startSpan('chat gpt-4o', {
        kind: SpanKind.CLIENT,
        startTime: start + 100,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 300,
          'gen_ai.usage.cache_read.input_tokens': 1000,
          'user.id': `user-${marker}`,
        },
      }, ctx)
      .end(start + 1_100);
    tracer.startSpan('db.query', { startTime: start + 1_200, attributes: { 'db.system': 'postgresql' } }, ctx).end(start + 1_300);
    root.end(start + 1_500);
  }
}

interface GenAiRow {
  SpanName: string;
  Operation: string;
  Provider: string;
  InputTokens: string | null;
  CostUSD: string;
  CostSource: string;
  PriceId: string;
  UsageCounted: number;
  UserId: string;
}

const genAiRows = (userMarker: string, traceIds: string[]) =>
  proc.query<GenAiRow>(
    `SELECT SpanName, Operation, Provider, InputTokens, toString(CostUSD) AS CostUSD, CostSource, PriceId, UsageCounted, replaceOne(UserId, '${userMarker}', '') AS UserId
     FROM genai_spans WHERE TraceId IN (${traceIds.map((t) => `'${t}'`).join(',')}) ORDER BY SpanName`,
  );

async function sendWith(exporter: SpanExporter, seed: number, marker: string): Promise<void> {
  const provider = tracerProviderWith(exporter, sequentialIds(seed));
  emitRequest(provider.getTracer('grpc-test'), marker);
  await provider.forceFlush();
  await provider.shutdown();
}

describe('OTLP/gRPC receiver', () => {
  it('stores the same rows and cost over gRPC (plain and gzip) as over OTLP/HTTP for the same spans', async () => {
    await sendWith(grpcTraceExporter(port), 1, 'g');
    await sendWith(grpcTraceExporter(port, { gzip: true }), 2, 'z');
    await sendWith(new ProtoTraceExporter({ url: `${proc.url}/v1/traces` }), 3, 'h');
    // Each run is one trace under ids from its seed: find it by the chat span's user.
    const byUser = await proc.query<{ UserId: string; TraceId: string }>(`SELECT UserId, TraceId FROM genai_spans WHERE UserId IN ('user-g','user-z','user-h')`);
    expect(byUser).toHaveLength(3);
    const traceOf = (u: string) => byUser.find((r) => r.UserId === `user-${u}`)!.TraceId;
    const [grpc, gzip, http] = await Promise.all([genAiRows('-g', [traceOf('g')]), genAiRows('-z', [traceOf('z')]), genAiRows('-h', [traceOf('h')])]);
    expect(http.length).toBe(3);
    const chat = http.find((r) => r.SpanName === 'chat gpt-4o')!;
    expect(Number(chat.CostUSD)).toBeGreaterThan(0);
    expect(chat.CostSource).not.toBe('unpriced');
    expect(grpc).toEqual(http);
    expect(gzip).toEqual(http);
    const counts = await proc.query<{ n: string; t: string }>(
      `SELECT count() AS n, uniqExact(TraceId) AS t FROM otel_traces WHERE TraceId IN ('${traceOf('g')}','${traceOf('z')}','${traceOf('h')}')`,
    );
    expect([Number(counts[0].n), Number(counts[0].t)]).toEqual([12, 3]);
  });

  it('stores log records sent by the real gRPC log exporter, gzip too', async () => {
    for (const gzip of [false, true]) {
      const provider = grpcLoggerProvider(port, { gzip });
      provider.getLogger('grpc-test').emit({ body: `hello over grpc gzip=${gzip}`, severityNumber: SeverityNumber.WARN, timestamp: testNow() - 1_000, attributes: { 'app.k': 'v' } });
      await provider.forceFlush();
      await provider.shutdown();
    }
    const rows = await proc.query<{ Body: string; SeverityText: string }>(`SELECT Body, SeverityText FROM otel_logs WHERE Body LIKE 'hello over grpc%' ORDER BY Body`);
    expect(rows.map((r) => r.Body)).toEqual(['hello over grpc gzip=false', 'hello over grpc gzip=true']);
  });

  it('answers INVALID_ARGUMENT naming the field path for undecodable bytes, and stores nothing', async () => {
    const before = await proc.query<{ n: string }>('SELECT count() AS n FROM otel_traces');
    // resource_spans (field 1, length-delimited) claiming 100 bytes with 2 present.
    const answer = await rawExport(port, 'traces', Uint8Array.from([0x0a, 100, 0x0a, 0x00]));
    expect(answer.error?.code).toBe(3);
    expect(answer.error?.details).toMatch(/cannot decode request: resource_spans\[0\]/);
    expect(statusDetails(answer.error!).code).toBe(3);
    const gz = await rawExport(port, 'logs', Uint8Array.from([0x0a, 0x05, 0x0a]), { gzip: true });
    expect(gz.error?.code).toBe(3);
    expect(gz.error?.details).toMatch(/resource_logs\[0\]/);
    const after = await proc.query<{ n: string }>('SELECT count() AS n FROM otel_traces');
    expect(after).toEqual(before);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_http_requests_total\{route="grpc TraceService\/Export",status="INVALID_ARGUMENT"\} 1/);
    expect(metrics).toMatch(/ragscope_http_requests_total\{route="grpc TraceService\/Export",status="OK"\} [1-9]/);
  });

  it('answers partial success in the Export response for spans refused on their own', async () => {
    const start = BigInt(testNow() - 5_000) * 1_000_000n;
    const span = (spanId: string, name: string) => ({
      name,
      kind: 1,
      spanContext: () => ({ traceId: 'c'.repeat(32), spanId, traceFlags: 1 }),
      parentSpanContext: undefined,
      startTime: [Number(start / 1_000_000_000n), Number(start % 1_000_000_000n)],
      endTime: [Number(start / 1_000_000_000n) + 1, 0],
      status: { code: 0 },
      attributes: {},
      links: [],
      events: [],
      duration: [1, 0],
      ended: true,
      resource: { attributes: { 'service.name': 'partial' }, merge: () => null },
      instrumentationScope: { name: 'partial' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    });
    const body = ProtobufTraceSerializer.serializeRequest([span('d'.repeat(16), 'good'), span('0'.repeat(16), 'zero id')] as unknown as ReadableSpan[])!;
    const answer = await rawExport(port, 'traces', body);
    expect(answer.error).toBeNull();
    // ExportTraceServiceResponse { partial_success { rejected_spans: 1, error_message } }
    const text = answer.response!.toString('latin1');
    expect(answer.response![0]).toBe(0x0a);
    expect(text).toMatch(/invalid span_id/);
    const rows = await proc.query<{ SpanName: string }>(`SELECT SpanName FROM otel_traces WHERE TraceId = '${'c'.repeat(32)}'`);
    expect(rows).toEqual([{ SpanName: 'good' }]);
  });
});
