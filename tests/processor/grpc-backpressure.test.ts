// OTLP/gRPC backpressure with the real OTel gRPC exporter: while the spool is full (shipping held back by a
// 60 s batch delay) an export gets RESOURCE_EXHAUSTED with google.rpc.RetryInfo in grpc-status-details-bin;
// once /v1/flush drained the spool the same export succeeds, and a repeat of it is stored once.
// (The OTel JS gRPC exporter (0.223 and 0.301) reports every gRPC error as a failed export and does not retry by
// itself; Collector and Python/Go exporters retry RESOURCE_EXHAUSTED after the RetryInfo delay. This test
// plays that retry explicitly with the same exporter.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { grpcTraceExporter, rawExport, sequentialIds, statusDetails, tracerProviderWith } from '../helpers/otel-grpc.js';

const MiB = 1024 * 1024;
/** ExportResultCode of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;
const EXPORT_FAILED = 1;

describe('OTLP/gRPC backpressure', () => {
  let full: TestProcessor;
  beforeAll(async () => {
    full = await startProcessor({ RAGSCOPE_SPOOL_MAX_BYTES: String(MiB), RAGSCOPE_BATCH_MAX_DELAY_MS: '60000', RAGSCOPE_BATCH_MAX_ROWS: '1000000', RAGSCOPE_RETRY_AFTER_SECONDS: '3' }, undefined);
  }, 60_000);
  afterAll(async () => {
    await full?.stop();
    if (full) removeDir(full.dataDir);
  });

  it('answers RESOURCE_EXHAUSTED with RetryInfo while the spool is full; the same export succeeds once drained, stored once', async () => {
    const fullPort = full.processor.grpcPort!;
    const padded = (prefix: string, n: number, seed: number, bytes: number) => {
      const spans: ReadableSpan[] = [];
      const exporter = { export: (s: ReadableSpan[], cb: (r: { code: number }) => void) => (spans.push(...s), cb({ code: 0 })), shutdown: async () => undefined };
      const provider = tracerProviderWith(exporter, sequentialIds(seed));
      const tracer = provider.getTracer('pad');
      for (let i = 0; i < n; i++) tracer.startSpan(`${prefix}-${i}`, { startTime: testNow() - 10_000, attributes: { padding: 'x'.repeat(bytes) } }).end(testNow() - 9_000);
      return spans;
    };
    const exporter = grpcTraceExporter(fullPort);
    const exportOnce = (spans: ReadableSpan[]) => new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
    expect((await exportOnce(padded('first', 3, 10, 250_000))).code).toBe(EXPORT_SUCCESS);
    const second = padded('second', 1, 11, 300_000);
    const refused = await exportOnce(second);
    expect(refused.code).toBe(EXPORT_FAILED);
    // The same refusal seen by a raw client: status, message and the RetryInfo delay in the trailers.
    const raw = await rawExport(fullPort, 'traces', ProtobufTraceSerializer.serializeRequest(second)!);
    expect(raw.error?.code).toBe(8);
    expect(raw.error?.details).toMatch(/spool full/);
    expect(statusDetails(raw.error!)).toMatchObject({ code: 8, retryDelaySeconds: 3 });

    expect((await fetch(`${full.url}/v1/flush`, { method: 'POST' })).status).toBe(200);
    expect((await exportOnce(second)).code).toBe(EXPORT_SUCCESS);
    // A retry of an export already stored adds nothing.
    expect((await exportOnce(second)).code).toBe(EXPORT_SUCCESS);
    await exporter.shutdown();
    const rows = await full.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName LIKE 'first-%' OR SpanName LIKE 'second-%'");
    expect(Number(rows[0].n)).toBe(4);
    const metrics = await (await fetch(`${full.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_spans_rejected_total\{reason="queue_full"\} 2/);
  });
});
