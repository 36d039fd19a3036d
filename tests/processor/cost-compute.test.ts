// Provider-correct accounting with exact decimals.
import { describe, expect, it } from 'vitest';
import type { GenAiRecord } from '../../processor/src/model.js';
import { computeCost, loadPriceBook, PriceBook } from '../../processor/src/derive/index.js';

const book = loadPriceBook();
const T = Date.parse('2025-10-15T12:00:00Z');

function rec(over: Partial<GenAiRecord>): GenAiRecord {
  return {
    operation: 'chat',
    ragStage: 'generation',
    dialect: 'semconv',
    provider: 'openai',
    requestModel: '',
    responseModel: '',
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheWriteTokens: null,
    reasoningTokens: null,
    usageCounted: true,
    streaming: null,
    ttftMs: null,
    finishReasons: [],
    errorType: '',
    responseId: '',
    conversationId: '',
    sessionId: '',
    userId: '',
    feature: '',
    experiment: '',
    variant: '',
    dataSourceId: '',
    topK: null,
    documents: [],
    reportedCostUsd: null,
    citedDocumentIds: [],
    citationCount: null,
    invalidCitationCount: null,
    responseCacheHit: null,
    queryFingerprint: '',
    queryChars: null,
    queryTokensEstimate: null,
    querySketch: null,
    queryTopic: '',
    contextChunks: null,
    contextChars: null,
    answerConfidence: null,
    answerConfidenceIgnored: null,
    ...over,
  };
}

