// npm run bench:span-export [-- --spans 4096 --rounds 15]
//
// The two instrumentation levers measured in isolation, same process, alternating A/B rounds:
// - OTLP/protobuf serialization of a batch of spans shaped like ragscope's chat spans (11 attributes, one
//   resource, one scope; made by the real SDK): OpenTelemetry's ProtobufTraceSerializer vs ragscope's
//   OtlpSpanSerializer (instrumentation/src/otlp-span-serializer.ts);
// - trace + span id generation: the SDK's RandomIdGenerator vs ragscope's PooledIdGenerator.
// Reports the median µs per span / per id pair over rounds; writes bench/results/span-export.json.
import { SpanKind, context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, RandomIdGenerator, SimpleSpanProcessor, TracerProvider, type IdGenerator, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PooledIdGenerator } from '../instrumentation/src/id-generator.js';
import { OtlpSpanSerializer } from '../instrumentation/src/otlp-span-serializer.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const SPANS = flag('spans', 4096);
const ROUNDS = flag('rounds', 15);

function chatSpans(n: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '3.1.1', 'host.name': os.hostname(), 'process.pid': process.pid }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@ragscope/instrumentation-openai', '0.1.0');
  for (let i = 0; i < n; i++) {
    const parent = tracer.startSpan('invoke_workflow answer');
    const span = tracer.startSpan(
      'chat gpt-4o-mini',
      { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'server.address': '127.0.0.1', 'server.port': 9, 'gen_ai.request.temperature': 0 } },
      trace.setSpan(context.active(), parent),
    );
    span.setAttributes({ 'gen_ai.response.id': `chatcmpl-bench-${i}`, 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18', 'gen_ai.usage.input_tokens': 24, 'gen_ai.usage.output_tokens': 2, 'gen_ai.response.finish_reasons': ['stop'] });
    span.end();
  }
  return exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat'));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

function timeIt(f: () => void, per: number): number {
  const t0 = performance.now();
  f();
  return ((performance.now() - t0) * 1000) / per;
}

function main(): void {
  const spans = chatSpans(SPANS);
  const ours = new OtlpSpanSerializer();
  const official = { serialize: (s: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(s)! };
  const officialBytes = official.serialize(spans).length;
  if (Buffer.compare(Buffer.from(ours.serialize(spans)), Buffer.from(official.serialize(spans))) !== 0) throw new Error('serializers disagree');
  const ser = { official: [] as number[], ragscope: [] as number[] };
  const ids = { sdk: [] as number[], ragscope: [] as number[] };
  const sdkIds: IdGenerator = new RandomIdGenerator();
  const ourIds: IdGenerator = new PooledIdGenerator();
  const idRun = (g: IdGenerator) => () => {
    let sink = 0;
    for (let i = 0; i < 50_000; i++) sink += g.generateTraceId().length + g.generateSpanId().length;
    if (sink === 0) throw new Error('unreachable');
  };
  // Warm-up (JIT) of both sides, then alternating rounds in random order.
  for (let i = 0; i < 3; i++) {
    official.serialize(spans);
    ours.serialize(spans);
    idRun(sdkIds)();
    idRun(ourIds)();
  }
  for (let r = 0; r < ROUNDS; r++) {
    const pairs: [() => void, number[]][] = [
      [() => official.serialize(spans), ser.official],
      // As the exporter uses it: the message's memory is released once the export is answered.
      [() => ours.release(ours.serialize(spans)), ser.ragscope],
    ];
    if (Math.random() < 0.5) pairs.reverse();
    for (const [f, out] of pairs) out.push(timeIt(f, spans.length));
    const idPairs: [() => void, number[]][] = [
      [idRun(sdkIds), ids.sdk],
      [idRun(ourIds), ids.ragscope],
    ];
    if (Math.random() < 0.5) idPairs.reverse();
    for (const [f, out] of idPairs) out.push(timeIt(f, 50_000));
  }
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
    spansPerBatch: spans.length,
    bytesPerSpan: round2(officialBytes / spans.length),
    rounds: ROUNDS,
    serializeUsPerSpan: { official: round2(median(ser.official)), ragscope: round2(median(ser.ragscope)) },
    idPairUs: { sdkRandomIdGenerator: round2(median(ids.sdk)), ragscopePooled: round2(median(ids.ragscope)) },
  };
  console.log(
    `serialize ${spans.length} chat spans (${result.bytesPerSpan} B each): official ${result.serializeUsPerSpan.official} µs/span, ragscope ${result.serializeUsPerSpan.ragscope} µs/span ` +
      `(${round2(result.serializeUsPerSpan.official / result.serializeUsPerSpan.ragscope)}x)\n` +
      `trace+span id: SDK RandomIdGenerator ${result.idPairUs.sdkRandomIdGenerator} µs, ragscope pooled ${result.idPairUs.ragscopePooled} µs ` +
      `(${round2(result.idPairUs.sdkRandomIdGenerator / result.idPairUs.ragscopePooled)}x); load average ${result.loadAverage.join(' / ')}`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/span-export.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main();
