// Real OTel SDK providers exporting over OTLP/gRPC (@opentelemetry/exporter-*-otlp-grpc), and a raw gRPC
// client for the processor's Export methods (for bytes no SDK would send).
import { Metadata, makeGenericClientConstructor, credentials, type ServiceError } from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import type { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { TracerProvider, SimpleSpanProcessor, type IdGenerator, type SpanExporter } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { LOGS_SERVICE, TRACE_SERVICE } from '../../processor/src/receive/grpc-server.js';

export interface GrpcExportOptions {
  gzip?: boolean;
  /** e.g. { 'x-api-key': key } or { authorization: 'Bearer ' + key } */
  metadata?: Record<string, string>;
}

function metadataOf(entries: Record<string, string> = {}): Metadata {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
  return metadata;
}

export function grpcTraceExporter(port: number, options: GrpcExportOptions = {}): OTLPTraceExporter {
  return new OTLPTraceExporter({
    url: `http://127.0.0.1:${port}`,
    compression: (options.gzip ? 'gzip' : 'none') as CompressionAlgorithm,
    metadata: metadataOf(options.metadata),
  });
}

/** Trace and span ids counted up from `seed`: two runs with different seeds send the same spans under different ids. */
export function sequentialIds(seed: number): IdGenerator {
  let n = 0;
  return {
    generateTraceId: () => (seed * 1_000_000 + ++n).toString(16).padStart(32, 'a'),
    generateSpanId: () => (seed * 1_000_000 + ++n).toString(16).padStart(16, 'b'),
  };
}

export function tracerProviderWith(exporter: SpanExporter, idGenerator?: IdGenerator): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'grpc-app', 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    idGenerator,
  });
}

export function grpcLoggerProvider(port: number, options: GrpcExportOptions = {}): LoggerProvider {
  const exporter = new OTLPLogExporter({
    url: `http://127.0.0.1:${port}`,
    compression: (options.gzip ? 'gzip' : 'none') as CompressionAlgorithm,
    metadata: metadataOf(options.metadata),
  });
  return new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'grpc-app' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
}

export interface RawAnswer {
  error: ServiceError | null;
  response: Buffer | undefined;
}

/** Sends raw request bytes to TraceService/Export or LogsService/Export. */
export function rawExport(port: number, signal: 'traces' | 'logs', body: Uint8Array, options: GrpcExportOptions = {}): Promise<RawAnswer> {
  const Client = makeGenericClientConstructor(signal === 'traces' ? TRACE_SERVICE : LOGS_SERVICE, 'Export');
  const channelOptions = options.gzip ? { 'grpc.default_compression_algorithm': 2 } : {};
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), channelOptions) as unknown as {
    Export(req: Buffer, md: Metadata, cb: (err: ServiceError | null, res?: Buffer) => void): void;
    close(): void;
  };
  return new Promise((resolve) => {
    client.Export(Buffer.from(body), metadataOf(options.metadata), (error, response) => {
      client.close();
      resolve({ error, response });
    });
  });
}

/** google.rpc.Status from grpc-status-details-bin: code, message and the RetryInfo delay (seconds) if any. */
export function statusDetails(error: ServiceError): { code: number; message: string; retryDelaySeconds?: number } {
  const bin = error.metadata.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Buffer)) throw new Error('no grpc-status-details-bin in the trailers');
  const out: { code: number; message: string; retryDelaySeconds?: number } = { code: 0, message: '' };
  const reader = protobuf.Reader.create(bin);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) out.code = reader.int32();
    else if (tag >>> 3 === 2) out.message = reader.string();
    else if (tag >>> 3 === 3) {
      const any = protobuf.Reader.create(reader.bytes());
      let typeUrl = '';
      let value: Uint8Array = new Uint8Array();
      while (any.pos < any.len) {
        const t = any.uint32();
        if (t >>> 3 === 1) typeUrl = any.string();
        else if (t >>> 3 === 2) value = any.bytes();
        else any.skipType(t & 7);
      }
      if (typeUrl === 'type.googleapis.com/google.rpc.RetryInfo') {
        const info = protobuf.Reader.create(value);
        info.uint32(); // retry_delay (field 1)
        const duration = protobuf.Reader.create(info.bytes());
        duration.uint32(); // seconds (field 1)
        out.retryDelaySeconds = Number(duration.int64());
      }
    } else reader.skipType(tag & 7);
  }
  return out;
}
