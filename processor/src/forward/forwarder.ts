// Forwarding: every stored span and log record goes on downstream over OTLP (http/protobuf or grpc),
// spans enriched with what ragscope derived under ragscope.derived.*. It never holds up ingestion: offer()
// only appends to a bounded in-memory queue (the oldest requests are dropped and counted when it is full),
// and one background loop sends batches, retrying with backoff while the downstream fails.
// At-most-once: the queue is not persisted; items still queued at shutdown (after a short grace) are
// dropped and counted. Items are offered only after their request was acknowledged (stored).
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Attributes, DecodedLogRecord } from '../model.js';
import type { DerivedSpan } from '../pipeline.js';
import type { RawRequest, StoredRequest } from '../receive/ingest.js';
import { decodeLogs, decodeTraces } from '../receive/protobuf-decoder.js';
import { decodeLogsJson, decodeTracesJson } from '../receive/json-decoder.js';
import { logKey, spanKey } from '../receive/recent-keys.js';
import type { Logger } from '../logger.js';
import type { ProcessorMetrics } from '../metrics.js';
import { LOGS_SERVICE, TRACE_SERVICE } from '../receive/grpc-server.js';
import { encodeLogsRequest, encodeTracesRequest, type ForwardSpan } from './otlp-encode.js';
import { encodeSpanExtras, spliceSpanExtras, type SpanExtras } from './otlp-splice.js';

export type ForwardProtocol = 'http/protobuf' | 'grpc';

export interface ForwardOptions {
  /** http(s)://host:port — OTLP/HTTP appends /v1/traces and /v1/logs; gRPC uses host:port. */
  endpoint: string;
  protocol: ForwardProtocol;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Spans + log records waiting; beyond it the oldest are dropped. */
  maxQueueItems: number;
  /** Items per export request. */
  batchSize?: number;
  /** The signals forwarded (Tempo and Jaeger take traces only); default both. */
  signals?: readonly ('traces' | 'logs')[];
}

/** A downstream answer that says "do not send this again" (OTLP: not a retryable status): the batch is dropped. */
class RejectedError extends Error {}

/** OTLP/HTTP: only these statuses are retried (the specification's list); others reject the data. */
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
/** OTLP/gRPC retryable codes: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]);

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * One stored request waiting to be forwarded. It keeps the request's bytes (one off-heap buffer) and the
 * derived attributes of its GenAI spans already encoded (two objects per request), not the decoded spans nor
 * an object per span: holding thousands of objects while a downstream is slow or dead would make every
 * garbage collection of the ingest path slower. Requests whose every item was accepted (the usual case) are
 * forwarded from their own bytes, enrichment spliced in (otlp-splice.ts); the others are decoded again when sent.
 */
interface Entry {
  signal: 'traces' | 'logs';
  raw: RawRequest;
  /** Items to forward (the accepted ones). */
  items: number;
  /** Forwarded from the received protobuf bytes: every item was accepted. */
  asReceived: boolean;
  /** asReceived traces: the derived attributes per span, encoded (null: no GenAI span). */
  extras: SpanExtras | null;
  /** Other requests: keys of the accepted items (null = all, OTLP/JSON) and derived attributes per accepted span. */
  acceptedKeys: Set<string> | null;
  derived: (Attributes | undefined)[] | null;
}

/** The ragscope.derived.* attributes of a span (GenAI spans only; others forward unchanged). */
export function derivedAttributes({ record, cost }: DerivedSpan, tenant: string): Attributes {
  if (!record) return {};
  const out: Attributes = {
    'ragscope.derived.tenant': tenant,
    'ragscope.derived.operation': record.operation,
    'ragscope.derived.provider': record.provider,
    'ragscope.derived.model': record.responseModel || record.requestModel,
    'ragscope.derived.usage_counted': record.usageCounted,
  };
  if (cost) {
    out['ragscope.derived.cost_source'] = cost.source;
    if (cost.totalUsd !== null) out['ragscope.derived.cost_usd'] = Number(cost.totalUsd);
    if (cost.priceId) out['ragscope.derived.price_id'] = cost.priceId;
  }
  return out;
}

export class Forwarder {
  private queue: Entry[] = [];
  private head = 0;
  private queuedItems = 0;
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly loop: Promise<void>;
  private grpcClients: Partial<Record<'traces' | 'logs', GrpcExportClient>> = {};

