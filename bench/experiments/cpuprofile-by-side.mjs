// Splits a --cpu-prof profile of an instrumentation worker by side: self time per category (OTel SDK, ragscope,
// openai, undici, GC, ...) inside the instrumented (A) blocks vs the plain (B) blocks, µs per call.
//   npx tsx bench/instrumentation.ts --only ragscope-v6-http --rounds 1 --env BENCH_BLOCK_LOG=/tmp/p/blocks \
//     --node-arg --cpu-prof --node-arg --cpu-prof-dir=/tmp/p/http --node-arg --cpu-prof-interval=100
//   node bench/experiments/cpuprofile-by-side.mjs /tmp/p/http /tmp/p [rows]
// DETAIL=<category> breaks that category down by function. BLOCK=<calls per block> if not 16.
// Profile timestamps and the block log are both CLOCK_MONOTONIC µs (process.hrtime).
import { readFileSync, readdirSync, statSync } from 'node:fs';
const [dir, logDir, topArg] = process.argv.slice(2);
const files = readdirSync(dir).map((f) => `${dir}/${f}`).sort((a, b) => statSync(b).size - statSync(a).size);
const p = JSON.parse(readFileSync(files[0], 'utf8'));
const pid = files[0].split('.').at(-4);
const log = JSON.parse(readFileSync(`${logDir}/blocks.${pid}.json`, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const cat = (n) => {
  const u = n.callFrame.url, f = n.callFrame.functionName;
  if (f === '(garbage collector)') return 'gc';
  if (f === '(program)' || f === '(idle)' || f === '(root)') return f;
  if (u.includes('@opentelemetry/sdk-trace')) return 'otel-sdk-trace';
  if (u.includes('@opentelemetry/core')) return 'otel-core';
  if (u.includes('@opentelemetry/api')) return 'otel-api';
  if (u.includes('context-async-hooks')) return 'otel-ctx-mgr';
  if (u.includes('@opentelemetry')) return 'otel-other';
  if (u.includes('instrumentation/dist')) return 'ragscope';
  if (u.includes('ragscope-tests/')) return 'openai';
  if (u.includes('undici')) return 'undici';
  if (u.includes('async_hooks') || u.includes('async_local')) return 'node-async-hooks';
  if (u.includes('instrumentation-worker')) return 'worker';
  if (u.startsWith('node:')) return 'node:' + u.split('/').slice(-1)[0];
  return u ? 'other:' + u.split('/').slice(-2).join('/') : 'native:' + f;
};
const detail = process.env.DETAIL; // a category: break it down by function
let t = p.startTime;
const acc = [new Map(), new Map()];
const n = [0, 0];
for (const [side] of log) n[side] += 1;
let bi = 0;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i];
  const d = p.timeDeltas[i + 1] ?? 0;
  while (bi < log.length && log[bi][2] < t) bi++;
  if (bi >= log.length) break;
  const [side, t0] = log[bi];
  if (t < t0) continue;
  const node = byId.get(p.samples[i]);
  let c = cat(node);
  if (detail && c === detail) c = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').slice(-1)[0]}:${node.callFrame.lineNumber}`;
  else if (detail) c = '~' + c;
  acc[side].set(c, (acc[side].get(c) ?? 0) + d);
}
const callsPerBlock = Number(process.env.BLOCK ?? 16);
const keys = new Set([...acc[0].keys(), ...acc[1].keys()]);
const rows = [...keys].map((k) => [k, (acc[1].get(k) ?? 0) / (n[1] * callsPerBlock), (acc[0].get(k) ?? 0) / (n[0] * callsPerBlock)]);
const sum = (i) => rows.reduce((s, r) => s + r[i], 0);
console.log(files[0].split('/').slice(-2).join('/'), `blocks A ${n[1]} B ${n[0]}; µs per call: A ${sum(1).toFixed(1)} B ${sum(2).toFixed(1)} A-B ${(sum(1) - sum(2)).toFixed(1)}`);
console.log('category'.padEnd(60), 'A'.padStart(8), 'B'.padStart(8), 'A-B'.padStart(8));
for (const [k, a, b] of rows.sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2])).slice(0, Number(topArg ?? 25))) console.log(k.slice(0, 60).padEnd(60), a.toFixed(2).padStart(8), b.toFixed(2).padStart(8), (a - b).toFixed(2).padStart(8));
