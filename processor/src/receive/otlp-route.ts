import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { readOtlpBody, type OtlpFormat } from './body.js';
import { decodeTraces as decodeTracesProtobuf, decodeLogs as decodeLogsProtobuf } from './protobuf-decoder.js';
import { decodeTracesJson, decodeLogsJson } from './json-decoder.js';
import { contentTypeFor, encodeExportResponse, encodeStatus } from './otlp-response.js';
import { ingest, refusalFor, type IngestDeps, type Signal } from './ingest.js';

export type { Signal } from './ingest.js';

export interface OtlpRouteDeps extends IngestDeps {
  maxBodyBytes: number;
  retryAfterSeconds: number;
  /** The tenant a request's credentials name; throws HttpError(401) without a valid one (auth/). */
  tenantFor(headers: IncomingHttpHeaders): string;
}

/** POST /v1/traces and /v1/logs (OTLP/HTTP, protobuf or JSON, optionally gzip). */
export function otlpRoute(signal: Signal, deps: OtlpRouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    let format: OtlpFormat = req.is('application/json') ? 'json' : 'protobuf';
    try {
      const tenant = deps.tenantFor(req.headers);
      const { format: bodyFormat, body } = await readOtlpBody(req, { maxBytes: deps.maxBodyBytes });
      format = bodyFormat;
      const decode =
        signal === 'traces'
          ? () => (format === 'json' ? decodeTracesJson(body) : decodeTracesProtobuf(body))
          : () => (format === 'json' ? decodeLogsJson(body) : decodeLogsProtobuf(body));
      const result = await ingest(signal, { format, body }, decode, tenant, deps);
      send(res, 200, format, encodeExportResponse(signal, format, result.rejected, result.errorMessage));
    } catch (err) {
      const refusal = refusalFor(err, signal, deps);
      if (refusal.retryable) res.setHeader('Retry-After', String(deps.retryAfterSeconds));
      if (refusal.kind === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer');
      // A body refused before it was read (bad key, Content-Length over the limit): drain it, or the socket is
      // closed under a client still sending and it sees ECONNRESET instead of this answer.
      if (!req.readableEnded) req.resume();
      send(res, refusal.httpStatus, format, encodeStatus(refusal.httpStatus, refusal.message, format));
    }
  };
}

function send(res: Response, status: number, format: OtlpFormat, payload: Uint8Array | string): void {
  res.status(status);
  res.setHeader('Content-Type', contentTypeFor(format));
  res.end(payload);
}
