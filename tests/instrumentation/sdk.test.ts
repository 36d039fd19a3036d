// register() in-process: environment defaults, idempotence, bounded and counted queues, a stuck exporter.
import { trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEnvironmentDefaults, getRegistered, register } from '../../instrumentation/src/index.js';

process.env.OTEL_BSP_MAX_QUEUE_SIZE = '10';
process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
process.env.OTEL_LOGS_EXPORTER = 'none';
delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;

/** An exporter whose export never completes: the endpoint hangs. */
class StuckExporter implements SpanExporter {
  calls = 0;
  export(_spans: ReadableSpan[], _done: (r: ExportResult) => void): void {
    this.calls++;
  }
  shutdown(): Promise<void> {
    return new Promise(() => {}); // hangs too
  }
}

const exporter = new StuckExporter();
const handle = register({ serviceName: 'sdk-test', traceExporter: exporter, shutdownOnExit: false, shutdownTimeoutMillis: 300, esmLoaderHook: false });
afterAll(() => handle.shutdown());

describe('register()', () => {
  it('sets the GenAI semconv opt-in and the Anthropic defaults without overriding the user', () => {
    expect(process.env.OTEL_SEMCONV_STABILITY_OPT_IN).toBe('gen_ai_latest_experimental');
    expect(process.env.ANTHROPIC_OPEN_TELEMETRY_PROPAGATION).toBe('false');
    const env: NodeJS.ProcessEnv = { OTEL_SEMCONV_STABILITY_OPT_IN: 'http', ANTHROPIC_OPEN_TELEMETRY_PROPAGATION: 'true' };
    applyEnvironmentDefaults(true, env);
    expect(env).toEqual({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http,gen_ai_latest_experimental', ANTHROPIC_OPEN_TELEMETRY_PROPAGATION: 'true', ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE: 'content' });
    const mine: NodeJS.ProcessEnv = { OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_stable' };
    applyEnvironmentDefaults(false, mine);
    expect(mine.OTEL_SEMCONV_STABILITY_OPT_IN).toBe('gen_ai_stable');
  });

  it('is idempotent: a second call returns the running handle', () => {
    expect(register()).toBe(handle);
    expect(getRegistered()).toBe(handle);
  });

  it('a hung exporter: the queue stays bounded, overflow is counted, the app is unaffected', async () => {
    const tracer = trace.getTracer('app');
    const started = performance.now();
    for (let i = 0; i < 200; i++) tracer.startSpan(`op-${i}`).end();
    const elapsed = performance.now() - started;
    // The batch processor hands its first batch to the exporter on its 20 ms schedule: wait for that, not a fixed time.
    const deadline = Date.now() + 10_000;
    while (exporter.calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const stats = handle.stats();
    // 10 queued (one batch handed to the hung exporter), 190 dropped and counted.
    expect(stats.spansDropped).toBe(190);
    expect(stats.spansExported).toBe(0);
    expect(exporter.calls).toBeGreaterThanOrEqual(1);
    // Ending spans never waits for the exporter (which never answers): a blocking queue would hang here for
    // good. 200 spans take milliseconds; the bound is generous for a loaded 2-core machine.
    expect(elapsed).toBeLessThan(5000);
  });

  it('shutdown with a hung exporter resolves after the timeout and writes off what was pending', async () => {
    const t0 = Date.now();
    await handle.shutdown();
    // The exporter's shutdown never resolves: only the 300 ms shutdown time-out ends it (bound generous for load).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(handle.stats().spansDropped).toBe(200);
    expect(getRegistered()).toBeUndefined();
  });
});
