// Sends a synthetic dataset through a running processor over HTTP: spans as OTLP/HTTP protobuf to
// /v1/traces, feedback and evaluation events as OTLP/HTTP protobuf to /v1/logs, API feedback as JSON to
// /v1/feedback. Retries 429/503 answers after Retry-After, like an OTLP exporter.
import { Prng } from './prng.js';
import type { SynthDataset, SynthFeedback } from './model.js';
import {
  encodeLogs,
  encodeTraces,
  evaluationLogRecords,
  feedbackApiBodies,
  feedbackLogRecords,
  type SpanWithRequest,
  type SynthLogRecord,
} from './otlp.js';

export interface SendOptions {
  /** Spans per OTLP request. Default 1000. */
  batchSpans?: number;
  /** Log records per OTLP request. Default 500. */
  batchLogs?: number;
  /**
   * Span order: 'natural' = request by request, root first; 'children-first' = each request's spans
   * reversed (children before their root); 'shuffled' = all spans in a seeded random order, so children
   * arrive before roots and one request is split across batches. Default 'natural'.
   */
  order?: 'natural' | 'children-first' | 'shuffled';
  /** Send feedback and evaluations before the spans they refer to. Default false. */
  feedbackFirst?: boolean;
  /** Parallel HTTP requests. Default 2. */
  concurrency?: number;
  /** Seed for the shuffled order. */
  seed?: string | number;
  /** Accept answers that refuse some spans (partial success). Default false: a loader that loses data fails. */
  allowRejected?: boolean;
  /** Only these parts. Default all. */
  parts?: { traces?: boolean; logs?: boolean; api?: boolean };
}

export interface SendStats {
  spans: number;
  traceRequests: number;
  logRecords: number;
  logRequests: number;
  apiFeedback: number;
  retries: number;
  /** feedback key → feedback_id the API answered (for feedback sent without a client id). */
  apiFeedbackIds: Map<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: Uint8Array<ArrayBuffer> | string, contentType: string, stats: SendStats): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
    if ((res.status === 429 || res.status === 503) && attempt < 30) {
      await res.arrayBuffer();
      stats.retries++;
      const after = Number(res.headers.get('retry-after') ?? '1');
      await sleep(Math.min(5000, Math.max(50, after * 1000 * (attempt < 3 ? 0.25 : 1))));
      continue;
    }
    return res;
  }
}

async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]);
    }
  });
  await Promise.all(workers);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Spans of the dataset in the requested order. */
export function orderedSpans(ds: SynthDataset, order: SendOptions['order'] = 'natural', seed: string | number = ds.seed): SpanWithRequest[] {
  const all: SpanWithRequest[] = [];
  for (const request of ds.requests) {
    const spans = order === 'children-first' ? [...request.spans].reverse() : request.spans;
    for (const span of spans) all.push({ span, request });
  }
  if (order === 'shuffled') {
    const rng = new Prng(`shuffle:${seed}`);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
  }
  return all;
}

export function logRecordsOf(ds: SynthDataset): SynthLogRecord[] {
  const env = new Map(ds.requests.map((r) => [r.traceId, r.environment]));
  const environmentOf = (traceId: string) => env.get(traceId) ?? 'production';
  const records = [...feedbackLogRecords(ds.feedback, environmentOf), ...evaluationLogRecords(ds.evaluations, environmentOf)];
  // Time order, like an application emitting them (versions of one feedback in order).
  return records.sort((a, b) => a.timeMs - b.timeMs);
}

async function sendTraces(baseUrl: string, spans: SpanWithRequest[], opts: SendOptions, stats: SendStats): Promise<void> {
  const batches = chunk(spans, opts.batchSpans ?? 1000);
  await runPool(batches, opts.concurrency ?? 2, async (batch) => {
    const res = await post(`${baseUrl}/v1/traces`, encodeTraces(batch), 'application/x-protobuf', stats);
    if (res.status !== 200) throw new Error(`POST /v1/traces answered ${res.status}: ${await res.text()}`);
    // An empty ExportTraceServiceResponse is full success; anything else carries partial_success (spans refused).
    const answer = Buffer.from(await res.arrayBuffer());
    if (answer.length > 0 && !opts.allowRejected) throw new Error(`POST /v1/traces refused spans: ${answer.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim()}`);
    stats.spans += batch.length;
    stats.traceRequests++;
  });
}