describe('computeCost', () => {
  it('OpenAI cached tokens are a subset of input: never double counted', () => {
    // gpt-4o-mini: 0.15 input, 0.075 cached, 0.60 output per 1M.
    const c = computeCost(rec({ requestModel: 'gpt-4o-mini', responseModel: 'gpt-4o-mini-2024-07-18', inputTokens: 1200, cacheReadTokens: 1024, outputTokens: 300 }), T, book);
    expect(c).toEqual({
      source: 'computed',
      inputUsd: '0.000026400000', // 176 uncached × 0.15
      cacheReadUsd: '0.000076800000', // 1024 × 0.075
      cacheWriteUsd: null,
      outputUsd: '0.000180000000', // 300 × 0.60
      reasoningUsd: null,
      totalUsd: '0.000283200000',
      priceId: 'openai/gpt-4o-mini',
    });
  });

  it('Anthropic cache read and cache write are each priced at their own rate', () => {
    // claude-sonnet-4: 3.00 input, 0.30 cache read, 3.75 cache write, 15.00 output.
    const c = computeCost(
      rec({ provider: 'anthropic', requestModel: 'claude-sonnet-4-20250514', responseModel: 'claude-sonnet-4-20250514', inputTokens: 5500, cacheReadTokens: 2000, cacheWriteTokens: 500, outputTokens: 800 }),
      T,
      book,
    );
    expect(c).toEqual({
      source: 'computed',
      inputUsd: '0.009000000000', // 3000 uncached × 3.00
      cacheReadUsd: '0.000600000000', // 2000 × 0.30
      cacheWriteUsd: '0.001875000000', // 500 × 3.75
      outputUsd: '0.012000000000', // 800 × 15.00
      reasoningUsd: null,
      totalUsd: '0.023475000000',
      priceId: 'anthropic/claude-sonnet-4',
    });
  });

  it('reasoning tokens are part of output, priced once (at the reasoning price, which defaults to output)', () => {
    // o4-mini: 1.10 input, 0.275 cached, 4.40 output.
    const c = computeCost(rec({ requestModel: 'o4-mini', inputTokens: 1200, cacheReadTokens: 1024, outputTokens: 500, reasoningTokens: 320 }), T, book);
    expect(c).toMatchObject({
      inputUsd: '0.000193600000', // 176 × 1.10
      cacheReadUsd: '0.000281600000', // 1024 × 0.275
      outputUsd: '0.000792000000', // 180 visible × 4.40
      reasoningUsd: '0.001408000000', // 320 × 4.40
      totalUsd: '0.002675200000',
    });
  });

  it('an explicit reasoning price is used for the reasoning part', () => {
    const custom = PriceBook.fromData({
      entries: [{ id: 'x/think', provider: 'x', match: '^think-1$', startDate: '2024-01-01', prices: { input: 1, output: 2, reasoning: 5 } }],
    });
    const c = computeCost(rec({ requestModel: 'think-1', inputTokens: 0, outputTokens: 1000, reasoningTokens: 600 }), T, custom);
    expect(c).toMatchObject({ outputUsd: '0.000800000000', reasoningUsd: '0.003000000000', totalUsd: '0.003800000000' });
  });

  it('tiers: above 200k input tokens the long-context prices apply to the whole request', () => {
    const below = computeCost(rec({ requestModel: 'claude-sonnet-4-5-20250929', inputTokens: 200_000, outputTokens: 1000 }), T, book);
    expect(below).toMatchObject({ inputUsd: '0.600000000000', outputUsd: '0.015000000000', totalUsd: '0.615000000000' });
    const above = computeCost(rec({ requestModel: 'claude-sonnet-4-5-20250929', inputTokens: 200_001, cacheReadTokens: 100_000, outputTokens: 1000 }), T, book);
    // 100001 × 6.00 + 100000 × 0.60 + 1000 × 22.50
    expect(above).toMatchObject({ inputUsd: '0.600006000000', cacheReadUsd: '0.060000000000', outputUsd: '0.022500000000', totalUsd: '0.682506000000' });
    const gemini = computeCost(rec({ requestModel: 'gemini-2.5-pro', inputTokens: 300_000, outputTokens: 2000 }), T, book);
    expect(gemini).toMatchObject({ inputUsd: '0.750000000000', outputUsd: '0.030000000000', priceId: 'google/gemini-2.5-pro' });
  });

  it('start-date versioning: the newest entry not after the span time wins', () => {
    const r = rec({ requestModel: 'gpt-4o', inputTokens: 1_000_000, outputTokens: 1_000_000 });
    expect(computeCost(r, Date.parse('2024-06-01'), book)).toMatchObject({ totalUsd: '20.000000000000', priceId: 'openai/gpt-4o' }); // 5 + 15
    expect(computeCost(r, Date.parse('2024-10-02T00:00:00Z'), book)).toMatchObject({ totalUsd: '12.500000000000' }); // 2.5 + 10, from that day
    expect(computeCost(r, Date.parse('2024-10-01T23:59:59Z'), book)).toMatchObject({ totalUsd: '20.000000000000' });
    expect(computeCost(r, Date.parse('2024-01-01'), book)).toMatchObject({ source: 'unpriced', totalUsd: null }); // before any entry
    const o3 = rec({ requestModel: 'o3-2025-04-16', inputTokens: 1_000_000, outputTokens: 0 });
    expect(computeCost(o3, Date.parse('2025-05-01'), book).totalUsd).toBe('10.000000000000');
    expect(computeCost(o3, Date.parse('2025-07-01'), book).totalUsd).toBe('2.000000000000');
  });

  it('matches the response model first, then the request model', () => {
    // The dated snapshot in the response is billed at its own price, whatever alias was requested.
    const snap = computeCost(rec({ requestModel: 'gpt-4o', responseModel: 'gpt-4o-2024-05-13', inputTokens: 1_000_000 }), T, book);
    expect(snap).toMatchObject({ priceId: 'openai/gpt-4o-2024-05-13', totalUsd: '5.000000000000' });
    // A response model the book does not know (e.g. an Azure deployment name) falls back to the request model.
    const deploy = computeCost(rec({ requestModel: 'gpt-4o-mini', responseModel: 'my-prod-deployment', inputTokens: 1_000_000 }), T, book);
    expect(deploy).toMatchObject({ priceId: 'openai/gpt-4o-mini', totalUsd: '0.150000000000' });
  });

  it('reported cost wins; breakdown is null', () => {
    const c = computeCost(rec({ requestModel: 'gpt-4o', inputTokens: 10, outputTokens: 10, reportedCostUsd: 0.0123 }), T, book);
    expect(c).toEqual({ source: 'reported', totalUsd: '0.012300000000', inputUsd: null, cacheReadUsd: null, cacheWriteUsd: null, outputUsd: null, reasoningUsd: null, priceId: '' });
  });

  it('unknown model → unpriced with null amounts; no usage → none', () => {
    expect(computeCost(rec({ requestModel: 'my-finetune-v9', inputTokens: 10 }), T, book)).toEqual({
      source: 'unpriced',
      totalUsd: null,
      inputUsd: null,
      cacheReadUsd: null,
      cacheWriteUsd: null,
      outputUsd: null,
      reasoningUsd: null,
      priceId: '',
    });
    expect(computeCost(rec({ requestModel: '', inputTokens: 10 }), T, book).source).toBe('unpriced');
    expect(computeCost(rec({ requestModel: 'gpt-4o' }), T, book).source).toBe('none');
  });

  it('exact decimals: one token at $0.075 per 1M tokens', () => {
    const c = computeCost(rec({ requestModel: 'gpt-4o-mini', inputTokens: 1, cacheReadTokens: 1, outputTokens: 0 }), T, book);
    expect(c).toMatchObject({ inputUsd: '0.000000000000', cacheReadUsd: '0.000000075000', outputUsd: '0.000000000000', totalUsd: '0.000000075000' });
    // 3 × 0.1 is not 0.30000000000000004 here.
    const three = computeCost(rec({ requestModel: 'gpt-4.1-nano', inputTokens: 3_000_000 }), T, book);
    expect(three.totalUsd).toBe('0.300000000000');
  });

  it('large amounts beyond 2^53 units stay exact (BigInt path)', () => {
    // o1-pro output 600 / 1M: 100M tokens → 60,000 USD = 6e16 units.
    const c = computeCost(rec({ requestModel: 'o1-pro', inputTokens: 100_000_001, outputTokens: 100_000_000 }), T, book);
    expect(c).toMatchObject({ inputUsd: '15000.000150000000', outputUsd: '60000.000000000000', totalUsd: '75000.000150000000' });
  });

  it('only output reported: input components stay null', () => {
    const c = computeCost(rec({ requestModel: 'gpt-4o-mini', outputTokens: 100 }), T, book);
    expect(c).toMatchObject({ source: 'computed', inputUsd: null, outputUsd: '0.000060000000', totalUsd: '0.000060000000' });
  });

  it('embeddings', () => {
    const c = computeCost(rec({ operation: 'embeddings', requestModel: 'text-embedding-3-small', inputTokens: 1000 }), T, book);
    expect(c).toMatchObject({ totalUsd: '0.000020000000', priceId: 'openai/text-embedding-3-small' });
  });
});
