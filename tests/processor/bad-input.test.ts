import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';

// Bad input must get a clear OTLP error (google.rpc.Status), never a crash, never silent loss.

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_MAX_BODY_BYTES: String(1024 * 1024) });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

function makeSpans(names: string[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('bad-input');
  // At the suite's instant, which the processor takes as now: "fresh" is fresh on any day.
  for (const name of names) tracer.startSpan(name, { startTime: testNow() - 1000, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 } }).end(testNow());
  return exporter.getFinishedSpans();
}

async function post(body: Uint8Array | string, headers: Record<string, string>, path = '/v1/traces') {
  return fetch(`${proc.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : Buffer.from(body) });
}

async function stillServing() {
  const body = ProtobufTraceSerializer.serializeRequest(makeSpans(['after-bad-input']))!;
  const res = await post(body, { 'content-type': 'application/x-protobuf' });
  expect(res.status).toBe(200);
}

describe('bad OTLP input', () => {
  it('truncated protobuf → 400 with a google.rpc.Status naming the problem', async () => {
    const body = ProtobufTraceSerializer.serializeRequest(makeSpans(['a', 'b']))!;
    const res = await post(body.subarray(0, body.length - 7), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/x-protobuf');
    const status = Buffer.from(await res.arrayBuffer()).toString('latin1');
    expect(status).toMatch(/truncated|length|end of|cannot decode/i);
    await stillServing();
  });

  it('invalid JSON → 400 JSON Status', async () => {
    const res = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const status = await res.json();
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/JSON|decode/i);
    await stillServing();
  });

  it('wrongly typed JSON field → 400 naming the field', async () => {
    const res = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'x', startTimeUnixNano: 'soon' }] }] }] }), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/startTimeUnixNano/);
  });

  it('unsupported content type → 415', async () => {
    const res = await post('hello', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    await stillServing();
  });

  it('body over the limit → 413, also when the gzip is small (gzip bomb)', async () => {
    const big = await post(Buffer.alloc(2 * 1024 * 1024, 1), { 'content-type': 'application/x-protobuf' });
    expect(big.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = performance.now();
    const res = await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    // A guard against inflating all 256 MiB or hanging, not a speed measurement: generous for a loaded 2-core machine.
    expect(performance.now() - started).toBeLessThan(30_000);
    await stillServing();
  });

  it('gzip bodies within the limit are accepted', async () => {
    const body = gzipSync(ProtobufTraceSerializer.serializeRequest(makeSpans(['gzipped-span']))!);
    const res = await post(body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const rows = await proc.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName = 'gzipped-span'");
    expect(Number(rows[0].n)).toBe(1);
  });

  it('invalid ids → 200 partial success, the good spans stored', async () => {
    const request = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(makeSpans(['good-1', 'bad-id', 'good-2']))!));
    const spans = request.resourceSpans[0].scopeSpans[0].spans;
    spans[1].traceId = 'zz';
    const res = await post(JSON.stringify(request), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/bad-id.*trace_id/);
    const rows = await proc.query<{ SpanName: string }>("SELECT SpanName FROM otel_traces WHERE SpanName LIKE 'good-%' OR SpanName = 'bad-id' ORDER BY SpanName");
    expect(rows.map((r) => r.SpanName)).toEqual(['good-1', 'good-2']);
  });

  it('unknown signal path → 404, metrics are not accepted silently', async () => {
    const res = await post('x', { 'content-type': 'application/x-protobuf' }, '/v1/metrics');
    expect(res.status).toBe(404);
  });
});

describe('strings ClickHouse would refuse', () => {
  it('repairs lone UTF-16 surrogates from JSON escapes instead of failing the whole batch', async () => {
    const request = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(makeSpans(['surrogate-span', 'neighbour-span']))!));
    const span = request.resourceSpans[0].scopeSpans[0].spans[0];
    span.attributes.push({ key: 'note', value: { stringValue: 'PLACEHOLDER_VALUE' } }, { key: 'PLACEHOLDER_KEY', value: { stringValue: 'ok' } });
    const body = JSON.stringify(request)
      .replace('PLACEHOLDER_VALUE', 'bad \\ud800 and good \\ud83d\\ude00')
      .replace('PLACEHOLDER_KEY', 'key\\udfff');
    const res = await post(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const rows = await proc.query<{ SpanName: string; note: string; keys: string[] }>(
      "SELECT SpanName, SpanAttributes['note'] AS note, mapKeys(SpanAttributes) AS keys FROM otel_traces WHERE SpanName IN ('surrogate-span', 'neighbour-span') ORDER BY SpanName",
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['neighbour-span', 'surrogate-span']);
    expect(rows[1].note).toBe('bad \ufffd and good \u{1F600}');
    expect(rows[1].keys).toContain('key\ufffd');
  });
});