  constructor(
    private readonly options: ForwardOptions,
    private readonly metrics: ProcessorMetrics,
    private readonly logger: Logger,
  ) {
    this.loop = this.run();
  }

  /** Spans + log records waiting. */
  get depth(): number {
    return this.queuedItems;
  }

  /** Takes a stored request (ingest.ts onStored): only appends to the queue, never waits. */
  readonly offer = ({ signal, tenant, raw, batch, decoded }: StoredRequest): void => {
    if (this.options.signals && !this.options.signals.includes(signal)) return;
    const allAccepted = batch.accepted === decoded;
    const asReceived = allAccepted && raw.format === 'protobuf';
    const derived = batch.spans ? batch.spans.map((d) => (d.record ? derivedAttributes(d, tenant) : undefined)) : null;
    const entry: Entry = {
      signal,
      raw,
      items: batch.accepted,
      asReceived,
      extras: asReceived && derived ? encodeSpanExtras(derived) : null,
      acceptedKeys: allAccepted ? null : new Set(batch.keys),
      derived: asReceived ? null : derived,
    };
    this.queue.push(entry);
    this.queuedItems += entry.items;
    // Drop the oldest requests (a batch being sent included) until the queue is within its bound.
    while (this.queuedItems > this.options.maxQueueItems && this.head < this.queue.length) this.drop(this.queue[this.head++], 'queue_full');
    this.compact();
    this.metrics.forwardQueue.set(this.queuedItems);
    this.wake?.();
  };

  /** Stops after trying to send what is queued for up to `graceMs`; the rest is dropped and counted. */
  async stop(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.queuedItems > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    this.wake?.();
    await this.loop;
    while (this.head < this.queue.length) this.drop(this.queue[this.head++], 'shutdown');
    this.queue = [];
    this.head = 0;
    this.metrics.forwardQueue.set(0);
    for (const client of Object.values(this.grpcClients)) client.close();
  }

