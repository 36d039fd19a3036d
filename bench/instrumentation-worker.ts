// One benchmark process (see bench/instrumentation.ts). Chat completions through the real `openai` SDK.
//
// The machine is shared, so load drifts faster than any per-process comparison can absorb. Every figure is
// therefore paired *within* one process, in small alternating blocks (random order within each pair):
//   ragscope | traceloop   A = a copy of the SDK installed as `openai` (patched by the instrumentation's
//                          require hook), B = the same SDK version installed as `openai-plain` (not patched).
//                          Spans are exported as in an app (OTLP/HTTP protobuf to the parent's sink), with
//                          a batch large enough that nothing is exported inside the timed blocks: the final
//                          flush exports every timed span and is timed and charged per instrumented call.
//   context                A = OpenTelemetry's AsyncLocalStorage context manager enabled, each call inside
//                          context.with(); B = the context manager disabled (AsyncLocalStorage hooks off).
//                          B is an uninstrumented app; A - B is the cost of context propagation itself on
//                          this Node version, which every OpenTelemetry instrumentation pays.
// Transport: BENCH_TRANSPORT=http (the parent's local HTTP stub of the API) or inprocess (a fetch that returns
// the same response without a socket, which takes kernel and scheduler noise out).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const [mode = 'context', instrumentedDir = '', plainDir = '', pairsArg = '120', blockArg = '16', warmupArg = '300'] = process.argv.slice(2);
const pairs = Number(pairsArg);
const block = Number(blockArg);
const warmup = Number(warmupArg);

/** The main thread's on-CPU time so far in ns (Linux); undefined where /proc has no schedstat. */
function mainThreadCpuNs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

type OpenAIModule = typeof import('openai');
type Client = InstanceType<OpenAIModule['OpenAI']>;

let flush: (() => Promise<void>) | undefined;
let exported: (() => number) | undefined;
let sideA: { enter(): void; call<T>(f: () => T): T } = { enter() {}, call: (f) => f() };
let sideB: { enter(): void } = { enter() {} };

async function setup(): Promise<void> {
  if (mode === 'ragscope' || mode === 'ragscope-before') {
    // The handle of whichever build was loaded with --import (the current one, or the previous build).
    const handle = (globalThis as Record<symbol, { forceFlush(): Promise<void>; stats(): { spansExported: number } } | undefined>)[Symbol.for('@ragscope/instrumentation.handle')];
    if (!handle) throw new Error('ragscope is not registered (run with --import <build>/register)');
    flush = () => handle.forceFlush();
    exported = () => handle.stats().spansExported;
  } else if (mode === 'traceloop') {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const { OpenAIInstrumentation } = await import('@traceloop/instrumentation-openai');
    const { trace } = await import('@opentelemetry/api');
    new NodeSDK({
      serviceName: 'bench-traceloop',
      instrumentations: [new OpenAIInstrumentation()],
      // The same batch settings as ragscope reads from OTEL_BSP_* (the parent sets them for both).
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter(),
          maxQueueSize: Number(process.env.OTEL_BSP_MAX_QUEUE_SIZE),
          maxExportBatchSize: Number(process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
          scheduledDelayMillis: Number(process.env.OTEL_BSP_SCHEDULE_DELAY),
        }),
      ],
      logRecordProcessors: [],
      metricReaders: [],
    }).start();
    flush = async () => {
      const p = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
      await p.getDelegate?.()?.forceFlush?.();
    };
  } else if (mode === 'context') {
    const { context, ROOT_CONTEXT, createContextKey } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const manager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(manager);
    const ctx = ROOT_CONTEXT.setValue(createContextKey('bench'), 1);
    sideA = { enter: () => manager.enable(), call: (f) => context.with(ctx, f) };
    sideB = { enter: () => manager.disable() };
  } else if (mode === 'copies') {
    // Control: no instrumentation, no context manager. A = the `openai` copy, B = the `openai-plain` copy.
  } else if (mode === 'als') {
    // Control: AsyncLocalStorage context manager enabled on both sides; A runs each call inside
    // context.with(ctx) (BENCH_ALS_CTX=span: a context holding a span, value: a plain key, root: ROOT_CONTEXT),
    // B under no context.with at all. Both on the `openai-plain` copy unless BENCH_A_SDK=copy.
    const { context, ROOT_CONTEXT, createContextKey, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const manager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(manager);
    manager.enable();
    const kind = process.env.BENCH_ALS_CTX ?? 'span';
    const ctx =
      kind === 'span'
        ? trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }))
        : kind === 'value'
          ? ROOT_CONTEXT.setValue(createContextKey('bench'), 1)
          : ROOT_CONTEXT;
    sideA = { enter() {}, call: (f) => context.with(ctx, f) };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