async function sendLogs(baseUrl: string, records: SynthLogRecord[], opts: SendOptions, stats: SendStats): Promise<void> {
  const batches = chunk(records, opts.batchLogs ?? 500);
  // Sequential: versions of one feedback id must not race (OTLP versions are ordered by event time anyway).
  for (const batch of batches) {
    const res = await post(`${baseUrl}/v1/logs`, encodeLogs(batch), 'application/x-protobuf', stats);
    if (res.status !== 200) throw new Error(`POST /v1/logs answered ${res.status}: ${await res.text()}`);
    const answer = Buffer.from(await res.arrayBuffer());
    if (answer.length > 0 && !opts.allowRejected) throw new Error(`POST /v1/logs refused records: ${answer.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim()}`);
    stats.logRecords += batch.length;
    stats.logRequests++;
  }
}

async function sendApiFeedback(baseUrl: string, feedback: readonly SynthFeedback[], opts: SendOptions, stats: SendStats): Promise<void> {
  const bodies = feedbackApiBodies(feedback);
  // Versions of one feedback id in order; different ids in parallel.
  const byFeedback = new Map<string, typeof bodies>();
  for (const b of bodies) {
    const list = byFeedback.get(b.fb.key);
    if (list) list.push(b);
    else byFeedback.set(b.fb.key, [b]);
  }
  await runPool([...byFeedback.values()], opts.concurrency ?? 2, async (versions) => {
    for (const { fb, body } of versions) {
      const res = await post(`${baseUrl}/v1/feedback`, JSON.stringify(body), 'application/json', stats);
      const answer = (await res.json()) as { feedback_id?: string; error?: string; fields?: unknown };
      if (res.status !== 201 || !answer.feedback_id) {
        throw new Error(`POST /v1/feedback answered ${res.status}: ${JSON.stringify(answer)} for ${JSON.stringify(body)}`);
      }
      stats.apiFeedbackIds.set(fb.key, answer.feedback_id);
      stats.apiFeedback++;
    }
  });
}

/** Sends the whole dataset; resolves when everything the processor acknowledged is queryable. */
export async function sendDataset(baseUrl: string, ds: SynthDataset, opts: SendOptions = {}): Promise<SendStats> {
  const stats: SendStats = { spans: 0, traceRequests: 0, logRecords: 0, logRequests: 0, apiFeedback: 0, retries: 0, apiFeedbackIds: new Map() };
  const parts = { traces: true, logs: true, api: true, ...opts.parts };
  const feedbackPart = async () => {
    if (parts.logs) await sendLogs(baseUrl, logRecordsOf(ds), opts, stats);
    if (parts.api) await sendApiFeedback(baseUrl, ds.feedback, opts, stats);
  };
  if (opts.feedbackFirst) await feedbackPart();
  if (parts.traces) await sendTraces(baseUrl, orderedSpans(ds, opts.order, opts.seed), opts, stats);
  if (!opts.feedbackFirst) await feedbackPart();
  await waitUntilStored(baseUrl);
  return stats;
}

/**
 * Waits until everything the processor acknowledged is queryable (POST /v1/flush): acknowledgement means
 * "safe in the processor's write-ahead log", not yet "in ClickHouse".
 */
export async function waitUntilStored(baseUrl: string, timeoutMs = 120_000): Promise<void> {
  const res = await fetch(`${baseUrl.replace(/\/$/, '')}/v1/flush?timeout_ms=${timeoutMs}`, { method: 'POST' });
  if (!res.ok) throw new Error(`processor did not store what it acknowledged: ${res.status} ${await res.text()}`);
}
