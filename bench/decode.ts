import { buildGenAiTracePayload } from './decode-payloads.js';
import { decodeTraces } from '../processor/src/receive/protobuf-decoder.js';
import { decodeTracesJson } from '../processor/src/receive/json-decoder.js';
import { decodeTracesProtobufjs, loadOtlpSchema } from '../tests/helpers/otlp-protobufjs/decoder.js';

// Decode cost per span: hand-written protobuf decoder vs protobufjs (+ mapping to DecodedSpan) vs JSON.
// Run: npx tsx bench/decode.ts [spansPerRequest] [rounds]

export interface DecodeBenchResult {
  name: string;
  /** Median over rounds, microseconds per span. */
  microsPerSpan: number;
  /** Decoded spans per second at that median. */
  spansPerSecond: number;
}

export function runDecodeBench(spansPerRequest = 512, rounds = 15): DecodeBenchResult[] {
  const payload = buildGenAiTracePayload({ spanCount: spansPerRequest });
  const requestType = loadOtlpSchema().lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const cases: [string, () => unknown][] = [
    ['hand-written protobuf', () => decodeTraces(payload.protobuf)],
    ['protobufjs + mapping', () => decodeTracesProtobufjs(payload.protobuf)],
    ['protobufjs decode only', () => requestType.decode(payload.protobuf)],
    ['json', () => decodeTracesJson(payload.json)],
  ];
  const perRound = Math.max(1, Math.round(20_000 / payload.spanCount));
  for (const [, run] of cases) for (let i = 0; i < perRound * 3; i++) run(); // warm up the JIT
  // Rounds interleave the cases so load from other processes skews them alike; the median is reported.
  const samples: number[][] = cases.map(() => []);
  for (let round = 0; round < rounds; round++) {
    cases.forEach(([, run], c) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) run();
      samples[c].push(Number(process.hrtime.bigint() - started) / 1_000 / (perRound * payload.spanCount));
    });
  }
  const results = cases.map(([name], c): DecodeBenchResult => {
    const sorted = samples[c].sort((a, b) => a - b);
    const microsPerSpan = sorted[Math.floor(sorted.length / 2)];
    return { name, microsPerSpan, spansPerSecond: Math.round(1e6 / microsPerSpan) };
  });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spans = Number(process.argv[2] ?? 512);
  const rounds = Number(process.argv[3] ?? 15);
  const payload = buildGenAiTracePayload({ spanCount: spans });
  console.log(`${spans} spans/request; protobuf ${payload.protobuf.length} B, json ${payload.json.length} B; node ${process.version}`);
  for (const r of runDecodeBench(spans, rounds)) {
    console.log(`${r.name.padEnd(24)} ${r.microsPerSpan.toFixed(2).padStart(7)} µs/span  ${r.spansPerSecond.toLocaleString('en-US').padStart(10)} spans/s`);
  }
}
