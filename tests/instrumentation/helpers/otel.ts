// In-memory OpenTelemetry pipeline for in-process tests: a real SDK tracer provider (AsyncLocalStorage
// context, W3C trace-context + baggage propagators) with ragscope's span processor before an in-memory
// exporter, and a logger provider with ragscope's log processor before an in-memory log exporter.
import { context, logs, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, RandomIdGenerator, TracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RagscopeLogRecordProcessor, RagscopeSpanProcessor, type RagscopeHandle } from '../../../instrumentation/src/index.js';
import { startOpenAIStub, type Stub } from '../../../demo/src/provider-stub.js';
import { afterAll, beforeAll } from 'vitest';
import type { SpanSettings } from '../../../instrumentation/src/own-tracer.js';
import { samplerFromEnv, spanLimitsFromEnv } from '../../../instrumentation/src/span-settings.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Pipeline {
  settings: SpanSettings;
  spanExporter: InMemorySpanExporter;
  logExporter: InMemoryLogRecordExporter;
  tracerProvider: TracerProvider;
  loggerProvider: LoggerProvider;
  spans(): ReadableSpan[];
  logs(): ReadableLogRecord[];
  reset(): void;
}

export function setupPipeline(instrumentations: Instrumentation[] = []): Pipeline {
  const spanExporter = new InMemorySpanExporter();
  // The provider's parts, kept to make ragscope's own tracer over the same ones (as register() does).
  const settings: SpanSettings = {
    processors: [new RagscopeSpanProcessor(), new SimpleSpanProcessor({ exporter: spanExporter })],
    sampler: samplerFromEnv(),
    limits: spanLimitsFromEnv(),
    idGenerator: new RandomIdGenerator(),
    // No detectors: a resource with attributes still being detected makes SimpleSpanProcessor export later.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'ragscope-tests' })),
  };
  const tracerProvider = new TracerProvider({
    spanProcessors: [...settings.processors],
    sampler: settings.sampler,
    spanLimits: settings.limits,
    idGenerator: settings.idGenerator,
    resource: settings.resource,
  });
  // What NodeTracerProvider#register() did in the 2.x SDK (sdk-trace 3.x has no register()): the global
  // provider, AsyncLocalStorage context and the default propagators (trace context + baggage).
  trace.setGlobalTracerProvider(tracerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    processors: [new RagscopeLogRecordProcessor(), new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  logs.setGlobalLoggerProvider(loggerProvider);
  registerInstrumentations({ instrumentations, tracerProvider, loggerProvider });
  return {
    settings,
    spanExporter,
    logExporter,
    tracerProvider,
    loggerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    logs: () => logExporter.getFinishedLogRecords(),
    reset: () => {
      spanExporter.reset();
      logExporter.reset();
    },
  };
}

/**
 * A require() that loads `pkg` from a copy of `sourceDir` installed as node_modules/<pkg> under
 * node_modules/.cache/ragscope-tests/<tag> (inside the repo, so the copy's own dependencies resolve from
 * the root node_modules). The copy is what makes `openai-v5` (an npm alias) load as a module named
 * `openai`, so require-in-the-middle hooks it exactly as in an app.
 */
export function requireFromCopy(pkg: string, sourceDir: string, tag: string): NodeJS.Require {
  const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules', sourceDir, 'package.json'), 'utf8')) as { version: string }).version;
  const base = join(ROOT, 'node_modules', '.cache', 'ragscope-tests', `${tag}-${version}`);
  const target = join(base, 'node_modules', pkg);
  if (!existsSync(join(target, 'package.json'))) {
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(ROOT, 'node_modules', sourceDir), target, {
      recursive: true,
      filter: (src) => !/\.(d\.ts|d\.mts|map|mjs)$/.test(src) && !src.includes(`${sourceDir}/src/`),
    });
  }
  return createRequire(join(base, 'index.js'));
}

export function attr(span: ReadableSpan, key: string): unknown {
  return span.attributes[key];
}

export function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/**
 * For a file that calls register() itself: `openai` v7 patched by that handle and a stub of the API for it,
 * both started before the file's tests and shut down after them.
 */
export function openaiUnder(handle: RagscopeHandle): { OpenAI: typeof import('openai').OpenAI; stubUrl: () => string } {
  const { OpenAI } = requireFromCopy('openai', 'openai', 'v7')('openai') as typeof import('openai');
  let stub: Stub | undefined;
  beforeAll(async () => {
    handle.instrumentModules({ openai: OpenAI });
    stub = await startOpenAIStub();
  });
  afterAll(async () => {
    await handle.shutdown();
    await stub?.close();
  });
  return { OpenAI, stubUrl: () => stub!.url };
}
