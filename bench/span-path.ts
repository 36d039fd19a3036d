// npm run bench:span-path [-- --rounds 15]
//
// The span path of a traced OpenAI chat call in isolation, same process, alternating A/B rounds: the SDK's Tracer
// vs ragscope's own tracer (instrumentation/src/own-tracer.ts), over the same span processors (ragscope's, then a
// batch processor with a no-op exporter), sampler, limits, id generator and resource. Per span: startSpan with the
// request attributes under an app span, context.with, setAttributes with the result attributes, end. Two states:
// - cold: 32 MiB written between spans (outside the timed part), evicting the span code's and data's cache lines
//   as an app's wait on the network does (docs/benchmarks.md, "Why the same code costs ~2.4× more over HTTP");
// - warm: then spans back to back.
// Measures the built JavaScript (instrumentation/dist, what an app runs). Writes bench/results/span-path.json.
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { defaultResource } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const ROUNDS = flag('rounds', 15);
const dist = (file: string) => import(pathToFileURL(join(ROOT, 'instrumentation/dist', file)).href);

const { OwnTracer } = await dist('own-tracer.js');
const { RagscopeSpanProcessor } = await dist('span-processor.js');
const { PooledIdGenerator } = await dist('id-generator.js');
const { spanLimitsFromEnv } = await dist('span-settings.js');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const noExport: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
const processors: SpanProcessor[] = [new RagscopeSpanProcessor(), new BatchSpanProcessor({ exporter: noExport, maxQueueSize: 1_000_000, maxExportBatchSize: 512, scheduledDelayMillis: 1e9 })];
const settings = { processors, sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), limits: spanLimitsFromEnv(), idGenerator: new PooledIdGenerator(), resource: defaultResource() };
const provider = new TracerProvider({ spanProcessors: [...processors], sampler: settings.sampler, spanLimits: settings.limits, idGenerator: settings.idGenerator, resource: settings.resource });
const scope = { name: '@ragscope/instrumentation-openai', version: '0.1.0' };
const tracers: Record<'sdk' | 'own', Tracer> = { sdk: provider.getTracer(scope.name, scope.version), own: new OwnTracer(settings, scope) };
const parent = trace.setSpan(context.active(), provider.getTracer('app').startSpan('request'));

const thrash = new Float64Array(4 * 1024 * 1024);
let sink = 0;
const inCall = () => {
  sink++;
};

/** µs of [start, context.with, setAttributes, end] for one span. */
function oneSpan(tracer: Tracer, out: number[]): void {
  const t0 = performance.now();
  const span = tracer.startSpan(
    'chat gpt-4o-mini',
    { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'server.address': '127.0.0.1', 'server.port': 8080, 'gen_ai.request.temperature': 0 } },
    parent,
  );
  const t1 = performance.now();
  context.with(trace.setSpan(parent, span), inCall);
  const t2 = performance.now();
  span.setAttributes({ 'gen_ai.response.id': 'chatcmpl-123', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18', 'gen_ai.usage.input_tokens': 25, 'gen_ai.usage.output_tokens': 9, 'gen_ai.response.finish_reasons': ['stop'] });
  const t3 = performance.now();
  span.end();
  const t4 = performance.now();
  out[0]! += t1 - t0;
  out[1]! += t2 - t1;
  out[2]! += t3 - t2;
  out[3]! += t4 - t3;
}

function round(tracer: Tracer, cold: boolean, spans: number): number[] {
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < spans; i++) {
    if (cold) for (let j = 0; j < thrash.length; j += 8) thrash[j]! += 1;
    oneSpan(tracer, sums);
  }
  return sums.map((s) => (s * 1000) / spans);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const r2 = (x: number) => Math.round(x * 100) / 100;
const PARTS = ['startSpan', 'context.with', 'setAttributes', 'end'];
const results: Record<string, unknown> = {};
// Cold first: afterwards the JIT has optimized the span code on thousands of warm spans, which an app making a few
// calls a second may never do.
for (const state of ['cold', 'warm'] as const) {
  const spans = state === 'cold' ? 300 : 5000;
  for (let i = 0; i < 3; i++) for (const k of ['sdk', 'own'] as const) round(tracers[k], state === 'cold', spans);
  const samples: Record<'sdk' | 'own', number[][]> = { sdk: [], own: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order: ('sdk' | 'own')[] = Math.random() < 0.5 ? ['sdk', 'own'] : ['own', 'sdk'];
    for (const k of order) samples[k].push(round(tracers[k], state === 'cold', spans));
  }
  const summary = (k: 'sdk' | 'own') => ({
    totalUs: r2(median(samples[k].map((s) => s.reduce((a, b) => a + b, 0)))),
    partsUs: Object.fromEntries(PARTS.map((p, i) => [p, r2(median(samples[k].map((s) => s[i]!)))])),
  });
  const sdk = summary('sdk');
  const own = summary('own');
  const ratio = r2(sdk.totalUs / own.totalUs);
  results[state] = { sdk, own, ratio };
  console.log(`${state}: SDK tracer ${sdk.totalUs} µs per span (${PARTS.map((p) => `${p} ${sdk.partsUs[p]}`).join(', ')})`);
  console.log(`${state}: own tracer ${own.totalUs} µs per span (${PARTS.map((p) => `${p} ${own.partsUs[p]}`).join(', ')})  → ${ratio}×`);
}
if (sink < 0) console.log(sink);

const out = { benchmark: 'span-path', date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, loadAverage: os.loadavg().map(r2), rounds: ROUNDS, ...results };
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/span-path.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote bench/results/span-path.json');
