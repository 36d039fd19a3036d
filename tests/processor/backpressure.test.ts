import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';

// Queue of 30 rows, flushed only after 1.5 s: a second request while the first waits must be refused
// with a retryable status and Retry-After, and nothing accepted may be lost.

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_QUEUE_MAX_ROWS: '30', RAGSCOPE_BATCH_MAX_DELAY_MS: '1500', RAGSCOPE_BATCH_MAX_ROWS: '1000', RAGSCOPE_RETRY_AFTER_SECONDS: '3' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

function payload(prefix: string, count: number): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('backpressure');
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}-${i}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai' } }).end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

const post = (body: Uint8Array) => fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });

describe('write queue backpressure', () => {
  it('answers 503 + Retry-After when full, then accepts again once flushed', async () => {
    const first = post(payload('first', 10)); // 10 trace rows + 10 genai rows = 20 queued
    await new Promise((r) => setTimeout(r, 200));
    const second = await post(payload('second', 10));
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('3');
    expect((await first).status).toBe(200);

    const retry = await post(payload('second', 10));
    expect(retry.status).toBe(200);
    const rows = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName LIKE 'first-%' OR SpanName LIKE 'second-%'");
    expect(Number(rows[0].n)).toBe(20);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_spans_rejected_total\{reason="queue_full"\} 1/);
  });

  it('answers 413 for one request larger than the whole queue', async () => {
    const res = await post(payload('huge', 40));
    expect(res.status).toBe(413);
  });
});
