// Pure parts: redaction, query fingerprint, citation analysis, attribute names shared with the processor.
import { describe, expect, it } from 'vitest';
import { RAGSCOPE_ATTRIBUTES as PROCESSOR_ATTRIBUTES, RAG_STAGES as PROCESSOR_STAGES } from '../../processor/src/normalize/ragscope-attributes.js';
import {
  RAGSCOPE_ATTRIBUTES,
  RAG_STAGES,
  Redactor,
  analyzeCitations,
  captureContentFromEnv,
  defaultRedact,
  estimateTokens,
  fingerprintQuery,
  hammingDistance,
  normalizeQuery,
  simHash64,
  sketchFeatures,
  sketchHex,
} from '../../instrumentation/src/index.js';

describe('default redaction', () => {
  it.each([
    ['write to jane.doe+rag@mail.example.co.uk today', 'write to [REDACTED_EMAIL] today'],
    ['call +1 415 555 0123 or (415) 555-0123', 'call [REDACTED_PHONE] or [REDACTED_PHONE]'],
    ['ring +44 20 7946 0958', 'ring [REDACTED_PHONE]'],
    ['call 4155550123 now', 'call [REDACTED_PHONE] now'],
    ['pay with 4111-1111-1111-1111 or 5500 0000 0000 0004', 'pay with [REDACTED_CARD] or [REDACTED_CARD]'],
    ['card 4012888888881881', 'card [REDACTED_CARD]'],
  ])('%s', (input, expected) => {
    expect(defaultRedact(input)).toBe(expected);
  });

  it.each([
    'on 2024-01-31 at 12:30',
    'version 1.2.3 of the API',
    'order 12345 shipped',
    'ip 10.0.0.12 port 8080',
    'pi is 3.14159',
    'tracking id 1234567890123456 is not a valid card',
  ])('leaves %s alone', (input) => {
    expect(defaultRedact(input)).toBe(input);
  });

  it('redacts string leaves of JSON content but not ids/roles; a failing hook drops the text', () => {
    const r = new Redactor(undefined, true);
    const json = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'me@example.com' }] }, { id: 'call_5551234567', type: 'tool_call', arguments: '{"phone":"415-555-0123"}' }]);
    expect(JSON.parse(r.value(json, 'gen_ai.input.messages') as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: '[REDACTED_EMAIL]' }] },
      { id: 'call_5551234567', type: 'tool_call', arguments: '{"phone":"[REDACTED_PHONE]"}' },
    ]);
    const failing = new Redactor(() => {
      throw new Error('hook bug');
    }, true);
    expect(failing.text('secret', 'x')).toBe('[REDACTED]');
  });

  it('capture switch parses the standard variable', () => {
    expect(captureContentFromEnv({})).toBe(false);
    expect(captureContentFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' })).toBe(true);
    expect(captureContentFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'SPAN_ONLY' })).toBe(true);
    expect(captureContentFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'NO_CONTENT' })).toBe(false);
    expect(captureContentFromEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false' })).toBe(false);
  });
});

describe('query fingerprint', () => {
  it('is stable under case, whitespace and trailing punctuation, and differs for different questions', () => {
    const a = fingerprintQuery('How do I reset my password?', '');
    expect(fingerprintQuery('  how do I   RESET my password ', '').fingerprint).toBe(a.fingerprint);
    expect(fingerprintQuery('How do I reset my email?', '').fingerprint).not.toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(a.chars).toBe(27);
    expect(a.tokensEstimate).toBe(7);
    expect(fingerprintQuery('How do I reset my password?', 'salt').fingerprint).not.toBe(a.fingerprint);
    expect(normalizeQuery('¿Qué   HORA es?')).toBe('qué hora es');
  });

  it('estimates CJK at one token per character', () => {
    expect(estimateTokens('東京はどこ')).toBe(5);
    expect(estimateTokens('')).toBe(0);
  });
});

describe('query sketch (64-bit SimHash of words and word pairs)', () => {
  it('ignores case and punctuation, moves few bits for a rephrasing and about half for another question', () => {
    const a = simHash64('How do I reset my password?');
    expect(simHash64('how do i RESET my password')).toBe(a);
    expect(simHash64('How, do I reset... my password!')).toBe(a);
    expect(sketchFeatures('How do I reset')).toEqual(['how', 'do', 'i', 'reset', 'how do', 'do i', 'i reset']);
    expect(hammingDistance(a, simHash64('How do I reset my password please?'))).toBeLessThanOrEqual(12);
    expect(hammingDistance(a, simHash64('Which regions host the EU data centre for invoices?'))).toBeGreaterThan(16);
    expect(sketchHex(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(BigInt(`0x${sketchHex(a)}`)).toBe(a);
    expect(simHash64('How do I reset my password?', 'salt')).not.toBe(a);
    expect(simHash64('  ?! ')).toBe(0n);
    expect(hammingDistance(0n, (1n << 64n) - 1n)).toBe(64);
  });
});

describe('citations', () => {
  it('handles lists, ranges, repeats, invalid and 0-based numbering', () => {
    const sources = ['a', { id: 'b' }, 'c', 'd'];
    expect(analyzeCitations('A [1]. B [2, 3]. C [1]. D [5][9].', sources)).toEqual({
      citedIds: ['a', 'b', 'c'],
      count: 3,
      invalidRefs: [5, 9],
      invalidCount: 2,
      usageRate: 0.75,
      references: [1, 2, 3, 1, 5, 9],
    });
    expect(analyzeCitations('See [2-4].', sources).citedIds).toEqual(['b', 'c', 'd']);
    expect(analyzeCitations('See [0].', sources)).toMatchObject({ invalidRefs: [0], count: 0 });
    expect(analyzeCitations('See [0].', sources, { base: 0 }).citedIds).toEqual(['a']);
    expect(analyzeCitations('No refs; arr[i] and [x] ignored.', sources)).toMatchObject({ count: 0, usageRate: 0, references: [] });
    expect(analyzeCitations('[1]', [])).toMatchObject({ usageRate: 0, invalidCount: 1 });
  });
});

describe('attribute names', () => {
  it('agree with the processor (same keys, same names, same stages)', () => {
    expect(RAGSCOPE_ATTRIBUTES).toEqual(PROCESSOR_ATTRIBUTES);
    expect([...RAG_STAGES]).toEqual([...PROCESSOR_STAGES]);
  });
});
