// Cost per forwarded span of the two ways forward/ builds an enriched export request from a received one:
// decode + encode (otlp-encode.ts) vs splicing the derived attributes into the received bytes (otlp-splice.ts).
//   npm run bench:forward-encode [-- --spans 512 --iterations 200]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildGenAiTracePayload } from './decode-payloads.js';
import { decodeTraces } from '../processor/src/receive/protobuf-decoder.js';
import { encodeTracesRequest } from '../processor/src/forward/otlp-encode.js';
import { encodeSpanExtras, spliceSpanExtras } from '../processor/src/forward/otlp-splice.js';
import { Pipeline } from '../processor/src/pipeline.js';
import { loadPriceBook } from '../processor/src/derive/index.js';
import { derivedAttributes } from '../processor/src/forward/forwarder.js';

const { values: args } = parseArgs({ options: { spans: { type: 'string' }, iterations: { type: 'string' } } });
const SPANS = Number(args.spans ?? 512);
const ITERATIONS = Number(args.iterations ?? 200);

const payload = Buffer.from(buildGenAiTracePayload({ spanCount: SPANS, startMs: Date.now() - 3_600_000 }).protobuf);
const batch = new Pipeline({ priceBook: loadPriceBook(), tenant: 'default', dedupeCacheSize: 10_000, rawTtlDays: 30 }).processSpans(decodeTraces(payload));
const derived = batch.spans!.map((d) => (d.record ? derivedAttributes(d, 'default') : undefined));

function measure(name: string, run: () => number): number {
  let bytes = 0;
  for (let i = 0; i < 20; i++) bytes += run(); // warm-up
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) bytes += run();
  const usPerSpan = ((performance.now() - started) * 1000) / (ITERATIONS * SPANS);
  console.log(`${name.padEnd(42)} ${usPerSpan.toFixed(2).padStart(6)} µs per span (${bytes > 0 ? 'ok' : 'empty'})`);
  return usPerSpan;
}

console.log(`ragscope bench:forward-encode — node ${process.version}, ${SPANS} spans per request (${payload.length} bytes), ${derived.filter(Boolean).length} GenAI spans, ${ITERATIONS} iterations`);
const reencode = measure('decode + encode', () => encodeTracesRequest(decodeTraces(payload).map((span, i) => ({ span, extra: derived[i] ?? {} }))).length);
const splice = measure('splice', () => {
  return Buffer.concat(spliceSpanExtras(payload, encodeSpanExtras(derived)).chunks).length;
});
console.log(`splice / decode + encode: ${((splice / reencode) * 100).toFixed(1)} %`);
const extrasOnly = measure('  of which: encode the derived attributes', () => encodeSpanExtras(derived)!.bytes.length);
const walkOnly = measure('  of which: walk + splice, no attributes', () => spliceSpanExtras(payload, null).bytes);
const loadAverage = loadavg().map((l) => Number(l.toFixed(2)));
console.log(`load average ${loadAverage.join(' ')} (${cpus().length} cores)`);
mkdirSync('bench/results', { recursive: true });
const usPerSpan = { decodeEncode: reencode, splice, encodeDerivedAttributes: extrasOnly, walkAndSplice: walkOnly };
writeFileSync('bench/results/forward-encode.json', JSON.stringify({ node: process.version, spans: SPANS, requestBytes: payload.length, iterations: ITERATIONS, loadAverage, usPerSpan }, null, 2) + '\n');
