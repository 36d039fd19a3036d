// The check that keeps a value ClickHouse cannot store out of genai_spans: the fast path (fields read directly, a
// hand-written decimal check) must refuse exactly what the named lists and the regular expression refuse.
import { describe, expect, it } from 'vitest';
import { COST_FIELDS, isStorableDecimal, STORABLE_DECIMAL, UINT32_FIELDS, unstorableReason } from '../../processor/src/store/storable.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';
import { decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import type { CostResult, GenAiRecord } from '../../processor/src/model.js';

describe('isStorableDecimal', () => {
  it('answers as the regular expression does', () => {
    const fixed = ['', '0', '00', '0.0', '1.', '.5', '-1', '-0.5', '1e+30', '1e-7', '4.2e-7', ' 1', '1 ', '0.000000420000', '0.0000004200001', '1.000000000000', `${'9'.repeat(26)}.5`, `${'9'.repeat(27)}`, `${'9'.repeat(26)}`, '1.2.3', '1..2', 'NaN', 'Infinity', '١٢٣', '12a', '+1'];
    for (const v of fixed) expect(isStorableDecimal(v), v).toBe(STORABLE_DECIMAL.test(v));
    // Seeded random strings over the characters that matter.
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const alphabet = '0123456789.0123456789.-e+ x';
    let storable = 0;
    for (let k = 0; k < 20_000; k++) {
      const length = next() % 42;
      let v = '';
      for (let i = 0; i < length; i++) v += alphabet[next() % alphabet.length];
      const expected = STORABLE_DECIMAL.test(v);
      if (expected) storable++;
      expect(isStorableDecimal(v), v).toBe(expected);
    }
    expect(storable).toBeGreaterThan(50);
  });
});

describe('unstorableReason', () => {
  const span = decodeTraces(buildGenAiTracePayload({ spanCount: 16 }).protobuf).find((s) => normalizeSpan(s)?.operation === 'chat')!;
  const record = normalizeSpan(span)!;
  const cost = computeCost(record, Number(span.startTimeUnixNano / 1_000_000n), loadPriceBook(undefined));

  it('a storable row passes', () => {
    expect(cost.source).toBe('computed');
    expect(unstorableReason(record, cost)).toBeNull();
  });

  it('each UInt32 field over its range is refused, naming the attribute; at the limit it passes', () => {
    for (const [field, attribute] of UINT32_FIELDS) {
      expect(unstorableReason({ ...record, [field]: 4_294_967_296 } as GenAiRecord, cost), field).toContain(`${attribute} = 4294967296 is out of range`);
      expect(unstorableReason({ ...record, [field]: 4_294_967_295 } as GenAiRecord, cost), field).toBeNull();
    }
  });

  it('each cost field a Decimal(38, 12) cannot hold is refused, naming it', () => {
    for (const field of COST_FIELDS) {
      for (const bad of ['1e+30', '-0.5', `${'9'.repeat(27)}.0`]) {
        expect(unstorableReason(record, { ...cost, [field]: bad } as CostResult), `${field} ${bad}`).toContain(`= ${bad} USD cannot be stored`);
      }
      expect(unstorableReason(record, { ...cost, [field]: '12.000000000001' } as CostResult), field).toBeNull();
    }
  });
});
