// The transport-independent half of an OTLP export: decoded items → duplicate claim → pipeline → write-ahead
// log → settle. OTLP/HTTP (otlp-route.ts) and OTLP/gRPC (grpc-server.ts) both call it, so both transports
// store, de-duplicate, refuse and count exactly alike; they differ only in how they read and answer.
import type { DecodedLogRecord, DecodedSpan } from '../model.js';
import type { Pipeline, ProcessedBatch } from '../pipeline.js';
import { BatchTooLargeError, QueueClosedError, QueueFullError, type WriteQueue } from '../store/write-queue.js';
import type { ProcessorMetrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import { HttpError } from './http-error.js';
import { logKey, spanKey, type Claim, type RecentKeys } from './recent-keys.js';
import { OtlpDecodeError } from './otlp-decode-error.js';

export type Signal = 'traces' | 'logs';

export interface IngestDeps {
  pipeline: Pipeline;
  /** Spans and log records already stored: a retried request adds nothing twice. */
  recent: RecentKeys;
  queue: WriteQueue;
  metrics: ProcessorMetrics;
  logger: Logger;
  /** The tenant whose keys are remembered unprefixed (the single tenant of a deployment without API keys). */
  defaultTenant: string;
  /** Called once a batch is durable (acknowledged): forwarding (forward/) takes it from here, never before. */
  onStored?: (stored: StoredRequest) => void;
}

/** The request as received (decompressed), for consumers that re-read it later (forward/). */
export interface RawRequest {
  format: 'protobuf' | 'json';
  body: Buffer;
}

export interface StoredRequest {
  signal: Signal;
  tenant: string;
  raw: RawRequest;
  batch: ProcessedBatch;
  /** Items in the request (the batch holds the accepted ones: fewer when some were refused or duplicates). */
  decoded: number;
}

export interface IngestResult {
  accepted: number;
  /** partial_success: items refused on their own (the rest was stored). */
  rejected: number;
  errorMessage: string;
}

/**
 * Stores one export request's items for `tenant`. Resolves once the rows are durable in the write-ahead log
 * (acknowledge then); throws OtlpDecodeError / BatchTooLargeError / QueueFullError / QueueClosedError / a
 * store error otherwise, having stored nothing and forgotten what the batch taught the memories.
 */
export async function ingest(signal: Signal, raw: RawRequest, decode: () => DecodedSpan[] | DecodedLogRecord[], tenant: string, deps: IngestDeps): Promise<IngestResult> {
  const items = decode();
  const itemKey = signal === 'traces' ? (s: DecodedSpan) => spanKey(s) : (l: DecodedLogRecord) => logKey(l);
  if (signal === 'traces') deps.metrics.spansReceived.inc(items.length);
  else deps.metrics.logsReceived.inc(items.length);
  // The same span ids sent by two tenants are two spans: the duplicate memory is per tenant.
  const prefix = tenant === deps.defaultTenant ? '' : `${tenant}\u0000`;
  const keys = (items as (DecodedSpan & DecodedLogRecord)[]).map((item) => prefix + itemKey(item));
  const { fresh, claim } = deps.recent.claim(keys);
  const chosen = fresh.length === items.length ? items : fresh.map((i) => items[i]);
  const batch = signal === 'traces' ? deps.pipeline.processSpans(chosen as DecodedSpan[], tenant) : deps.pipeline.processLogs(chosen as DecodedLogRecord[], tenant);
  const storedKeys = prefix === '' ? batch.keys : batch.keys.map((k) => prefix + k);
  // Only what is needed once the rows are durable is kept across the wait: the decoded items and their rows
  // (megabytes per request) can then be collected young, unless forwarding takes them (onStored).
  const { accepted, rejected, errorMessage, rejectedByReason, forget } = batch;
  const decoded = items.length;
  const duplicates = decoded - fresh.length;
  const forwarding = deps.onStored && accepted > 0 ? { signal, tenant, raw, batch, decoded } : undefined;
  // The heavy locals of this function are gone once it returns: the wait happens in finishIngest.
  return finishIngest(deps.queue.enqueue(batch.queueRows ?? batch.rows, storedKeys), { signal, tenant, deps, claim, storedKeys, forget, forwarding, duplicates, accepted, rejected, errorMessage, rejectedByReason });
}

async function finishIngest(
  stored: Promise<void>,
  s: {
    signal: Signal;
    tenant: string;
    deps: IngestDeps;
    claim: Claim;
    storedKeys: string[];
    forget: () => void;
    forwarding: StoredRequest | undefined;
    duplicates: number;
    accepted: number;
    rejected: number;
    errorMessage: string;
    rejectedByReason: Record<string, number>;
  },
): Promise<IngestResult> {
  const { signal, tenant, deps, accepted, rejected, errorMessage } = s;
  try {
    await stored;
  } catch (err) {
    deps.recent.settle(s.claim, []);
    s.forget();
    throw err;
  }
  deps.recent.settle(s.claim, s.storedKeys);
  if (s.forwarding) deps.onStored!(s.forwarding);
  if (s.duplicates > 0) deps.metrics.duplicates.inc({ signal }, s.duplicates);
  if (signal === 'traces') deps.metrics.spansStored.inc(accepted);
  else deps.metrics.logsStored.inc(accepted);
  if (rejected > 0) {
    for (const [reason, count] of Object.entries(s.rejectedByReason)) deps.metrics.spansRejected.inc({ reason }, count);
    deps.logger.warn({ signal, tenant, rejected, reason: errorMessage }, 'partial success');
  }
  return { accepted, rejected, errorMessage };
}

/** Why a request was refused, independent of the transport that must say it. */
export type RefusalKind = 'invalid' | 'unauthenticated' | 'too_large' | 'spool_full' | 'closed' | 'store_error' | 'http';

export interface Refusal {
  kind: RefusalKind;
  message: string;
  /** The HTTP status that says it (gRPC maps the kind to its own code). */
  httpStatus: number;
  /** Whether the client should retry later (Retry-After / RetryInfo). */
  retryable: boolean;
}

/** Classifies what `ingest` (or reading the request) threw, counting and logging it once for both transports. */
export function refusalFor(err: unknown, signal: Signal, deps: Pick<IngestDeps, 'metrics' | 'logger'>): Refusal {
  const refusal = classify(err);
  if (refusal.retryable) deps.metrics.spansRejected.inc({ reason: refusal.kind === 'spool_full' ? 'queue_full' : 'store_error' });
  if (refusal.kind === 'store_error') deps.logger.error({ err, signal }, 'could not store request');
  return refusal;
}

function classify(err: unknown): Refusal {
  if (err instanceof HttpError) {
    const kind: RefusalKind = err.status === 401 ? 'unauthenticated' : err.status === 413 ? 'too_large' : err.status < 500 ? 'invalid' : 'http';
    return { kind, message: err.message, httpStatus: err.status, retryable: err.status >= 500 || err.status === 429 };
  }
  if (err instanceof OtlpDecodeError) return { kind: 'invalid', message: `cannot decode request: ${err.message}`, httpStatus: 400, retryable: false };
  if (err instanceof BatchTooLargeError) return { kind: 'too_large', message: err.message, httpStatus: 413, retryable: false };
  if (err instanceof QueueFullError) return { kind: 'spool_full', message: `${err.message}; retry later`, httpStatus: 503, retryable: true };
  if (err instanceof QueueClosedError) return { kind: 'closed', message: err.message, httpStatus: 503, retryable: true };
  return { kind: 'store_error', message: `storage unavailable: ${(err as Error).message}`, httpStatus: 503, retryable: true };
}
