// Price-book loading, validation and precedence.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GenAiRecord } from '../../processor/src/model.js';
import { computeCost, DEFAULT_PRICES_FILE, loadPriceBook, PriceBook, PriceBookError } from '../../processor/src/derive/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function userFile(content: unknown): string {
  const file = join(dir, `prices-${++n}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const T = Date.parse('2025-10-15');
const base: GenAiRecord = {
  operation: 'chat', ragStage: '', dialect: 'semconv', provider: 'openai', requestModel: '', responseModel: '',
  inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: null, cacheWriteTokens: null, reasoningTokens: null,
  usageCounted: true, streaming: null, ttftMs: null, finishReasons: [], errorType: '', responseId: '', conversationId: '',
  sessionId: '', userId: '', feature: '', experiment: '', variant: '', dataSourceId: '', topK: null, documents: [],
  reportedCostUsd: null, citedDocumentIds: [], citationCount: null, invalidCitationCount: null, responseCacheHit: null,
  queryFingerprint: '', queryChars: null, queryTokensEstimate: null, querySketch: null, queryTopic: '', contextChunks: null, contextChars: null,
  answerConfidence: null, answerConfidenceIgnored: null,
};

describe('built-in price book', () => {
  it('loads and validates; covers the required models', () => {
    const book = loadPriceBook();
    const models = [
      'gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o1', 'o3', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano',
      'text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002',
      'claude-3-5-sonnet-20241022', 'claude-3-7-sonnet-20250219', 'claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514',
      'claude-sonnet-4-5-20250929', 'claude-opus-4-20250514', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001',
      'gemini-1.5-pro', 'gemini-1.5-flash', 'gemini-2.0-flash', 'gemini-2.5-pro', 'gemini-2.5-flash', 'text-embedding-004',
      'mistral-large-latest', 'mistral-small-latest', 'codestral-latest', 'mistral-embed', 'embed-english-v3.0',
    ];
    for (const m of models) expect({ m, found: book.find(m, T) !== null }).toEqual({ m, found: true });
    // Near-miss names must not match a sibling model's entry.
    expect(book.find('claude-sonnet-4-5', T)!.id).toBe('anthropic/claude-sonnet-4-5');
    expect(book.find('claude-sonnet-4', T)!.id).toBe('anthropic/claude-sonnet-4');
    expect(book.find('gemini-2.5-flash-lite', T)!.id).toBe('google/gemini-2.5-flash-lite');
    expect(book.find('gpt-4o-mini-2024-07-18', T)!.id).toBe('openai/gpt-4o-mini');
    expect(book.find('us.anthropic.claude-3-5-sonnet-20241022-v2:0', T)!.id).toBe('anthropic/claude-3-5-sonnet');
    expect(book.find('gpt-4o-realtime-preview', T)).toBeNull();
  });

  it('reference list prices', () => {
    const book = loadPriceBook();
    const usd = (m: string) => {
      const e = book.find(m, T)!;
      return { input: e.prices.input / 1e6, cacheRead: e.prices.cacheRead / 1e6, cacheWrite: e.prices.cacheWrite / 1e6, output: e.prices.output / 1e6 };
    };
    expect(usd('gpt-4o')).toEqual({ input: 2.5, cacheRead: 1.25, cacheWrite: 2.5, output: 10 });
    expect(usd('gpt-4o-mini')).toEqual({ input: 0.15, cacheRead: 0.075, cacheWrite: 0.15, output: 0.6 });
    expect(usd('text-embedding-3-small').input).toBe(0.02);
    expect(usd('claude-sonnet-4-20250514')).toEqual({ input: 3, cacheRead: 0.3, cacheWrite: 3.75, output: 15 });
  });

  it('has at least one model with a price change (two start dates)', () => {
    const raw = JSON.parse(readFileSync(DEFAULT_PRICES_FILE, 'utf8')) as { entries: { id: string; startDate: string }[] };
    const dates = new Map<string, Set<string>>();
    for (const e of raw.entries) dates.set(e.id, (dates.get(e.id) ?? new Set()).add(e.startDate));
    expect([...dates.values()].some((s) => s.size >= 2)).toBe(true);
  });
});

describe('user price file', () => {
  it('user entries win over built-in matches, and extend the book', () => {
    const file = userFile({
      entries: [
        { id: 'acme/gpt-4o-mini-negotiated', provider: 'openai', match: '(?i)^(openai/)?gpt-4o-mini(-\\d{4}-\\d{2}-\\d{2})?$', startDate: '2024-01-01', prices: { input: '0.10', output: '0.40', cacheRead: 0.05 } },
        { id: 'acme/llama-local', provider: 'ollama', match: '^llama3\\.1:8b$', startDate: '2024-01-01', prices: { input: 0, output: 0 } },
      ],
    });
    const book = loadPriceBook(file);
    const c = computeCost({ ...base, requestModel: 'gpt-4o-mini' }, T, book);
    expect(c).toMatchObject({ priceId: 'acme/gpt-4o-mini-negotiated', totalUsd: '0.500000000000' });
    expect(computeCost({ ...base, requestModel: 'llama3.1:8b' }, T, book)).toMatchObject({ source: 'computed', totalUsd: '0.000000000000' });
    // Built-in entries are still there for everything else.
    expect(computeCost({ ...base, requestModel: 'gpt-4o' }, T, book).priceId).toBe('openai/gpt-4o');
  });

  it('a user entry with a built-in id replaces that entry (all its dates)', () => {
    const file = userFile([{ id: 'openai/gpt-4o', provider: 'openai', match: '(?i)^gpt-4o$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }]);
    const book = loadPriceBook(file);
    expect(computeCost({ ...base, requestModel: 'gpt-4o' }, Date.parse('2024-06-01'), book).totalUsd).toBe('2.000000000000');
    expect(computeCost({ ...base, requestModel: 'gpt-4o' }, T, book).totalUsd).toBe('2.000000000000');
  });

  it('a user entry that starts after the span time does not apply; the built-in one does', () => {
    const file = userFile({ entries: [{ id: 'future', provider: 'openai', match: '^gpt-4o$', startDate: '2030-01-01', prices: { input: 1, output: 1 } }] });
    const book = loadPriceBook(file);
    expect(computeCost({ ...base, requestModel: 'gpt-4o' }, T, book).priceId).toBe('openai/gpt-4o');
    expect(computeCost({ ...base, requestModel: 'gpt-4o' }, Date.parse('2031-01-01'), book).priceId).toBe('future');
  });

  it('tiers in a user file inherit the base prices they do not override', () => {
    const book = PriceBook.fromData({ entries: [] }, {
      entries: [{ id: 't', provider: 'p', match: '^m$', startDate: '2024-01-01', prices: { input: 1, output: 2, cacheRead: 0.1 }, tiers: [{ when: { inputTokensAbove: 1000 }, prices: { input: 2 } }, { when: { inputTokensAbove: 10 }, prices: { output: 3 } }] }],
    });
    const e = book.find('m', T)!;
    expect(e.tiers.map((t) => [t.inputTokensAbove, t.prices.input, t.prices.output, t.prices.cacheRead])).toEqual([
      [1000, 2_000_000, 2_000_000, 100_000],
      [10, 1_000_000, 3_000_000, 100_000],
    ]);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a price that is not a number', { entries: [{ id: 'bad-1', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 'cheap', output: 1 } }] }, /entry #0 \(id "bad-1"\): prices\.input: "cheap" is not a plain non-negative decimal/],
    ['a missing output price', { entries: [{ id: 'ok', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }, { id: 'bad-2', provider: 'x', match: '^y$', startDate: '2024-01-01', prices: { input: 1 } }] }, /entry #1 \(id "bad-2"\): prices\.output: /],
    ['a misspelt field', { entries: [{ id: 'bad-3', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 1, output: 1, cache_read: 0.5 } }] }, /entry #0 \(id "bad-3"\): prices: .*cache_read/],
    ['an invalid regex', { entries: [{ id: 'bad-4', provider: 'x', match: '(?i)^gpt-(4o$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }] }, /entry #0 \(id "bad-4"\): match: invalid regex/],
    ['an unsupported inline flag', { entries: [{ id: 'bad-5', provider: 'x', match: '(?s)^x$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }] }, /entry #0 \(id "bad-5"\): match: .*unsupported inline flags/],
    ['a bad start date', { entries: [{ id: 'bad-6', provider: 'x', match: '^x$', startDate: '01/02/2024', prices: { input: 1, output: 1 } }] }, /entry #0 \(id "bad-6"\): startDate: "01\/02\/2024" is not an ISO date/],
    ['sub-micro-dollar precision', { entries: [{ id: 'bad-7', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 0.0000001, output: 1 } }] }, /entry #0 \(id "bad-7"\): prices\.input: .*more than 6 decimal places/],
    ['a negative price', { entries: [{ id: 'bad-8', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: -1, output: 1 } }] }, /entry #0 \(id "bad-8"\): prices\.input: must be a non-negative number/],
    ['a bad tier', { entries: [{ id: 'bad-9', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 1, output: 1 }, tiers: [{ when: { inputTokens: 5 }, prices: {} }] }] }, /entry #0 \(id "bad-9"\): tiers\.0\.when/],
    ['no entries array', { prices: [] }, /entries/],
    ['duplicate id and date', { entries: [{ id: 'd', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }, { id: 'd', provider: 'x', match: '^x$', startDate: '2024-01-01', prices: { input: 1, output: 1 } }] }, /entry #1 \(id "d"\): duplicate id/],
    ['not JSON', '{ "entries": [ ', /not valid JSON/],
  ];
  for (const [what, content, message] of invalid) {
    it(`rejects ${what} with an error naming the file and the entry/field`, () => {
      const file = userFile(content);
      let err: unknown;
      try {
        loadPriceBook(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PriceBookError);
      const msg = (err as Error).message;
      expect(msg).toContain(file);
      expect(msg).toMatch(message);
    });
  }

  it('a missing file is a clear error', () => {
    expect(() => loadPriceBook(join(dir, 'nope.json'))).toThrow(/cannot read price book .*nope\.json/);
  });
});
