// register() makes ragscope's OpenAI spans with its own tracer (own-tracer.ts) over the provider it started:
// the span is a child of the app's SDK span, carries the very same resource object, passes through the
// app's span processors and is exported with the app's spans in one resource group (OTLP).
import { trace, type Context } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { register, traceRag, traceRetrieval } from '../../instrumentation/src/index.js';
import { OwnSpan } from '../../instrumentation/src/own-tracer.js';
import { openaiUnder } from './helpers/otel.js';

process.env.OTEL_LOGS_EXPORTER = 'none';

const started: { name: string; own: boolean; parentSeen: boolean }[] = [];
const appProcessor: SpanProcessor = {
  onStart: (span: Span, parent: Context) => void started.push({ name: span.name, own: span instanceof OwnSpan, parentSeen: trace.getSpan(parent) !== undefined }),
  onEnd: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const exporter = new InMemorySpanExporter();
const handle = register({ serviceName: 'own-tracer-register', traceExporter: exporter, spanProcessors: [appProcessor], shutdownOnExit: false, esmLoaderHook: false });
const { OpenAI, stubUrl } = openaiUnder(handle);

describe('register() and its own tracer', () => {
  it("an OpenAI call inside an app span: own span, child of the app's, same resource, through the app's processors, exported", async () => {
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('handle request', async (root) => {
      const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${stubUrl()}/v1`, maxRetries: 0 });
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      root.end();
    });
    await handle.forceFlush();
    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.find((s) => s.name === name) as ReadableSpan;
    const chat = byName('chat gpt-4o-mini');
    const root = byName('handle request');
    expect(chat).toBeInstanceOf(OwnSpan);
    expect(root).not.toBeInstanceOf(OwnSpan);
    expect(chat.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(chat.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(chat.resource).toBe(root.resource);
    expect(chat.resource.attributes['service.name']).toBe('own-tracer-register');
    expect(chat.resource.attributes['telemetry.sdk.language']).toBe('nodejs');
    expect(chat.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': expect.any(Number) });
    expect(started).toEqual([
      { name: 'handle request', own: false, parentSeen: false },
      { name: 'chat gpt-4o-mini', own: true, parentSeen: true },
    ]);
    expect(handle.stats()).toMatchObject({ spansExported: 2, spansDropped: 0 });
  });

  it('the RAG helpers too: request root and stage spans are own spans with the request context and the same resource', async () => {
    exporter.reset();
    await traceRag('answer', { userId: 'u-own' }, async () => {
      await traceRetrieval({ dataSourceId: 'kb', topK: 2 }, async (stage) => stage.setDocuments([{ id: 'd1', score: 0.9 }]));
    });
    await handle.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['invoke_workflow answer', 'retrieval kb']);
    for (const span of spans) {
      expect(span).toBeInstanceOf(OwnSpan);
      expect(span.attributes['user.id']).toBe('u-own');
      expect(span.resource.attributes['service.name']).toBe('own-tracer-register');
    }
    const [root, retrieval] = ['invoke_workflow answer', 'retrieval kb'].map((n) => spans.find((s) => s.name === n)!);
    expect(retrieval!.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    expect(retrieval!.resource).toBe(root!.resource);
  });
});
