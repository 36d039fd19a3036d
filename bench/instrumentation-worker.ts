// One benchmark process: sequential chat completions through the real `openai` SDK against the local stub.
//   baseline   no OpenTelemetry at all
//   context    only OpenTelemetry's AsyncLocalStorage context manager, each call run inside context.with():
//              the cost of context propagation itself on this Node version, which every OTel instrumentation pays
//   ragscope   started by `--import @ragscope/instrumentation/register` (the parent adds the flag)
//   traceloop  NodeSDK + @traceloop/instrumentation-openai (OpenLLMetry, its defaults)
// Both instrumented modes export every span over OTLP/HTTP protobuf to the parent's sink.
//
// Paired design: the calls run in segments that alternate (in random order within each pair) between the
// instrumentation enabled and disabled (`disable()` unpatches the SDK), so load on a shared machine hits
// both sides of a pair alike. An enabled segment ends with a forceFlush inside its timing window, so the
// cost of exporting its spans is charged to it. Prints one JSON line with per-segment figures.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

let wrapCall: (<T>(f: () => T) => T) | undefined;
const [mode = 'baseline', openaiDir = '', segmentsArg = '40', perSegmentArg = '250', warmupArg = '300'] = process.argv.slice(2);
const segments = Number(segmentsArg);
const perSegment = Number(perSegmentArg);
const warmup = Number(warmupArg);

interface Toggle {
  enable(): void;
  disable(): void;
  flush(): Promise<void>;
}

async function setup(): Promise<Toggle | undefined> {
  if (mode === 'ragscope') {
    const { getRegistered } = await import('@ragscope/instrumentation');
    const handle = getRegistered();
    if (!handle) throw new Error('ragscope is not registered (run with --import @ragscope/instrumentation/register)');
    return {
      enable: () => handle.instrumentations.forEach((i) => i.enable()),
      disable: () => handle.instrumentations.forEach((i) => i.disable()),
      flush: () => handle.forceFlush(),
    };
  }
  if (mode === 'traceloop') {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const { OpenAIInstrumentation } = await import('@traceloop/instrumentation-openai');
    const { trace } = await import('@opentelemetry/api');
    const instrumentation = new OpenAIInstrumentation();
    const sdk = new NodeSDK({
      serviceName: 'bench-traceloop',
      instrumentations: [instrumentation],
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
      logRecordProcessors: [],
      metricReaders: [],
    });
    sdk.start();
    return {
      enable: () => instrumentation.enable(),
      disable: () => instrumentation.disable(),
      flush: async () => {
        const p = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
        await p.getDelegate?.()?.forceFlush?.();
      },
    };
  }
  if (mode === 'context') {
    const { context, ROOT_CONTEXT, createContextKey } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const ctx = ROOT_CONTEXT.setValue(createContextKey('bench'), 1);
    wrapCall = (f) => context.with(ctx, f);
  }
  return undefined;
}

async function main(): Promise<void> {
  const toggle = await setup();
  // A CommonJS require of a package directory named `openai`, as in an app: both instrumentations hook it.
  const require = createRequire(`${openaiDir}/index.js`);
  const { OpenAI } = require('openai') as typeof import('openai');
  const isWrapped = () => Boolean((OpenAI.Chat.Completions.prototype.create as unknown as { __wrapped?: boolean }).__wrapped);
  if (isWrapped() !== (toggle !== undefined)) throw new Error(`mode ${mode}: create() wrapped=${isWrapped()}`);
  // transport "http": the local HTTP stub (the parent's); "inprocess": a fetch that returns the same canned
  // response without a socket, which takes kernel and scheduler noise out and leaves the SDK's own work.
  const body = process.env.STUB_BODY ?? '{}';
  const fakeFetch = async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req_bench' } });
  const client =
    process.env.BENCH_TRANSPORT === 'inprocess'
      ? new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0, fetch: fakeFetch as unknown as typeof fetch })
      : new OpenAI({ apiKey: 'sk-bench', baseURL: `${process.env.STUB_URL}/v1`, maxRetries: 0 });
  const request = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'What is the capital of France?' },
    ],
    temperature: 0,
  };

  const call = wrapCall ? () => wrapCall!(() => client.chat.completions.create(request)) : () => client.chat.completions.create(request);
  for (let i = 0; i < warmup; i++) await call();
  if (toggle) {
    toggle.disable();
    for (let i = 0; i < warmup; i++) await call();
    toggle.enable();
  }

  const rows: { on: boolean; wallUs: number; cpuUs: number }[] = [];
  for (let s = 0; s < segments; s++) {
    // Within each pair, a random order.
    const firstOn = s % 2 === 0 ? Math.random() < 0.5 : !rows[rows.length - 1]!.on;
    const on = toggle ? firstOn : false;
    if (toggle) {
      if (on) toggle.enable();
      else toggle.disable();
      if (isWrapped() !== on) throw new Error('toggle failed');
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < perSegment; i++) await call();
    if (on && toggle) await toggle.flush();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    rows.push({ on, wallUs: (wall * 1000) / perSegment, cpuUs: (cpu.user + cpu.system) / perSegment });
  }
  console.log(JSON.stringify({ mode, segments, perSegment, rows }));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