function makeClient(mod: OpenAIModule): Client {
  const body = process.env.STUB_BODY ?? '{}';
  const respond = () => new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req_bench' } });
  // Experiment transports (in-process, no socket): BENCH_WAIT=immediate answers after one turn of the event
  // loop (no sleep), idle waits for a 1 ms timer (the process sleeps,
  // as while an HTTP answer is on its way), spin busy-waits BENCH_WAIT_US µs, thrash writes over an 8 MiB buffer
  // (evicts the caches as other processes would).
  const wait = process.env.BENCH_WAIT;
  const waitUs = Number(process.env.BENCH_WAIT_US ?? 500);
  const scratch = wait === 'thrash' ? new Uint8Array(8 << 20) : undefined;
  const fakeFetch =
    wait === 'immediate'
      ? () => new Promise<Response>((r) => setImmediate(() => r(respond())))
      : wait === 'idle'
      ? () => new Promise<Response>((r) => setTimeout(() => r(respond()), 1))
      : wait === 'spin'
        ? async () => {
            const end = performance.now() + waitUs / 1000;
            while (performance.now() < end);
            return respond();
          }
        : wait === 'thrash'
          ? async () => {
              for (let i = 0; i < scratch!.length; i += 64) scratch![i]++;
              return respond();
            }
          : async () => respond();
  return process.env.BENCH_TRANSPORT === 'inprocess'
    ? new mod.OpenAI({ apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0, fetch: fakeFetch as unknown as typeof fetch })
    : new mod.OpenAI({ apiKey: 'sk-bench', baseURL: `${process.env.STUB_URL}/v1`, maxRetries: 0 });
}

const isWrapped = (mod: OpenAIModule) => Boolean((mod.OpenAI.Chat.Completions.prototype.create as unknown as { __wrapped?: boolean }).__wrapped);

