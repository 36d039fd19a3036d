// When the app registered its own tracer provider before register() (NodeSDK cannot install its own), the
// OpenAI and RAG helper spans go where every other span goes, the app's provider, made by the SDK's tracer: ragscope's
// own tracer is used only over the provider register() itself started.
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { expect, it } from 'vitest';
import { register, traceRag } from '../../instrumentation/src/index.js';
import { OwnSpan } from '../../instrumentation/src/own-tracer.js';
import { openaiUnder } from './helpers/otel.js';

process.env.OTEL_LOGS_EXPORTER = 'none';

const appExporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: appExporter })] }));
const ragscopeExporter = new InMemorySpanExporter();
const handle = register({ traceExporter: ragscopeExporter, shutdownOnExit: false, esmLoaderHook: false });
const { OpenAI, stubUrl } = openaiUnder(handle);

it("a provider registered before register(): OpenAI and RAG spans are the SDK's, in the app's provider", async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${stubUrl()}/v1`, maxRetries: 0 });
  await traceRag('answer', {}, () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  await handle.forceFlush();
  const spans = appExporter.getFinishedSpans();
  expect(spans.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'invoke_workflow answer']);
  for (const span of spans) expect(span).not.toBeInstanceOf(OwnSpan);
  expect(spans[0]!.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
  expect(spans[0]!.parentSpanContext?.spanId).toBe(spans[1]!.spanContext().spanId);
  expect(ragscopeExporter.getFinishedSpans()).toEqual([]);
});
