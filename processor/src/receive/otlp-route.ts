import type { Request, Response } from 'express';
import type { DecodedLogRecord, DecodedSpan } from '../model.js';
import type { Pipeline, ProcessedBatch } from '../pipeline.js';
import { BatchTooLargeError, QueueClosedError, QueueFullError, type WriteQueue } from '../store/write-queue.js';
import type { ProcessorMetrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import { readOtlpBody, type OtlpFormat } from './body.js';
import { HttpError } from './http-error.js';
import { logKey, spanKey, type Claim, type RecentKeys } from './recent-keys.js';
import { decodeTraces as decodeTracesProtobuf, decodeLogs as decodeLogsProtobuf } from './protobuf-decoder.js';
import { decodeTracesJson, decodeLogsJson } from './json-decoder.js';
import { contentTypeFor, encodeExportResponse, encodeStatus } from './otlp-response.js';
import { OtlpDecodeError } from './protobuf-decoder.js';

export type Signal = 'traces' | 'logs';

export interface OtlpRouteDeps {
  pipeline: Pipeline;
  /** Spans and log records already stored: a retried request adds nothing twice. */
  recent: RecentKeys;
  queue: WriteQueue;
  metrics: ProcessorMetrics;
  logger: Logger;
  maxBodyBytes: number;
  retryAfterSeconds: number;
}

/** POST /v1/traces and /v1/logs (OTLP/HTTP, protobuf or JSON, optionally gzip). */
export function otlpRoute(signal: Signal, deps: OtlpRouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    let format: OtlpFormat = req.is('application/json') ? 'json' : 'protobuf';
    try {
      const body = await readOtlpBody(req, { maxBytes: deps.maxBodyBytes });
      format = body.format;
      const { batch, claim, duplicates } = signal === 'traces' ? processTraces(body.format, body.body, deps) : processLogs(body.format, body.body, deps);
      try {
        await deps.queue.enqueue(batch.rows, batch.keys);
      } catch (err) {
        deps.recent.settle(claim, []);
        batch.forget();
        throw err;
      }
      deps.recent.settle(claim, batch.keys);
      if (duplicates > 0) deps.metrics.duplicates.inc({ signal }, duplicates);
      if (signal === 'traces') deps.metrics.spansStored.inc(batch.accepted);
      else deps.metrics.logsStored.inc(batch.accepted);
      if (batch.rejected > 0) {
        for (const [reason, count] of Object.entries(batch.rejectedByReason)) deps.metrics.spansRejected.inc({ reason }, count);
        deps.logger.warn({ signal, rejected: batch.rejected, reason: batch.errorMessage }, 'partial success');
      }
      send(res, 200, format, encodeExportResponse(signal, format, batch.rejected, batch.errorMessage));
    } catch (err) {
      const { status, message } = classify(err);
      if (status >= 500 || status === 429) {
        res.setHeader('Retry-After', String(deps.retryAfterSeconds));
        deps.metrics.spansRejected.inc({ reason: err instanceof QueueFullError ? 'queue_full' : 'store_error' });
      }
      if (status >= 500 && !(err instanceof QueueFullError) && !(err instanceof QueueClosedError)) {
        deps.logger.error({ err, signal }, 'could not store request');
      }
      send(res, status, format, encodeStatus(status, message, format));
    }
  };
}

interface Processed {
  batch: ProcessedBatch;
  claim: Claim;
  /** Items already stored by an earlier request (a client's retry): acknowledged, not stored again. */
  duplicates: number;
}

function processTraces(format: OtlpFormat, body: Buffer, deps: OtlpRouteDeps): Processed {
  const spans: DecodedSpan[] = format === 'json' ? decodeTracesJson(body) : decodeTracesProtobuf(body);
  deps.metrics.spansReceived.inc(spans.length);
  const { fresh, claim } = deps.recent.claim(spans.map(spanKey));
  const batch = deps.pipeline.processSpans(fresh.length === spans.length ? spans : fresh.map((i) => spans[i]));
  return { batch, claim, duplicates: spans.length - fresh.length };
}

function processLogs(format: OtlpFormat, body: Buffer, deps: OtlpRouteDeps): Processed {
  const logs: DecodedLogRecord[] = format === 'json' ? decodeLogsJson(body) : decodeLogsProtobuf(body);
  deps.metrics.logsReceived.inc(logs.length);
  const { fresh, claim } = deps.recent.claim(logs.map(logKey));
  const batch = deps.pipeline.processLogs(fresh.length === logs.length ? logs : fresh.map((i) => logs[i]));
  return { batch, claim, duplicates: logs.length - fresh.length };
}

function classify(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof OtlpDecodeError) return { status: 400, message: `cannot decode request: ${err.message}` };
  if (err instanceof BatchTooLargeError) return { status: 413, message: err.message };
  if (err instanceof QueueFullError) return { status: 503, message: `${err.message}; retry later` };
  if (err instanceof QueueClosedError) return { status: 503, message: err.message };
  return { status: 503, message: `storage unavailable: ${(err as Error).message}` };
}

function send(res: Response, status: number, format: OtlpFormat, payload: Uint8Array | string): void {
  res.status(status);
  res.setHeader('Content-Type', contentTypeFor(format));
  res.end(payload);
}
