// The pipeline's GenAI counters (ragscope_genai_spans_total, _unpriced_spans_total, _spans_without_usage_total)
// are added once per batch: their totals must equal what the batches' genai_spans rows say, span by span.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../processor/src/pipeline.js';
import { ProcessorMetrics } from '../../processor/src/metrics.js';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { GENAI_COLUMNS } from '../../processor/src/store/genai-spans-columns.js';
import { MODEL_CALL_OPERATIONS, type DecodedSpan, type GenAiOperation } from '../../processor/src/model.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { testNow } from '../helpers/clock.js';

const column = (name: string) => GENAI_COLUMNS.indexOf(name);

function spansOf(startMs: number): DecodedSpan[] {
  const spans = decodeTraces(buildGenAiTracePayload({ spanCount: 96, startMs }).protobuf);
  return spans.map((span, i) => {
    if (span.attributes['gen_ai.operation.name'] !== 'chat') return span;
    const attributes = { ...span.attributes };
    // Every third chat an unknown model (unpriced), every fifth without usage.
    if (i % 3 === 0) attributes['gen_ai.request.model'] = attributes['gen_ai.response.model'] = `no-such-model-${i % 2}`;
    if (i % 5 === 0) for (const key of Object.keys(attributes)) if (key.startsWith('gen_ai.usage.')) delete attributes[key];
    return { ...span, attributes };
  });
}

describe('GenAI span counters', () => {
  it('equal the counts of the stored rows, by label, over several batches', async () => {
    const metrics = new ProcessorMetrics();
    const pipeline = new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 10_000, rawTtlDays: 30, now: testNow, metrics });
    const byOperation = new Map<string, number>();
    const unpriced = new Map<string, number>();
    let withoutUsage = 0;
    for (let b = 0; b < 3; b++) {
      const batch = pipeline.processSpans(spansOf(testNow() - 600_000 + b * 60_000));
      for (const line of batch.rows.genai_spans as string[]) {
        const row = JSON.parse(line) as unknown[];
        const operation = row[column('Operation')] as GenAiOperation;
        byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
        if (!MODEL_CALL_OPERATIONS.has(operation)) continue;
        if (row[column('InputTokens')] === null && row[column('OutputTokens')] === null) withoutUsage++;
        if (row[column('CostSource')] === 'unpriced') {
          const key = `${row[column('Provider')]}/${row[column('ResponseModel')] || row[column('RequestModel')]}`;
          unpriced.set(key, (unpriced.get(key) ?? 0) + 1);
        }
      }
    }
    expect(byOperation.size).toBeGreaterThan(2);
    expect([...unpriced.keys()].filter((k) => k.includes('no-such-model-')).length).toBeGreaterThanOrEqual(2);
    expect(withoutUsage).toBeGreaterThan(0);

    const counted = (await metrics.genaiSpans.get()).values;
    expect(new Map(counted.map((v) => [v.labels.operation, v.value]))).toEqual(byOperation);
    const unpricedCounted = (await metrics.unpricedSpans.get()).values;
    expect(new Map(unpricedCounted.map((v) => [`${v.labels.provider}/${v.labels.model}`, v.value]))).toEqual(unpriced);
    expect((await metrics.spansWithoutUsage.get()).values[0].value).toBe(withoutUsage);
  });
});
