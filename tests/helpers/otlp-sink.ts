// A tiny OTLP downstream on the loopback (OTLP/HTTP protobuf and OTLP/gRPC) that keeps every request body,
// optionally answering slowly or failing, for forwarding tests and benchmarks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { LOGS_SERVICE, TRACE_SERVICE } from '../../processor/src/receive/grpc-server.js';

export interface OtlpSink {
  httpUrl: string;
  grpcUrl: string;
  traces: Buffer[];
  logs: Buffer[];
  /** Answer after this many ms (a slow downstream). */
  delayMs: number;
  /** Answer 503 / UNAVAILABLE while true. */
  failing: boolean;
  /** Answer this HTTP status while set (a downstream rejecting what it is sent, e.g. 400 or Tempo's 404 on /v1/logs). */
  rejectWith?: number;
  headers: Record<string, string | undefined>[];
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const sink = { traces: [] as Buffer[], logs: [] as Buffer[], headers: [] as Record<string, string | undefined>[], delayMs: 0, failing: false } as OtlpSink;
  const keep = (signal: 'traces' | 'logs', body: Buffer) => (signal === 'traces' ? sink.traces : sink.logs).push(body);
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        if (sink.failing || sink.rejectWith) {
          res.writeHead(sink.rejectWith ?? 503).end();
          return;
        }
        sink.headers.push({ authorization: req.headers.authorization });
        keep(req.url === '/v1/logs' ? 'logs' : 'traces', Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      }, sink.delayMs);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const grpc = new GrpcServer();
  const handler = (signal: 'traces' | 'logs') => (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
    setTimeout(() => {
      if (sink.failing) return cb({ code: 14, details: 'sink failing' });
      sink.headers.push({ authorization: call.metadata.get('authorization')[0] as string | undefined });
      keep(signal, call.request);
      cb(null, Buffer.alloc(0));
    }, sink.delayMs);
  };
  grpc.addService(TRACE_SERVICE, { Export: handler('traces') });
  grpc.addService(LOGS_SERVICE, { Export: handler('logs') });
  const grpcPort = await new Promise<number>((resolve, reject) => grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  sink.httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  sink.grpcUrl = `http://127.0.0.1:${grpcPort}`;
  sink.close = async () => {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    grpc.forceShutdown();
  };
  return sink;
}

/** Waits until `check` holds (polling), or throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
