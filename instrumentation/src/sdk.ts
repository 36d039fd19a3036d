// register(): one call that starts an OpenTelemetry NodeSDK wired for LLM/RAG apps.

import { diag, trace, TraceFlags, type Attributes, type TracerProvider, logs } from '@opentelemetry/api';
import { ExportResultCode, getBooleanFromEnv, type ExportResult } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { BatchLogRecordProcessor, SimpleLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider as SdkTracerProvider, type ReadableSpan, type Sampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { createRequire, register as registerLoaderHook } from 'node:module';
import { pathToFileURL } from 'node:url';
import { appDirectory, checkApiCopies, type ForeignApiCopy } from './api-copies.js';
import { configure, type ContentOptions } from './config.js';
import { selectLogExporters, selectSpanExporters, type OtlpProtocol, type Selected } from './exporters.js';
import { RagscopeLogRecordProcessor } from './feedback.js';
import { OPENAI_SCOPE, RagscopeOpenAIInstrumentation } from './openai.js';
import { OwnTracer } from './own-tracer.js';
import { providerResource, samplerFromEnv, spanLimitsFromEnv } from './span-settings.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';
import { useOwnRagTracer } from './span-run.js';
import { AnthropicInstrumentation } from './anthropic.js';
import { RagscopeSpanProcessor } from './span-processor.js';
import { PooledIdGenerator } from './id-generator.js';

export interface RegisterOptions extends ContentOptions {
  /** `service.name`. Default: `OTEL_SERVICE_NAME`, else the SDK default. */
  serviceName?: string;
  /**
   * OTLP base URL (OTLP/HTTP: `/v1/traces` and `/v1/logs` are appended; gRPC: used as is). Default: the
   * `OTEL_EXPORTER_OTLP_*` endpoint variables, else http://localhost:4318 (gRPC: localhost:4317).
   */
  endpoint?: string;
  /** Extra OTLP headers (merged with `OTEL_EXPORTER_OTLP_HEADERS`; gRPC metadata). */
  headers?: Record<string, string>;
  /** Default: `OTEL_EXPORTER_OTLP_(TRACES|LOGS_)PROTOCOL`, else `http/protobuf`. */
  protocol?: OtlpProtocol;
  /** Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES` is read too). */
  resourceAttributes?: Attributes;
  /** Default: `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, else parent-based always-on. */
  sampler?: Sampler;
  /** Trace the `openai` SDK (default true). */
  openai?: boolean;
  /** Normalize the `@anthropic-ai/sdk` spans (default true). */
  anthropic?: boolean;
  /** More instrumentations to register with the SDK (e.g. HTTP). */
  instrumentations?: Instrumentation[];
  /** Replace the span exporter(s) `OTEL_TRACES_EXPORTER` selects (tests, benchmarks, other backends). */
  traceExporter?: SpanExporter;
  /** Replace the log exporter(s) `OTEL_LOGS_EXPORTER` selects. */
  logExporter?: LogRecordExporter;
  /** More span processors, after ragscope's. */
  spanProcessors?: SpanProcessor[];
  /**
   * Flush on natural exit (`beforeExit`) and on SIGTERM/SIGINT (default true). On a signal, ragscope
   * flushes (at most `shutdownTimeoutMillis`) and then, if no other listener handles the signal,
   * re-raises it so the process exits as it would have.
   */
  shutdownOnExit?: boolean;
  /** Upper bound of shutdown()/flush on exit (default 5000 ms): a dead endpoint never holds the app. */
  shutdownTimeoutMillis?: number;
  /** Register the import-in-the-middle ESM loader hook for `openai` (default true). */
  esmLoaderHook?: boolean;
  /** Metrics: OFF unless `OTEL_METRICS_EXPORTER` is set (the GenAI metrics duplicate what spans carry). */
}

/** Counters of what the pipeline exported and dropped. */
export interface TelemetryStats {
  spansExported: number;
  /** Spans lost: queue full (bounded at OTEL_BSP_MAX_QUEUE_SIZE, default 2048) or failed export. */
  spansDropped: number;
  logsExported: number;
  logsDropped: number;
  /** Failed export calls (each may carry many spans or logs). */
  exportFailures: number;
  /**
   * Other copies of `@opentelemetry/api` (resolved by the app or by a self-tracing SDK) that could not see
   * ragscope's tracer provider at registration; ragscope bridged them (`bridged`) so their spans are
   * still traced. Empty when the app has one api copy. See docs/instrumentation.md.
   */
  foreignApiCopies: ForeignApiCopy[];
}

export interface RagscopeHandle {
  /** Flushes and stops the SDK. Never rejects; gives up after shutdownTimeoutMillis. */
  shutdown(): Promise<void>;
  /** Exports what is queued. Never rejects. */
  forceFlush(): Promise<void>;
  stats(): TelemetryStats;
  /** Settles when registration has finished its asynchronous part (bridging ES-module api copies). Never rejects. */
  readonly ready: Promise<void>;
  /**
   * Patches modules loaded without hooks (bundled apps; ESM imported before register). `anthropic` matters
   * only for @anthropic-ai/sdk < 0.134 (newer versions trace themselves).
   */
  instrumentModules(modules: { openai?: unknown; anthropic?: unknown }): void;
  readonly sdk: NodeSDK;
  readonly instrumentations: readonly Instrumentation[];
}

const HANDLE = Symbol.for('@ragscope/instrumentation.handle');
const LOADER_HOOK = Symbol.for('@ragscope/instrumentation.esm-loader-hook');
type GlobalSlots = { [HANDLE]?: RagscopeHandle; [LOADER_HOOK]?: boolean };
const globals = globalThis as unknown as GlobalSlots;

/** The handle of the running ragscope SDK, if register() was called in this process. */
export function getRegistered(): RagscopeHandle | undefined {
  return globals[HANDLE];
}

/**
 * The instrumentations ragscope uses, for an app that runs its own NodeSDK:
 *
 *   const sdk = new NodeSDK({
 *     instrumentations: [...ragscopeInstrumentations(), ...yours],
 *     spanProcessors: [new RagscopeSpanProcessor(), new BatchSpanProcessor({ exporter })],
 *     logRecordProcessors: [new RagscopeLogRecordProcessor(), new BatchLogRecordProcessor({ exporter: logExporter })],
 *   });
 */
export function ragscopeInstrumentations(options: { openai?: boolean; anthropic?: boolean } = {}): Instrumentation[] {
  const list: Instrumentation[] = [];
  if (options.openai !== false) list.push(new RagscopeOpenAIInstrumentation());
  if (options.anthropic !== false) list.push(new AnthropicInstrumentation());
  return list;
}

/**
 * Environment defaults ragscope sets before anything reads them (never overriding what the user set):
 * - `OTEL_SEMCONV_STABILITY_OPT_IN`: gen_ai_latest_experimental (appended when the variable is set but
 *   says nothing about gen_ai);
 * - `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION=false`: the Anthropic SDK would otherwise send the trace context
 *   and any baggage (the request context, when the app opted in to baggage) to api.anthropic.com;
 * - `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content` when content capture is on (it is then
 *   redacted by RagscopeSpanProcessor like every other span's content).
 */
export function applyEnvironmentDefaults(captureContent: boolean, env: NodeJS.ProcessEnv = process.env): void {
  const optIn = env.OTEL_SEMCONV_STABILITY_OPT_IN;
  if (optIn === undefined || optIn.trim() === '') env.OTEL_SEMCONV_STABILITY_OPT_IN = 'gen_ai_latest_experimental';
  else if (!/gen_ai/.test(optIn)) env.OTEL_SEMCONV_STABILITY_OPT_IN = `${optIn},gen_ai_latest_experimental`;
  env.ANTHROPIC_OPEN_TELEMETRY_PROPAGATION ??= 'false';
  if (captureContent) env.ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE ??= 'content';
}

function numberFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

class Stats implements TelemetryStats {
  spansExported = 0;
  spansDropped = 0;
  logsExported = 0;
  logsDropped = 0;
  exportFailures = 0;
  foreignApiCopies: ForeignApiCopy[] = [];
  private lastWarn = 0;
  dropped(what: 'spans' | 'logs', n: number, reason: string): void {
    if (what === 'spans') this.spansDropped += n;
    else this.logsDropped += n;
    const now = Date.now();
    if (now - this.lastWarn > 60_000) {
      this.lastWarn = now;
      diag.warn(`@ragscope/instrumentation: dropped ${n} ${what} (${reason}); totals: ${this.spansDropped} spans, ${this.logsDropped} logs`);
    }
  }
  snapshot(): TelemetryStats {
    const { spansExported, spansDropped, logsExported, logsDropped, exportFailures } = this;
    const foreignApiCopies = this.foreignApiCopies.map((c) => ({ ...c, resolvedBy: [...c.resolvedBy] }));
    return { spansExported, spansDropped, logsExported, logsDropped, exportFailures, foreignApiCopies };
  }
}

/**
 * The export bookkeeping both batch processors share. BatchSpanProcessor / BatchLogRecordProcessor drop
 * silently when their queue is full (one diag line, no counter), so the bound is enforced and counted
 * here: `pending` counts items handed to the batch processor and not yet reported back by the exporter;
 * what is still pending when shutdown gives up can be written off (`abandon`).
 */
class CountedQueue<Item> {
  private pending = 0;
  private closed = false;
  constructor(
    private readonly what: 'spans' | 'logs',
    private readonly stats: Stats,
    readonly maxQueueSize: number,
  ) {}

  /** Admits one item, or counts it as dropped (queue full, or after shutdown gave up). */
  admit(): boolean {
    if (this.closed || this.pending >= this.maxQueueSize) {
      this.stats.dropped(this.what, 1, 'queue full');
      return false;
    }
    this.pending++;
    return true;
  }

  abandon(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending > 0) this.stats.dropped(this.what, this.pending, reason);
    this.pending = 0;
  }

  /** The exporter, reporting each export's outcome to the counters (exactly once per export call). */
  counting<E extends { export(items: Item[], done: (r: ExportResult) => void): void; shutdown(): Promise<void>; forceFlush?(): Promise<void> }>(exporter: E): E {
    return {
      export: (items: Item[], done: (r: ExportResult) => void) => {
        let reported = false;
        const report = (r: ExportResult) => {
          if (reported) return;
          reported = true;
          if (this.closed) return done(r);
          this.pending = Math.max(0, this.pending - items.length);
          if (r.code === ExportResultCode.SUCCESS) {
            if (this.what === 'spans') this.stats.spansExported += items.length;
            else this.stats.logsExported += items.length;
          } else {
            this.stats.exportFailures++;
            this.stats.dropped(this.what, items.length, `export failed: ${r.error?.message ?? 'unknown error'}`);
          }
          done(r);
        };
        // The batch processor exports synchronously inside the span.end() that fills a batch, i.e. inside
        // the app's call: serializing 512 spans there delays that one call by milliseconds. Deferred to
        // the next turn of the event loop, it runs outside any call (same work, same thread). The async
        // context (tracing suppressed for the export's own HTTP request) follows setImmediate.
        setImmediate(() => {
          try {
            exporter.export(items, report);
          } catch (err) {
            report({ code: ExportResultCode.FAILED, error: err as Error });
          }
        });
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    } as unknown as E;
  }
}

/**
 * The exporting span processor of one selected exporter, counted: a BatchSpanProcessor configured from
 * `OTEL_BSP_*` (sdk-trace 3 no longer reads them itself; NodeSDK does only for processors it builds), or a
 * SimpleSpanProcessor for `console` (as NodeSDK does).
 */
class CountingSpanProcessor implements SpanProcessor {
  readonly queue: CountedQueue<ReadableSpan>;
  private readonly inner: SpanProcessor;
  constructor({ exporter, simple }: Selected<SpanExporter>, stats: Stats) {
    this.queue = new CountedQueue('spans', stats, numberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048);
    const counted = this.queue.counting(exporter);
    this.inner = simple
      ? new SimpleSpanProcessor({ exporter: counted })
      : new BatchSpanProcessor({
          exporter: counted,
          maxQueueSize: this.queue.maxQueueSize,
          maxExportBatchSize: numberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
          scheduledDelayMillis: numberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
          exportTimeoutMillis: numberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
        });
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0 && this.queue.admit()) this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The log counterpart of CountingSpanProcessor (`OTEL_BLRP_*`). */
class CountingLogRecordProcessor implements LogRecordProcessor {
  readonly queue: CountedQueue<ReadableLogRecord>;
  private readonly inner: LogRecordProcessor;
  constructor({ exporter, simple }: Selected<LogRecordExporter>, stats: Stats) {
    this.queue = new CountedQueue('logs', stats, numberFromEnv('OTEL_BLRP_MAX_QUEUE_SIZE') ?? 2048);
    const counted = this.queue.counting(exporter);
    this.inner = simple
      ? new SimpleLogRecordProcessor({ exporter: counted })
      : new BatchLogRecordProcessor({
          exporter: counted,
          maxQueueSize: this.queue.maxQueueSize,
          maxExportBatchSize: numberFromEnv('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'),
          scheduledDelayMillis: numberFromEnv('OTEL_BLRP_SCHEDULE_DELAY'),
          exportTimeoutMillis: numberFromEnv('OTEL_BLRP_EXPORT_TIMEOUT'),
        });
  }
  onEmit(record: ReadWriteLogRecord): void {
    if (this.queue.admit()) this.inner.onEmit(record);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

function withTimeout(p: Promise<unknown>, ms: number, onTimeout?: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      onTimeout?.();
      resolve();
    }, ms);
    t.unref?.();
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      (err: unknown) => {
        diag.debug('@ragscope/instrumentation: shutdown/flush failed', err);
        clearTimeout(t);
        resolve();
      },
    );
  });
}