async function main(): Promise<void> {
  await setup();
  const modA = createRequire(`${instrumentedDir}/index.js`)('openai') as OpenAIModule;
  const modB = createRequire(`${plainDir}/index.js`)('openai-plain') as OpenAIModule;
  const instrumented = mode !== 'context' && mode !== 'copies' && mode !== 'als';
  if (isWrapped(modA) !== instrumented || isWrapped(modB)) throw new Error(`mode ${mode}: wrapped A=${isWrapped(modA)} B=${isWrapped(modB)}`);
  const useCopy = instrumented || mode === 'copies' || (mode === 'als' && process.env.BENCH_A_SDK === 'copy');
  const clientA = makeClient(useCopy ? modA : modB);
  const clientB = makeClient(modB);
  const request = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'What is the capital of France?' },
    ],
    temperature: 0,
  };
  const callA = () => sideA.call(() => clientA.chat.completions.create(request));
  const callB = () => clientB.chat.completions.create(request);

  // BENCH_WARM_EXPORTS=n (default 1): the warm-up is split in n parts, each ended by an export, so the timed
  // flush is the process's (n+1)-th export. With 1 it is the second, when V8 has not finished optimizing the
  // exporter (per span: 32-46 µs in the first export, 8-23 in the second, 2-11 later): the cost a fresh process
  // pays. A long-running app exports every few seconds, i.e. with a warm exporter. Same for every contender.
  const warmExports = Math.max(1, Number(process.env.BENCH_WARM_EXPORTS ?? 1));
  for (let e = 0; e < warmExports; e++) {
    const calls = Math.floor(warmup / warmExports) + (e < warmup % warmExports ? 1 : 0);
    sideA.enter();
    for (let i = 0; i < calls; i++) await callA();
    sideB.enter();
    for (let i = 0; i < calls; i++) await callB();
    if (flush) await flush();
  }

  const blockLog: [number, number, number][] | undefined = process.env.BENCH_BLOCK_LOG ? [] : undefined;
  // BENCH_GC_LOG=<path>: garbage-collection pauses (PerformanceObserver 'gc') summed by the side of the block
  // they fell in, written to <path>.<pid>.json (ms per side, counts by kind).
  const gcWindows: [number, number, number][] = [];
  const gcEntries: { start: number; duration: number; kind: number }[] = [];
  const gcObserver = process.env.BENCH_GC_LOG ? new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, duration: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  }) : undefined;
  gcObserver?.observe({ entryTypes: ['gc'] });
  const runBlock = async (a: boolean) => {
    if (a) sideA.enter();
    else sideB.enter();
    const call = a ? callA : callB;
    const h0 = blockLog ? process.hrtime.bigint() : 0n;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < block; i++) await call();
    const wall = performance.now() - t0;
    if (gcObserver) gcWindows.push([a ? 1 : 0, t0, t0 + wall]);
    // Block windows on the monotonic clock of --cpu-prof's timestamps (µs), to split a profile by side.
    if (blockLog) blockLog.push([a ? 1 : 0, Number(h0 / 1000n), Number(process.hrtime.bigint() / 1000n)]);
    const c = process.cpuUsage(c0);
    return { wallUs: (wall * 1000) / block, cpuUs: (c.user + c.system) / block };
  };
  const diffs: { wallUs: number; cpuUs: number }[] = [];
  const a: { wallUs: number; cpuUs: number }[] = [];
  const b: { wallUs: number; cpuUs: number }[] = [];
  const yieldToLoop = () => new Promise((r) => setImmediate(r));
  for (let p = 0; p < pairs; p++) {
    // Let background I/O (span export) run between blocks, outside the timed windows; with the in-process
    // transport nothing else would ever yield to the event loop.
    await yieldToLoop();
    const aFirst = Math.random() < 0.5;
    const first = await runBlock(aFirst);
    await yieldToLoop();
    const second = await runBlock(!aFirst);
    const [ra, rb] = aFirst ? [first, second] : [second, first];
    a.push(ra);
    b.push(rb);
    diffs.push({ wallUs: ra.wallUs - rb.wallUs, cpuUs: ra.cpuUs - rb.cpuUs });
  }
  // Export of everything the instrumented side produced, charged per instrumented call.
  let flushWallUs = 0;
  let flushCpuUs = 0;
  // Of that CPU, the main thread's (on-CPU ns from /proc/thread-self/schedstat): the rest is the process's other
  // threads in the same window (garbage collection helpers, the compiler finishing what the timed blocks made hot).
  let flushMainCpuUs: number | undefined;
  if (flush) {
    const m0 = mainThreadCpuNs();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await flush();
    flushWallUs = ((performance.now() - t0) * 1000) / (pairs * block);
    const c = process.cpuUsage(c0);
    flushCpuUs = (c.user + c.system) / (pairs * block);
    const m1 = mainThreadCpuNs();
    if (m0 !== undefined && m1 !== undefined) flushMainCpuUs = (m1 - m0) / 1000 / (pairs * block);
  }
  const spansExported = exported?.();
  if (spansExported !== undefined && !process.env.RAGSCOPE_BENCH_VARIANT && spansExported < warmup + pairs * block) throw new Error(`only ${spansExported} of ${warmup + pairs * block} spans exported`);
  if (gcObserver) {
    await new Promise((r) => setTimeout(r, 50));
    const sum = { a: { ms: 0, n: 0, kinds: {} as Record<number, number> }, b: { ms: 0, n: 0, kinds: {} as Record<number, number> }, outside: { ms: 0, n: 0 } };
    for (const e of gcEntries) {
      const w = gcWindows.find(([, s0, s1]) => e.start >= s0 && e.start < s1);
      if (!w) {
        sum.outside.ms += e.duration;
        sum.outside.n++;
        continue;
      }
      const side = w[0] ? sum.a : sum.b;
      side.ms += e.duration;
      side.n++;
      side.kinds[e.kind] = (side.kinds[e.kind] ?? 0) + 1;
    }
    const calls = pairs * block;
    writeFileSync(`${process.env.BENCH_GC_LOG}.${process.pid}.json`, JSON.stringify({ mode, transport: process.env.BENCH_TRANSPORT, variant: process.env.RAGSCOPE_BENCH_VARIANT ?? process.env.BENCH_WAIT ?? '', gcUsPerCallA: (sum.a.ms * 1000) / calls, gcUsPerCallB: (sum.b.ms * 1000) / calls, ...sum }));
  }
  if (blockLog) writeFileSync(`${process.env.BENCH_BLOCK_LOG}.${process.pid}.json`, JSON.stringify(blockLog));
  console.log(JSON.stringify({ mode, pairs, block, a, b, diffs, flushWallUs, flushCpuUs, flushMainCpuUs, spansExported }));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
