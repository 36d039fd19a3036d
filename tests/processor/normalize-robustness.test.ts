// Odd attribute values never throw; a bad value becomes null/''/[]; missing usage stays null (never 0).
import { describe, expect, it } from 'vitest';
import type { AttrValue, Attributes, DecodedSpan } from '../../processor/src/model.js';
import { KNOWN_KEYS, normalizeSpan } from '../../processor/src/normalize/index.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';

function span(attributes: Attributes, opts: Partial<DecodedSpan> = {}): DecodedSpan {
  return {
    origin: { resource: {}, scope: { name: 'test', version: '1', attributes: {} } },
    traceId: 'e'.repeat(32),
    spanId: '1'.repeat(16),
    parentSpanId: '',
    traceState: '',
    name: 'x',
    kind: 3,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes,
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
    ...opts,
  };
}

const ODD_VALUES: AttrValue[] = [
  null,
  '',
  '   ',
  'abc',
  '-5',
  '1e400',
  'NaN',
  '12abc',
  '99999999999999999999999',
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  1e300,
  true,
  false,
  [],
  [1, 'two', null, [3], { a: 1 }],
  {},
  { nested: { deeper: [1, 2, 3] } },
  '[',
  '[{"id":',
  '[{"id": null, "score": "x"}, 5, "str", null]',
  '{"model": ',
  'x'.repeat(100_000),
];

describe('robustness', () => {
  it('every known key with every odd value: no throw, record shape intact', () => {
    const book = loadPriceBook();
    for (const key of KNOWN_KEYS) {
      for (const value of ODD_VALUES) {
        const attrs: Attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', [key]: value };
        let r: ReturnType<typeof normalizeSpan> = null;
        expect(() => (r = normalizeSpan(span(attrs)))).not.toThrow();
        if (r === null) continue;
        const rec = r as NonNullable<ReturnType<typeof normalizeSpan>>;
        for (const n of [rec.inputTokens, rec.outputTokens, rec.cacheReadTokens, rec.cacheWriteTokens, rec.reasoningTokens, rec.topK, rec.ttftMs]) {
          if (n !== null) expect(Number.isFinite(n) && n >= 0).toBe(true);
        }
        expect(Array.isArray(rec.finishReasons) && Array.isArray(rec.documents) && Array.isArray(rec.citedDocumentIds)).toBe(true);
        expect(() => computeCost(rec, Date.parse('2025-01-01'), book)).not.toThrow();
      }
    }
  });

  it('random attribute soup does not throw (fuzz, deterministic seed)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const attrs: Attributes = {};
      const n = 1 + Math.floor(rand() * 12);
      for (let j = 0; j < n; j++) {
        const key = KNOWN_KEYS[Math.floor(rand() * KNOWN_KEYS.length)];
        attrs[key] = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
      }
      if (rand() < 0.3) attrs['retrieval.documents.0.document.id'] = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
      const events = rand() < 0.3 ? [{ name: rand() < 0.5 ? 'exception' : 'db.query.result', timeUnixNano: 1n, attributes: { 'exception.type': ODD_VALUES[i % ODD_VALUES.length], 'db.query.result.id': [] as AttrValue } }] : [];
      expect(() => normalizeSpan(span(attrs, { events, statusCode: i % 3 }))).not.toThrow();
    }
  });

  it('numbers as strings are read, bad numbers become null', () => {
    const r = normalizeSpan(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': ' 120 ',
        'gen_ai.usage.output_tokens': 'lots',
        'gen_ai.usage.cache_read.input_tokens': -3,
        'gen_ai.usage.reasoning.output_tokens': '7.0',
        'gen_ai.response.time_to_first_chunk': 'soon',
        'gen_ai.usage.cost': '-1',
      }),
    )!;
    expect([r.inputTokens, r.outputTokens, r.cacheReadTokens, r.reasoningTokens, r.ttftMs, r.reportedCostUsd]).toEqual([120, null, null, 7, null, null]);
  });

  it('int64 beyond 2^53 arrives as a decimal string and is rejected, not wrapped', () => {
    const r = normalizeSpan(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': '18446744073709551615' }))!;
    expect(r.inputTokens).toBeNull();
  });

  it('missing usage is null, never 0, and costs nothing ("none")', () => {
    const r = normalizeSpan(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' }))!;
    expect([r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.reasoningTokens]).toEqual([null, null, null, null, null]);
    expect(r.usageCounted).toBe(true);
    expect(computeCost(r, Date.parse('2025-01-01'), loadPriceBook())).toMatchObject({ source: 'none', totalUsd: null, priceId: '' });
  });

  it('explicit zeros are kept (reported), unreported siblings stay null', () => {
    const r = normalizeSpan(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 0, 'gen_ai.usage.output_tokens': 0 }))!;
    expect([r.inputTokens, r.outputTokens, r.cacheReadTokens]).toEqual([0, 0, null]);
  });

  it('a missing origin/scope or events array does not throw', () => {
    const s = span({ 'gen_ai.system': 'openai', 'gen_ai.request.model': 'x' });
    (s as unknown as { origin: unknown }).origin = undefined;
    (s as unknown as { events: unknown }).events = undefined;
    expect(() => normalizeSpan(s)).not.toThrow();
  });

  it('scratch state does not leak between spans', () => {
    normalizeSpan(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 5, 'user.id': 'leak', 'retrieval.documents.0.document.id': 'd' }));
    const r = normalizeSpan(span({ 'gen_ai.operation.name': 'chat' }))!;
    expect([r.inputTokens, r.userId, r.documents]).toEqual([null, '', []]);
  });
});
