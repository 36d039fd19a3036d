// Span and trace ids are checked for every span, also when the span before had a valid trace id: the pipeline
// skips the check for a trace id it has just checked (the same string again), never for a different one.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../processor/src/pipeline.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { testNow } from '../helpers/clock.js';

describe('span ids in a batch of one trace', () => {
  it('a bad trace id right after a good one is refused, the spans around it stored', () => {
    const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: testNow });
    const spans = decodeTraces(buildGenAiTracePayload({ spanCount: 16, startMs: testNow() - 60_000 }).protobuf);
    // The decoder hands consecutive spans of one trace the same string: the case the shortcut is for.
    expect(spans[1].traceId).toBe(spans[0].traceId);
    const good = spans[0].traceId;
    const bad = ['', '0'.repeat(32), good.toUpperCase().replace(/[0-9]/, 'A'), good.slice(1), `${good}0`, `${good.slice(0, 31)}g`];
    // First an empty trace id (nothing checked yet), then good, bad, good, bad, …
    const batchSpans = [{ ...spans[15], traceId: '' }, spans[0]];
    for (let i = 0; i < bad.length; i++) batchSpans.push({ ...spans[i + 1], traceId: bad[i] }, spans[i + 8]);
    const batch = pipeline.processSpans(batchSpans);
    expect(batch.rejected).toBe(1 + bad.length);
    expect(batch.rejectedByReason).toEqual({ invalid_id: 1 + bad.length });
    expect(batch.accepted).toBe(1 + bad.length);
    expect(batch.errorMessage).toContain('invalid trace_id ""');
    expect(batch.errorMessage).toContain(`invalid trace_id "${'0'.repeat(32)}"`);
    expect(batch.rows.otel_traces).toHaveLength(1 + bad.length);
  });
});
