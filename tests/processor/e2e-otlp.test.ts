import { testNow } from '../helpers/clock.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { tracerProviderFor, type Protocol } from '../helpers/otel.js';

// Real SDK → real OTLP exporters (protobuf and JSON) → processor on an ephemeral port → embedded ClickHouse.

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor();
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

async function sendRagRequest(protocol: Protocol, marker: string): Promise<{ traceId: string }> {
  const provider = tracerProviderFor(proc.url, protocol);
  const tracer = provider.getTracer('e2e-test', '1.2.3');
  const start = testNow() - 5_000;
  const root = tracer.startSpan('rag.request', {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: { 'gen_ai.operation.name': 'invoke_workflow', 'ragscope.rag.stage': 'request', 'user.id': `user-${marker}`, 'http.route': '/ask' },
  });
  const ctx = trace.setSpan(context.active(), root);
  const chat = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: start + 100,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': `chatcmpl-${marker}`,
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read.input_tokens': 1000,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.request.temperature': 0.2,
        'user.id': `user-${marker}`,
      },
    },
    ctx,
  );
  chat.addEvent('gen_ai.choice', { index: 0 }, start + 900);
  chat.end(start + 1_100);
  const plain = tracer.startSpan('db.query', { startTime: start + 1_200, attributes: { 'db.system': 'postgresql' } }, ctx);
  plain.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
  plain.end(start + 1_300);
  root.end(start + 1_500);
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: root.spanContext().traceId };
}

describe.each(['protobuf', 'json'] as const)('OTLP/HTTP %s export from the real SDK', (protocol) => {
  it('stores every span in otel_traces and GenAI spans in genai_spans with derived cost', async () => {
    const { traceId } = await sendRagRequest(protocol, protocol);

    const traces = await proc.query<{ SpanName: string; SpanKind: string; StatusCode: string; ServiceName: string; ScopeName: string; ScopeVersion: string; Duration: string; model: string; env: string; events: string[] }>(
      `SELECT SpanName, SpanKind, StatusCode, ServiceName, ScopeName, ScopeVersion, toString(Duration) AS Duration,
              SpanAttributes['gen_ai.request.model'] AS model, ResourceAttributes['deployment.environment.name'] AS env,
              Events.Name AS events
       FROM otel_traces WHERE TraceId = '${traceId}' ORDER BY Timestamp`,
    );
    expect(traces.map((t) => t.SpanName)).toEqual(['rag.request', 'chat gpt-4o', 'db.query']);
    expect(traces[0]).toMatchObject({ SpanKind: 'Server', ServiceName: 'test-app', ScopeName: 'e2e-test', ScopeVersion: '1.2.3', env: 'test' });
    expect(traces[1]).toMatchObject({ SpanKind: 'Client', model: 'gpt-4o', Duration: '1000000000', events: ['gen_ai.choice'] });
    expect(traces[2].StatusCode).toBe('Error');

    const genai = await proc.query<Record<string, unknown>>(
      `SELECT Operation, RagStage, Provider, RequestModel, ResponseModel, InputTokens, OutputTokens, CacheReadTokens,
              CacheWriteTokens, ReasoningTokens, UsageCounted, toString(CostUSD) AS cost, CostSource, PriceId, DurationMs,
              FinishReasons, UserId, ResponseId, ServiceName, Environment, TenantId
       FROM genai_spans WHERE TraceId = '${traceId}' ORDER BY Timestamp`,
    );
    expect(genai.map((g) => g.Operation)).toEqual(['workflow', 'chat']);
    const chat = genai[1];
    expect(chat).toMatchObject({
      RagStage: 'generation',
      Provider: 'openai',
      RequestModel: 'gpt-4o',
      ResponseModel: 'gpt-4o-2024-08-06',
      InputTokens: 1200,
      OutputTokens: 300,
      CacheReadTokens: 1000,
      CacheWriteTokens: null,
      ReasoningTokens: null,
      UsageCounted: 1,
      CostSource: 'computed',
      DurationMs: 1000,
      FinishReasons: ['stop'],
      UserId: `user-${protocol}`,
      ResponseId: `chatcmpl-${protocol}`,
      ServiceName: 'test-app',
      Environment: 'test',
      TenantId: 'default',
    });
    // gpt-4o: 200 uncached input × $2.50/M + 1000 cached × $1.25/M + 300 output × $10/M
    expect(Number(chat.cost)).toBeCloseTo((200 * 2.5 + 1000 * 1.25 + 300 * 10) / 1e6, 12);
    expect(chat.PriceId).not.toBe('');

    const ids = await proc.query<{ TraceId: string }>(`SELECT TraceId FROM otel_traces_trace_id_ts WHERE TraceId = '${traceId}'`);
    expect(ids.length).toBeGreaterThan(0);
  });
});

describe('processor telemetry', () => {
  it('counts received and stored spans on /metrics', async () => {
    await proc.processor.queue.flushed();
    const text = await (await fetch(`${proc.url}/metrics`)).text();
    const received = Number(/^ragscope_spans_received_total (\d+)/m.exec(text)?.[1]);
    const stored = Number(/^ragscope_spans_stored_total (\d+)/m.exec(text)?.[1]);
    expect(received).toBeGreaterThanOrEqual(6);
    expect(stored).toBe(received);
    expect(text).toMatch(/ragscope_insert_duration_seconds_count\{table="genai_spans"\} \d+/);
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', store: 'embedded' });
  });
});