/** Registers the import-in-the-middle loader hook (once per process) so ESM `import 'openai'` is patched. */
function registerEsmLoaderHook(): void {
  if (globals[LOADER_HOOK] || typeof registerLoaderHook !== 'function') return;
  globals[LOADER_HOOK] = true;
  try {
    // Resolve the hook through @opentelemetry/instrumentation so it is the import-in-the-middle copy that
    // InstrumentationBase registers its hooks with.
    const require = createRequire(import.meta.url);
    registerLoaderHook(pathToFileURL(require.resolve('@opentelemetry/instrumentation/hook.mjs')).href, import.meta.url, {
      data: { include: ['openai'] },
    });
  } catch (err) {
    diag.warn('@ragscope/instrumentation: could not register the ESM loader hook; ESM imports of openai are not traced unless imported after register', err);
  }
}

/**
 * Starts OpenTelemetry for an LLM/RAG app: NodeSDK with the trace and log exporters the OTEL_* variables select (OTLP/HTTP protobuf by default; exporters.ts), ragscope's span
 * and log processors, and the OpenAI / Anthropic instrumentations. Call it before the app loads `openai`
 * (or use `--import @ragscope/instrumentation/register`). Calling it again returns the running handle.
 * Never throws: on failure it logs through the OTel diag logger and returns a handle that does nothing.
 */
