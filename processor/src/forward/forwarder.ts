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
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * One stored request waiting to be forwarded. It keeps the request's bytes (one off-heap buffer) and the
 * derived attributes of its GenAI spans, not the decoded spans: holding thousands of decoded objects while a
 * downstream is slow or dead would make every garbage collection of the ingest path slower. The spans are
 * decoded again when sent.
 */
interface Entry {
  signal: 'traces' | 'logs';
  raw: RawRequest;
  /** Items to forward (the accepted ones). */
  items: number;
  /** Keys of the accepted items when the request also held refused or duplicate ones; null = all. */
  acceptedKeys: Set<string> | null;
  /** Derived attributes per accepted span, in request order (undefined for non-GenAI spans). */
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
    const entry: Entry = {
      signal,
      raw,
      items: batch.accepted,
      acceptedKeys: batch.accepted === decoded ? null : new Set(batch.keys),
      derived: batch.spans ? batch.spans.map((d) => (d.record ? derivedAttributes(d, tenant) : undefined)) : null,
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

  private drop(entry: Entry, reason: 'queue_full' | 'shutdown'): void {
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
    const body = signal === 'traces' ? encodeTracesRequest(batch.flatMap(spansOf)) : encodeLogsRequest(batch.flatMap(logsOf));
    if (this.options.protocol === 'grpc') await this.sendGrpc(signal, body);
    else await this.sendHttp(signal, body);
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
    if (!res.ok) throw new Error(`downstream answered HTTP ${res.status}`);
  }

  private sendGrpc(signal: 'traces' | 'logs', body: Uint8Array): Promise<void> {
    const client = (this.grpcClients[signal] ??= newGrpcClient(signal, this.options.endpoint));
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(this.options.headers)) metadata.set(k.toLowerCase(), v);
    return new Promise((resolve, reject) => {
      client.Export(Buffer.from(body), metadata, { deadline: Date.now() + this.options.timeoutMs }, (err) => (err ? reject(new Error(`downstream answered gRPC ${err.code}: ${err.details}`)) : resolve()));
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
