// The synthetic traffic generator: deterministic, realistic in the ways the analytics tests rely on, and its
// direct-to-store mode builds exactly the decoded spans the processor gets from the OTLP bytes it sends.
import { testNow } from '../helpers/clock.js';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { PriceBook } from '../../processor/src/derive/index.js';
import {
  encodeLogs,
  encodeTraces,
  generateDataset,
  logRecordsOf,
  orderedSpans,
  syntheticPriceBook,
  toDecodedLog,
  toDecodedSpan,
} from '../../tools/synthetic/index.js';
import { startOfCurrentHourMs } from '../../tools/synthetic/index.js';

const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('synthetic traffic generator', () => {
  it('is deterministic: same seed, same traffic; another seed, other traffic', () => {
    const a = generateDataset({ seed: 7, requests: 200, endMs: Date.UTC(2025, 0, 10) });
    const b = generateDataset({ seed: 7, requests: 200, endMs: Date.UTC(2025, 0, 10) });
    const c = generateDataset({ seed: 8, requests: 200, endMs: Date.UTC(2025, 0, 10) });
    expect(json(a)).toBe(json(b));
    expect(json(a)).not.toBe(json(c));
  });

  it('never uses Math.random', () => {
    const files = readdirSync('tools/synthetic').filter((f) => f.endsWith('.ts'));
    expect(files).toContain('prng.ts');
    for (const f of files) {
      const code = readFileSync(`tools/synthetic/${f}`, 'utf8').replace(/\/\/.*$/gm, '');
      expect(code, f).not.toMatch(/Math\.random/);
    }
  });

  it('covers what the analytics need: stages, errors, 429s, cache hits, streaming, experiments, feedback, evaluations', () => {
    const ds = generateDataset({ seed: 'shape', requests: 3000, days: 7, endMs: startOfCurrentHourMs(testNow()) });
    const spans = ds.requests.flatMap((r) => r.spans);
    const share = (n: number) => n / ds.requests.length;
    expect(new Set(spans.map((s) => s.stage))).toEqual(new Set(['request', 'embedding', 'retrieval', 'rerank', 'context_assembly', 'generation', 'post_processing']));
    expect(share(ds.requests.filter((r) => r.cacheHit).length)).toBeGreaterThan(0.03);
    expect(share(ds.requests.filter((r) => r.failed).length)).toBeGreaterThan(0.005);
    expect(spans.filter((s) => s.rateLimited).length).toBeGreaterThan(20);
    expect(spans.filter((s) => s.ttftMs !== null).length).toBeGreaterThan(500);
    expect(spans.some((s) => (s.usage?.reasoning ?? 0) > 0)).toBe(true);
    expect(spans.some((s) => (s.usage?.cacheWrite ?? 0) > 0)).toBe(true);
    expect(spans.some((s) => s.documents?.length === 0)).toBe(true);
    expect(new Set(ds.requests.map((r) => `${r.experiment}/${r.variant}`))).toEqual(new Set(['prompt-v2/control', 'prompt-v2/concise', 'reranker/off', 'reranker/on', '/']));
    expect(ds.feedback.some((f) => f.versions.length > 1)).toBe(true);
    expect(new Set(ds.feedback.map((f) => `${f.channel}/${f.linkBy}`)).size).toBe(4);
    expect(ds.evaluations.some((e) => e.predicted && e.actual && e.predicted !== e.actual)).toBe(true);
    // Spread over the window so hourly and daily rollups get many buckets.
    expect(new Set(ds.requests.map((r) => Math.floor(Number(r.startNs / 3_600_000_000_000n)))).size).toBeGreaterThan(100);
    for (const r of ds.requests) expect(Number(r.startNs / 1_000_000n)).toBeGreaterThanOrEqual(ds.fromMs);
  });

  it('direct mode decodes to exactly what the processor decodes from the OTLP protobuf bytes, and to the same rows', () => {
    const ds = generateDataset({ seed: 'wire', requests: 60, days: 1, endMs: startOfCurrentHourMs(testNow()) });
    const items = orderedSpans(ds);
    const fromWire = decodeTraces(encodeTraces(items));
    const direct = items.map(toDecodedSpan);
    const strip = (s: ReturnType<typeof toDecodedSpan>) => ({ ...s, origin: { resource: s.origin.resource, scope: { name: s.origin.scope.name, version: s.origin.scope.version } } });
    const byId = new Map(fromWire.map((s) => [s.spanId, s]));
    expect(direct.length).toBeGreaterThan(100);
    expect(fromWire.length).toBe(direct.length);
    for (const d of direct) expect(json(strip(byId.get(d.spanId)!))).toBe(json(strip(d)));
    const book = PriceBook.fromData(JSON.parse(readFileSync('processor/pricebook/default-prices.json', 'utf8')), syntheticPriceBook());
    const rows = (spans: typeof direct) => {
      const p = new Pipeline({ priceBook: book, tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30 });
      return p.processSpans(spans).rows.genai_spans!.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).sort();
    };
    expect(rows(fromWire)).toEqual(rows([...byId.keys()].map((id) => direct.find((d) => d.spanId === id)!)));

    const logs = logRecordsOf(ds);
    expect(logs.length).toBeGreaterThan(0);
    const logsFromWire = decodeLogs(encodeLogs(logs));
    // The serializer groups records by resource and scope, so compare as sets.
    expect(logsFromWire.map((l) => json({ ...l, origin: null })).sort()).toEqual(logs.map(toDecodedLog).map((l) => json({ ...l, origin: null })).sort());
  });
});