export function register(options: RegisterOptions = {}): RagscopeHandle {
  const existing = globals[HANDLE];
  if (existing) {
    diag.warn('@ragscope/instrumentation: register() called more than once; returning the running instance');
    return existing;
  }
  const stats = new Stats();
  try {
    const runtime = configure(options);
    applyEnvironmentDefaults(runtime.captureContent);
    if (options.esmLoaderHook !== false) registerEsmLoaderHook();

    const openai = options.openai !== false ? new RagscopeOpenAIInstrumentation() : undefined;
    const anthropic = options.anthropic !== false ? new AnthropicInstrumentation() : undefined;
    const instrumentations: Instrumentation[] = [
      ...(openai ? [openai] : []),
      ...(anthropic ? [anthropic] : []),
      ...(options.instrumentations ?? []),
    ];
    const bounded: CountedQueue<unknown>[] = [];
    // ragscope's processor first: its onStart stamps the request context before any other processor's
    // onStart sees the span (its onEnding runs before every onEnd whatever the order).
    const spanProcessors: SpanProcessor[] = [new RagscopeSpanProcessor(), ...(options.spanProcessors ?? [])];
    const spanExporters = options.traceExporter ? [{ exporter: options.traceExporter, simple: false }] : selectSpanExporters(options);
    for (const selected of spanExporters) {
      const p = new CountingSpanProcessor(selected, stats);
      bounded.push(p.queue);
      spanProcessors.push(p);
    }
    const logRecordProcessors: LogRecordProcessor[] = [new RagscopeLogRecordProcessor()];
    const logExporters = options.logExporter ? [{ exporter: options.logExporter, simple: false }] : selectLogExporters(options);
    for (const selected of logExporters) {
      const p = new CountingLogRecordProcessor(selected, stats);
      bounded.push(p.queue);
      logRecordProcessors.push(p);
    }

    // Built here rather than by NodeSDK so that ragscope's own tracer (own-tracer.ts) uses the same ones.
    const settings = {
      processors: spanProcessors,
      sampler: options.sampler ?? samplerFromEnv(),
      limits: spanLimitsFromEnv(),
      idGenerator: new PooledIdGenerator(),
      resource: providerResource(options),
    };
    const sdk = new NodeSDK({
      resource: settings.resource,
      autoDetectResources: false,
      sampler: settings.sampler,
      spanLimits: settings.limits,
      idGenerator: settings.idGenerator,
      instrumentations,
      spanProcessors,
      logRecordProcessors,
      // GenAI metrics stay off unless asked for: the processor derives them from spans.
      ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    });
    const providerBefore = globalTracerProvider();
    sdk.start();
    // Set either way: an earlier register() of this process (shut down since) must not leave its own tracer behind.
    const own = ownTracerApplies(providerBefore);
    openai?.useOwnTracer(own ? new OwnTracer(settings, { name: OPENAI_SCOPE, version: PACKAGE_VERSION }) : undefined);
    useOwnRagTracer(own ? new OwnTracer(settings, { name: PACKAGE_NAME, version: PACKAGE_VERSION }) : undefined);
    const apiCheck = checkForeignApiCopies(stats);

    const timeout = options.shutdownTimeoutMillis ?? 5000;
    let shutdownPromise: Promise<void> | undefined;
    const handle: RagscopeHandle = {
      sdk,
      instrumentations,
      stats: () => stats.snapshot(),
      ready: apiCheck,
      forceFlush: () => {
        return withTimeout(Promise.all([safePromise(() => flushTraces()), safePromise(() => flushLogs())]), timeout);
      },
      shutdown: () => {
        // What is still unexported when shutdown ends (or times out) is written off as dropped: an export
        // still retrying at that point cannot deliver any more.
        const writeOff = () => {
          for (const p of bounded) p.abandon('not exported at shutdown');
        };
        shutdownPromise ??= withTimeout(safePromise(() => sdk.shutdown()), timeout, writeOff).then(() => {
          writeOff();
          if (globals[HANDLE] === handle) delete globals[HANDLE];
        });
        return shutdownPromise;
      },
      instrumentModules: (modules) => {
        try {
          if (modules.openai !== undefined && openai) openai.patchModule(modules.openai);
          if (modules.anthropic !== undefined && anthropic) anthropic.patchModule(modules.anthropic);
        } catch (err) {
          diag.warn('@ragscope/instrumentation: instrumentModules failed', err);
        }
      },
    };
    globals[HANDLE] = handle;
    if (options.shutdownOnExit !== false) installExitHooks(handle);
    return handle;
  } catch (err) {
    diag.error('@ragscope/instrumentation: register() failed; telemetry is off', err);
    return disabledHandle(stats);
  }
}

