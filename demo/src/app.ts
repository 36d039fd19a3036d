// The demo RAG application's entry point. Like any app, it gets its telemetry from one line at startup:
//
//   OTEL_SERVICE_NAME=ragscope-demo OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
//     node --import @ragscope/instrumentation/register demo/dist/app.js [--requests 60 --rate 15 ...]
//
// `npm run demo` (main.ts) runs it that way with the provider stubs in its own process; run alone (the docker
// compose `demo` service) it starts the stubs in-process. It never talks to the real OpenAI or Anthropic
// APIs: the clients get the stubs' URLs and placeholder keys explicitly.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { getRegistered, type TelemetryStats } from '@ragscope/instrumentation';
import { loadCorpus } from './corpus.js';
import { OptionsError, parseAppOptions, type AppOptions } from './options.js';
import { startAnthropicStub, startOpenAIStub, type Stub } from './provider-stub.js';
import { RagApp } from './rag-app.js';
import { VectorIndex } from './retriever.js';
import { simulatedAnthropic, simulatedOpenAI } from './simulated-llm.js';
import { Traffic, type TrafficStats } from './traffic.js';

/** Messages from the app to main.ts over the IPC channel. */
export type AppMessage =
  | { type: 'started'; seed: number; docs: number }
  | { type: 'progress'; stats: TrafficStats; inFlight: number }
  | { type: 'done'; stats: TrafficStats; telemetry: TelemetryStats | null };

function send(message: AppMessage): void {
  process.send?.(message);
}

function log(line: string): void {
  console.log(`[ragscope-demo] ${line}`);
}

async function main(): Promise<void> {
  let o: AppOptions;
  try {
    o = parseAppOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`ragscope-demo: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const handle = getRegistered();
  if (!handle) log('telemetry is off: start the app with `node --import @ragscope/instrumentation/register ...`');

  const stubs: Stub[] = [];
  let openaiUrl = o.openaiUrl;
  let anthropicUrl = o.anthropicUrl;
  const simulation = { seed: o.seed, latencyScale: o.latency, faultScale: o.faults };
  if (!openaiUrl) stubs.push(await startOpenAIStub(simulatedOpenAI(simulation)));
  if (!anthropicUrl) stubs.push(await startAnthropicStub(simulatedAnthropic(simulation)));
  openaiUrl ||= stubs[0]!.url;
  anthropicUrl ||= stubs[stubs.length - 1]!.url;

  // maxRetries 1: an interactive app would rather fail fast than make the user wait through long back-offs.
  const openai = new OpenAI({ apiKey: 'sk-demo-local-stub', baseURL: `${openaiUrl}/v1`, maxRetries: 1, timeout: 30_000 });
  // No retries: support-chat falls back to OpenAI instead (rag-app.ts).
  const anthropic = new Anthropic({ apiKey: 'sk-ant-demo-local-stub', baseURL: anthropicUrl, maxRetries: 0, timeout: 30_000 });

  const docs = loadCorpus();
  const app = new RagApp({ openai, anthropic, docs, index: new VectorIndex(docs), seed: o.seed, latencyScale: o.latency });
  const traffic = new Traffic(app, {
    requests: o.requests,
    rate: o.rate,
    durationSeconds: o.duration,
    concurrency: o.concurrency,
    burst: o.burst,
    seed: o.seed,
    latencyScale: o.latency,
    users: o.users,
  });

  // Graceful stop: no new requests, finish the ones in flight, flush telemetry. (With a listener of its
  // own, the instrumentation's exit hook flushes without re-raising the signal.)
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && traffic.stop());
  process.on('disconnect', () => traffic.stop());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => traffic.stop());

  send({ type: 'started', seed: o.seed, docs: docs.length });
  if (o.progress === 'lines') {
    log(`${docs.length} documents indexed; ${o.requests > 0 ? `${o.requests} requests` : 'continuous traffic'} at ${o.rate}/s (seed ${o.seed})`);
  }
  let lastSent = 0;
  let lastLine = Date.now();
  const stats = await traffic.run((s, inFlight) => {
    const now = Date.now();
    if (o.progress === 'ipc' && (now - lastSent >= 100 || inFlight === 0)) {
      lastSent = now;
      send({ type: 'progress', stats: s, inFlight });
    } else if (o.progress === 'lines' && now - lastLine >= 10_000) {
      lastLine = now;
      log(`${s.done} requests answered (${s.failed} failed, ${s.cacheHits} from cache), ${s.feedback} feedback, ${(s.done / (s.elapsedMs / 1000)).toFixed(1)} req/s`);
    }
  });

  await handle?.forceFlush();
  const telemetry = handle?.stats() ?? null;
  await handle?.shutdown();
  if (o.progress === 'lines') log(`done: ${stats.done} requests (${stats.failed} failed) in ${stats.elapsedMs} ms, telemetry ${JSON.stringify(telemetry)}`);
  send({ type: 'done', stats, telemetry: handle?.stats() ?? telemetry });
  await Promise.all(stubs.map((s) => s.close()));
  if (process.connected) process.disconnect();
}

main().catch((err) => {
  console.error('ragscope-demo: failed:', err);
  process.exit(1);
});
