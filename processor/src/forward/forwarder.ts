// Forwarding: every stored span and log record goes on downstream over OTLP (http/protobuf or grpc),
// spans enriched with what ragscope derived under ragscope.derived.*. It never holds up ingestion: offer()
// only appends to a bounded in-memory queue (the oldest items are dropped and counted when it is full),
// and one background loop sends batches, retrying with backoff while the downstream fails.
// At-most-once: the queue is not persisted; items still queued at shutdown (after a short grace) are
// dropped and counted. Items are offered only after their request was acknowledged (stored).
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Attributes, DecodedLogRecord } from '../model.js';
import type { DerivedSpan } from '../pipeline.js';
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

type Item = { signal: 'traces'; span: ForwardSpan } | { signal: 'logs'; log: DecodedLogRecord };

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
  private queue: Item[] = [];
  private head = 0;
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

  get depth(): number {
    return this.queue.length - this.head;
  }

  offerSpans(spans: readonly DerivedSpan[], tenant: string): void {
    for (const derived of spans) this.push({ signal: 'traces', span: { span: derived.span, extra: derivedAttributes(derived, tenant) } });
    this.wake?.();
  }

  offerLogs(logs: readonly DecodedLogRecord[]): void {
    for (const log of logs) this.push({ signal: 'logs', log });
    this.wake?.();
  }

  /** Stops after trying to send what is queued for up to `graceMs`; the rest is dropped and counted. */
  async stop(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.depth > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    this.wake?.();
    await this.loop;
    for (let i = this.head; i < this.queue.length; i++) this.metrics.forwardDropped.inc({ signal: this.queue[i].signal, reason: 'shutdown' });
    this.queue = [];
    this.head = 0;
    this.metrics.forwardQueue.set(0);
    for (const client of Object.values(this.grpcClients)) client.close();
  }

  private push(item: Item): void {
    if (this.depth >= this.options.maxQueueItems) {
      const dropped = this.queue[this.head++];
      this.metrics.forwardDropped.inc({ signal: dropped.signal, reason: 'queue_full' });
    }
    this.queue.push(item);
    this.compact();
    this.metrics.forwardQueue.set(this.depth);
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The next batch: consecutive items of one signal from the head (left in the queue until sent). */
  private peekBatch(): Item[] {
    const size = this.options.batchSize ?? 512;
    const first = this.queue[this.head];
    const batch: Item[] = [];
    for (let i = this.head; i < this.queue.length && batch.length < size && this.queue[i].signal === first.signal; i++) batch.push(this.queue[i]);
    return batch;
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.stopped) {
      if (this.depth === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const batch = this.peekBatch();
      const startHead = this.head;
      try {
        await this.send(batch);
        // Items dropped from the head while sending were part of this batch: only remove what is left of it.
        const alreadyDropped = Math.max(0, this.head - startHead);
        this.head += Math.max(0, batch.length - alreadyDropped);
        this.metrics.forwarded.inc({ signal: batch[0].signal }, batch.length - alreadyDropped);
        this.compact();
        this.metrics.forwardQueue.set(this.depth);
        backoff = MIN_BACKOFF_MS;
      } catch (err) {
        this.metrics.forwardFailures.inc({ signal: batch[0].signal });
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

  private async send(batch: Item[]): Promise<void> {
    const signal = batch[0].signal;
    const body =
      signal === 'traces'
        ? encodeTracesRequest(batch.map((i) => (i as Extract<Item, { signal: 'traces' }>).span))
        : encodeLogsRequest(batch.map((i) => (i as Extract<Item, { signal: 'logs' }>).log));
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