function globalTracerProvider(): TracerProvider | undefined {
  return (trace.getTracerProvider() as { getDelegate?: () => TracerProvider }).getDelegate?.();
}

/**
 * Whether ragscope's own spans (OpenAI calls, RAG helpers) can be made by its own tracer: only when sdk.start() has just made the SDK
 * tracer provider built from `settings` the global one (not when the SDK is disabled, another provider was
 * registered first, or the SDK's own span metrics are asked for, which only its Tracer records).
 */
function ownTracerApplies(providerBefore: TracerProvider | undefined): boolean {
  const provider = globalTracerProvider();
  return provider !== providerBefore && provider instanceof SdkTracerProvider && !getBooleanFromEnv('OTEL_NODE_EXPERIMENTAL_SDK_METRICS');
}

/** Finds api copies that cannot see ragscope's provider, bridges them and records them (see api-copies.ts). */
function checkForeignApiCopies(stats: Stats): Promise<void> {
  try {
    const provider = (trace.getTracerProvider() as { getDelegate?: () => TracerProvider }).getDelegate?.();
    if (provider === undefined) return Promise.resolve();
    const own = createRequire(import.meta.url).resolve('@opentelemetry/api');
    const check = checkApiCopies(provider, appDirectory(), own);
    stats.foreignApiCopies = check.copies;
    return check.done.catch(() => {});
  } catch (err) {
    diag.debug('@ragscope/instrumentation: api copy check failed', err);
    return Promise.resolve();
  }
}

