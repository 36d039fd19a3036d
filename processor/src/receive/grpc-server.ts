// OTLP/gRPC: opentelemetry.proto.collector.{trace,logs}.v1.{Trace,Logs}Service/Export. The services are
// registered with identity (de)serializers, so a handler gets the raw request bytes (already gunzipped by
// grpc-js) and feeds them to the same decoder and ingest path as OTLP/HTTP, not to protobufjs objects.
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeLogs, decodeTraces } from './protobuf-decoder.js';
import { encodeExportResponse, encodeStatusWithRetryInfo } from './otlp-response.js';
import { ingest, refusalFor, type IngestDeps, type RefusalKind, type Signal } from './ingest.js';
import type { BodySlots } from '../http-limits.js';

export interface GrpcReceiverDeps extends IngestDeps {
  maxBodyBytes: number;
  retryAfterSeconds: number;
  /** The tenant named by the call's metadata (authorization / x-api-key); throws HttpError(401) otherwise. */
  tenantFor(headers: IncomingHttpHeaders): string;
  /** Requests in process at once, shared with OTLP/HTTP (RAGSCOPE_MAX_CONCURRENT_BODIES). */
  slots?: BodySlots;
}

const identity = (b: Buffer): Buffer => b;

function exportService(path: string): ServiceDefinition {
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

export const TRACE_SERVICE = exportService('/opentelemetry.proto.collector.trace.v1.TraceService/Export');
export const LOGS_SERVICE = exportService('/opentelemetry.proto.collector.logs.v1.LogsService/Export');

const CODE_FOR: Record<RefusalKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  too_large: status.RESOURCE_EXHAUSTED,
  spool_full: status.RESOURCE_EXHAUSTED,
  closed: status.UNAVAILABLE,
  store_error: status.UNAVAILABLE,
  http: status.INTERNAL,
};

export class GrpcReceiver {
  private readonly server: Server;
  private stopping = false;

  constructor(private readonly deps: GrpcReceiverDeps) {
    this.server = new Server({
      'grpc.max_receive_message_length': deps.maxBodyBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
      // Messages one connection may have in flight: with the shared slots below, what bodies hold in memory is bounded.
      ...(deps.slots ? { 'grpc.max_concurrent_streams': deps.slots.limit } : {}),
    });
    this.server.addService(TRACE_SERVICE, { Export: this.handler('traces') });
    this.server.addService(LOGS_SERVICE, { Export: this.handler('logs') });
  }

  /** Binds host:port (0 = ephemeral) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** Refuses new calls with UNAVAILABLE, lets calls under way finish (bounded by `graceMs`), then closes. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private handler(signal: Signal) {
    const decode = signal === 'traces' ? decodeTraces : decodeLogs;
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const release = this.deps.slots?.tryTake();
      if (this.deps.slots && !release) {
        const message = `${this.deps.slots.limit} request bodies are already being processed (RAGSCOPE_MAX_CONCURRENT_BODIES); retry later`;
        const metadata = new Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(encodeStatusWithRetryInfo(status.RESOURCE_EXHAUSTED, message, this.deps.retryAfterSeconds)));
        callback({ code: status.RESOURCE_EXHAUSTED, details: message, metadata });
        this.deps.metrics.requests.inc({ route: route(signal), status: status[status.RESOURCE_EXHAUSTED] });
        return;
      }
      void (async () => {
        try {
          if (this.stopping) throw Object.assign(new Error('processor is shutting down'), { grpcUnavailable: true });
          const tenant = this.deps.tenantFor(metadataHeaders(call.metadata));
          const body = call.request;
          const result = await ingest(signal, { format: 'protobuf', body }, () => decode(body), tenant, this.deps);
          callback(null, Buffer.from(encodeExportResponse(signal, 'protobuf', result.rejected, result.errorMessage)));
          this.deps.metrics.requests.inc({ route: route(signal), status: 'OK' });
        } catch (err) {
          const stopping = (err as { grpcUnavailable?: boolean }).grpcUnavailable === true;
          const refusal = stopping
            ? { kind: 'closed' as const, message: (err as Error).message, retryable: true }
            : refusalFor(err, signal, this.deps);
          const code = CODE_FOR[refusal.kind];
          const metadata = new Metadata();
          const retryAfter = refusal.retryable ? this.deps.retryAfterSeconds : undefined;
          metadata.set('grpc-status-details-bin', Buffer.from(encodeStatusWithRetryInfo(code, refusal.message, retryAfter)));
          callback({ code, details: refusal.message, metadata });
          this.deps.metrics.requests.inc({ route: route(signal), status: status[code] });
        } finally {
          release?.();
        }
      })();
    };
  }
}

/** The `route` label of ragscope_http_requests_total for gRPC calls (status: the gRPC code name). */
const route = (signal: Signal) => (signal === 'traces' ? 'grpc TraceService/Export' : 'grpc LogsService/Export');

/** gRPC metadata as the header map the auth resolver reads (first value of each key). */
function metadataHeaders(metadata: Metadata): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const name of ['authorization', 'x-api-key']) {
    const value = metadata.get(name)[0];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
