// OTLP/gRPC during shutdown: a processor that is stopping answers export calls with UNAVAILABLE (retryable),
// with google.rpc.RetryInfo when the call reached it, and stores nothing from them; the real OTel gRPC
// exporter sees a failed export with UNAVAILABLE, and the same export succeeds once a processor is back on
// the same data directory and port: nothing lost, nothing twice.
// (The OTel JS gRPC exporter reports every gRPC error as a failed export and does not retry by itself;
// Collector and Python/Go exporters retry UNAVAILABLE. The test plays that retry with the same exporter.)
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, describe, expect, it } from 'vitest';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { grpcTraceExporter, rawExport, sequentialIds, statusDetails, tracerProviderWith } from '../helpers/otel-grpc.js';

/** ExportResultCode of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;
const EXPORT_FAILED = 1;
const UNAVAILABLE = 14;
const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

let first: TestProcessor | undefined;
let second: TestProcessor | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await first?.stop();
  await second?.stop();
  if (dataDir) removeDir(dataDir);
});

/** Finished spans named `${prefix}-i` with ids counted from `seed`. */
function spansOf(prefix: string, n: number, seed: number): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  const provider = tracerProviderWith({ export: (s, cb) => (spans.push(...s), cb({ code: 0 })), shutdown: async () => undefined }, sequentialIds(seed));
  const tracer = provider.getTracer('shutdown');
  for (let i = 0; i < n; i++) tracer.startSpan(`${prefix}-${i}`, { startTime: testNow() - 10_000 }).end(testNow() - 9_000);
  return spans;
}

/** A gRPC message frame: uncompressed flag + big-endian length + bytes. */
function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The call's status from the response headers (trailers-only answer) or trailers. */
function grpcStatusOf(stream: ClientHttp2Stream): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    let headers: IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = { ...h }));
    stream.on('trailers', (t) => (headers = { ...headers, ...t }));
    stream.on('data', () => undefined);
    stream.on('end', () => resolve(headers));
    stream.on('error', reject);
  });
}

const ping = (session: ClientHttp2Session) => new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));

describe('OTLP/gRPC while the processor shuts down', () => {
  it('a call completing after shutdown began gets UNAVAILABLE + RetryInfo; the real exporter gets UNAVAILABLE; after a restart on the same data dir and port the retries are stored once', async () => {
    first = await startProcessor({ RAGSCOPE_RETRY_AFTER_SECONDS: '2' });
    dataDir = first.dataDir;
    const port = first.processor.grpcPort!;
    const exporter = grpcTraceExporter(port);
    const exportOnce = (spans: ReadableSpan[]) => new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));

    const before = spansOf('before', 3, 1);
    expect((await exportOnce(before)).code).toBe(EXPORT_SUCCESS);

    // A call under way when the shutdown begins: its headers and half its message are in; the server has
    // read them (a ping answered after them).
    const lateMessage = grpcFrame(ProtobufTraceSerializer.serializeRequest(spansOf('late', 2, 3))!);
    const session = connect(`http://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
    const goaway = new Promise<number>((resolve) => session.once('goaway', (_code, lastStreamId) => resolve(lastStreamId)));
    const stream = session.request({ ':method': 'POST', ':path': TRACE_EXPORT, 'content-type': 'application/grpc', te: 'trailers' });
    const answer = grpcStatusOf(stream);
    stream.write(lateMessage.subarray(0, 20));
    await ping(session);

    const stopped = first.stop();
    // New export calls from the real exporter while stopping.
    const during = spansOf('during', 2, 2);
    const refused = await exportOnce(during);
    expect(refused.code).toBe(EXPORT_FAILED);
    expect((refused.error as Error & { code?: number }).code).toBe(UNAVAILABLE);

    // The call under way was let in (its stream id is within the GOAWAY's last stream id) and is refused as a whole.
    expect(stream.id).toBeLessThanOrEqual(await goaway);
    stream.end(lateMessage.subarray(20));
    const late = await answer;
    expect(Number(late['grpc-status'])).toBe(UNAVAILABLE);
    expect(decodeURIComponent(String(late['grpc-message']))).toMatch(/shutting down/);
    const details = new Metadata();
    details.set('grpc-status-details-bin', Buffer.from(String(late['grpc-status-details-bin']), 'base64'));
    expect(statusDetails({ metadata: details } as ServiceError)).toMatchObject({ code: UNAVAILABLE, retryDelaySeconds: 2 });
    session.close();
    await stopped;
    first = undefined;

    // Back on the same data directory and gRPC port: the exporter's retries succeed (its channel reconnects
    // after its own backoff: retried after the RetryInfo delay, as a Collector would).
    second = await startProcessor({ RAGSCOPE_GRPC_PORT: String(port) }, dataDir);
    expect(second.processor.grpcPort).toBe(port);
    let retried = await exportOnce(during);
    for (let attempt = 0; retried.code !== EXPORT_SUCCESS && attempt < 15; attempt++) {
      expect((retried.error as Error & { code?: number }).code).toBe(UNAVAILABLE);
      await new Promise((r) => setTimeout(r, 2_000));
      retried = await exportOnce(during);
    }
    expect(retried.code).toBe(EXPORT_SUCCESS);
    expect((await rawExport(port, 'traces', lateMessage.subarray(5))).error).toBeNull();
    // A repeat of an export stored before the restart adds nothing.
    expect((await exportOnce(before)).code).toBe(EXPORT_SUCCESS);
    await exporter.shutdown();

    const rows = await second.query<{ name: string; n: string }>(
      "SELECT SpanName AS name, toString(count()) AS n FROM otel_traces WHERE match(SpanName, '^(before|during|late)-') GROUP BY SpanName ORDER BY SpanName",
    );
    expect(rows).toEqual(['before-0', 'before-1', 'before-2', 'during-0', 'during-1', 'late-0', 'late-1'].map((name) => ({ name, n: '1' })));
  }, 120_000);
});