  private drop(entry: Entry, reason: 'queue_full' | 'shutdown' | 'rejected'): void {
    this.queuedItems -= entry.items;
    this.metrics.forwardDropped.inc({ signal: entry.signal, reason }, entry.items);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The next batch: consecutive requests of one signal from the head, up to batchSize items (at least one request). */
  private peekBatch(): Entry[] {
    const size = this.options.batchSize ?? 512;
    const first = this.queue[this.head];
    const batch: Entry[] = [first];
    let items = first.items;
    for (let i = this.head + 1; i < this.queue.length && this.queue[i].signal === first.signal && items + this.queue[i].items <= size; i++) {
      batch.push(this.queue[i]);
      items += this.queue[i].items;
    }
    return batch;
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.stopped) {
      if (this.head >= this.queue.length) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const batch = this.peekBatch();
      const signal = batch[0].signal;
      try {
        await this.send(signal, batch);
        // Requests dropped from the head while sending were counted as dropped: remove only what is still queued.
        for (const entry of batch) {
          if (this.queue[this.head] !== entry) continue;
          this.head++;
          this.queuedItems -= entry.items;
          this.metrics.forwarded.inc({ signal }, entry.items);
        }
        this.compact();
        this.metrics.forwardQueue.set(this.queuedItems);
        backoff = MIN_BACKOFF_MS;
      } catch (err) {
        this.metrics.forwardFailures.inc({ signal });
        if (err instanceof RejectedError) {
          // Retrying would be refused again and hold up everything queued behind: drop it, counted.
          this.logger.warn({ err: err.message, endpoint: this.options.endpoint, signal }, 'forwarding: downstream rejected a batch; dropped');
          for (const entry of batch) if (this.queue[this.head] === entry) this.drop(this.queue[this.head++], 'rejected');
          this.compact();
          this.metrics.forwardQueue.set(this.queuedItems);
          backoff = MIN_BACKOFF_MS;
          continue;
        }
        this.logger.warn({ err: (err as Error).message, endpoint: this.options.endpoint, retryInMs: backoff }, 'forwarding failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.wake = () => {
            if (this.stopped) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
        this.wake = undefined;
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  private async send(signal: 'traces' | 'logs', batch: Entry[]): Promise<void> {
    const body = requestBody(signal, batch, this.logger);
    for (const [how, items] of Object.entries(body.items)) if (items > 0) this.metrics.forwardEncoded.inc({ signal, how }, items);
    if (this.options.protocol === 'grpc') await this.sendGrpc(signal, body.bytes);
    else await this.sendHttp(signal, body.bytes);
  }
  private async sendHttp(signal: 'traces' | 'logs', body: Uint8Array): Promise<void> {
    const url = `${this.options.endpoint.replace(/\/+$/, '')}/v1/${signal}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...this.options.headers },
      body: body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new (RETRYABLE_HTTP.has(res.status) ? Error : RejectedError)(`downstream answered HTTP ${res.status}`);
  }

  private sendGrpc(signal: 'traces' | 'logs', body: Uint8Array): Promise<void> {
    const client = (this.grpcClients[signal] ??= newGrpcClient(signal, this.options.endpoint));
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(this.options.headers)) metadata.set(k.toLowerCase(), v);
    return new Promise((resolve, reject) => {
      client.Export(Buffer.from(body), metadata, { deadline: Date.now() + this.options.timeoutMs }, (err) =>
        err ? reject(new (RETRYABLE_GRPC.has(err.code) ? Error : RejectedError)(`downstream answered gRPC ${err.code}: ${err.details}`)) : resolve());
    });
  }
}

interface GrpcExportClient {
  Export(req: Buffer, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null) => void): void;
  close(): void;
}

function newGrpcClient(signal: 'traces' | 'logs', endpoint: string): GrpcExportClient {
  const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  const Client = makeGenericClientConstructor(signal === 'traces' ? TRACE_SERVICE : LOGS_SERVICE, 'Export');
  const creds = url.protocol === 'https:' ? credentials.createSsl() : credentials.createInsecure();
  return new Client(url.host, creds) as unknown as GrpcExportClient;
}

/**
 * One export request for a batch: the requests' own bytes when every item was accepted (traces with the
 * derived attributes spliced in, otlp-splice.ts); requests that also held refused or duplicate items, and
 * OTLP/JSON ones, are decoded and encoded again. Serialized export requests concatenate into one (protobuf
 * merges their repeated resource_spans / resource_logs).
 */
function requestBody(signal: 'traces' | 'logs', batch: Entry[], logger: Logger): { bytes: Buffer; items: Record<'verbatim' | 'spliced' | 'reencoded', number> } {
  const chunks: Uint8Array[] = [];
  const items = { verbatim: 0, spliced: 0, reencoded: 0 };
  for (const entry of batch) {
    if (!entry.asReceived) {
      chunks.push(signal === 'traces' ? encodeTracesRequest(spansOf(entry)) : encodeLogsRequest(logsOf(entry)));
      items.reencoded += entry.items;
    } else if (!entry.extras) {
      chunks.push(entry.raw.body);
      items.verbatim += entry.items;
    } else {
      const spliced = spliceSpanExtras(entry.raw.body, entry.extras);
      if (spliced.spans === entry.extras.ends.length) {
        for (const chunk of spliced.chunks) chunks.push(chunk);
        items.spliced += entry.items;
      } else {
        // The decoder met these spans in this order, so this cannot happen; if it did, enrichment would land
        // on the wrong spans: forward them as received instead.
        logger.error({ spans: spliced.spans, derived: entry.extras.ends.length }, 'forwarding: span count mismatch, forwarding without enrichment');
        chunks.push(entry.raw.body);
        items.verbatim += entry.items;
      }
    }
  }
  return { bytes: Buffer.concat(chunks), items };
}

/** The accepted spans of a queued request, decoded again, each with its derived attributes. */
function spansOf(entry: Entry): ForwardSpan[] {
  const all = entry.raw.format === 'json' ? decodeTracesJson(entry.raw.body) : decodeTraces(entry.raw.body);
  const accepted = entry.acceptedKeys ? firstOfEach(all, entry.acceptedKeys, spanKey) : all;
  return accepted.map((span, i) => ({ span, extra: entry.derived?.[i] ?? {} }));
}

function logsOf(entry: Entry): DecodedLogRecord[] {
  const all = entry.raw.format === 'json' ? decodeLogsJson(entry.raw.body) : decodeLogs(entry.raw.body);
  return entry.acceptedKeys ? firstOfEach(all, entry.acceptedKeys, logKey) : all;
}

/** The items whose key was accepted, first occurrence only (as recent-keys.ts claimed them). */
function firstOfEach<T>(items: T[], accepted: ReadonlySet<string>, keyOf: (item: T) => string): T[] {
  const pending = new Set(accepted);
  return items.filter((item) => pending.delete(keyOf(item)));
}