function safePromise(f: () => Promise<unknown> | undefined): Promise<unknown> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err);
  }
}

function flushTraces(): Promise<void> | undefined {
  const p = trace.getTracerProvider() as { forceFlush?: () => Promise<void>; getDelegate?: () => { forceFlush?: () => Promise<void> } };
  if (typeof p.forceFlush === 'function') return p.forceFlush();
  return p.getDelegate?.()?.forceFlush?.();
}

function flushLogs(): Promise<void> | undefined {
  // The global logger provider is the SDK's LoggerProvider (or a proxy delegating to it).
  const p = logs.getLoggerProvider() as { forceFlush?: () => Promise<void>; getDelegate?: () => { forceFlush?: () => Promise<void> } };
  if (typeof p.forceFlush === 'function') return p.forceFlush();
  return p.getDelegate?.()?.forceFlush?.();
}

function disabledHandle(stats: Stats): RagscopeHandle {
  return {
    sdk: new NodeSDK({ instrumentations: [] }),
    instrumentations: [],
    stats: () => stats.snapshot(),
    ready: Promise.resolve(),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    instrumentModules: () => {},
  };
}

function installExitHooks(handle: RagscopeHandle): void {
  process.once('beforeExit', () => {
    void handle.shutdown();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      const othersHandleIt = process.listenerCount(signal) > 1;
      void handle.shutdown().then(() => {
        process.removeListener(signal, onSignal);
        if (!othersHandleIt) process.kill(process.pid, signal);
      });
    };
    process.on(signal, onSignal);
  }
}
