// Values ClickHouse cannot store in genai_spans' columns: one such value made the whole insert fail, and with
// it every request sharing the batch. The pipeline refuses such a span openly instead (partial success
// naming the field, metric reason "unstorable_value"). The shipper's split-and-dead-letter is the last line.
import type { CostResult, GenAiRecord } from '../model.js';
import { RAGSCOPE_ATTRIBUTES as RAGSCOPE } from '../normalize/ragscope-attributes.js';

const UINT32_MAX = 4_294_967_295;
/** Decimal(38, 12): 26 integer digits. */
const MAX_COST_INTEGER_DIGITS = 26;
/** What a Decimal(38, 12) column parses: plain digits (a huge float's string is "1e+30"), not negative. */
export const STORABLE_DECIMAL = new RegExp(`^\\d{1,${MAX_COST_INTEGER_DIGITS}}(\\.\\d{1,12})?$`);

/** genai_spans columns of type (Nullable) UInt32, by record field and the attribute users set. */
export const UINT32_FIELDS = [
  ['topK', 'gen_ai.request.top_k'],
  ['citationCount', RAGSCOPE.CITATION_COUNT],
  ['invalidCitationCount', RAGSCOPE.CITATION_INVALID_COUNT],
  ['queryChars', RAGSCOPE.QUERY_CHARS],
  ['queryTokensEstimate', RAGSCOPE.QUERY_TOKENS_ESTIMATE],
  ['contextChunks', RAGSCOPE.CONTEXT_CHUNKS],
  ['contextChars', RAGSCOPE.CONTEXT_CHARS],
] as const satisfies readonly (readonly [keyof GenAiRecord, string])[];

export const COST_FIELDS = ['totalUsd', 'inputUsd', 'cacheReadUsd', 'cacheWriteUsd', 'outputUsd', 'reasoningUsd'] as const;

/** What STORABLE_DECIMAL matches, checked by hand: the same answer for every string (tests/processor/storable.test.ts). */
export function isStorableDecimal(v: string): boolean {
  const n = v.length;
  let i = 0;
  while (i < n && isDigit(v.charCodeAt(i))) i++;
  if (i === 0 || i > MAX_COST_INTEGER_DIGITS) return false;
  if (i === n) return true;
  if (v.charCodeAt(i) !== 46) return false;
  const fraction = n - i - 1;
  if (fraction < 1 || fraction > 12) return false;
  for (i++; i < n; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const withinUint32 = (v: number | null) => v === null || v <= UINT32_MAX;
const storableCost = (v: string | null) => v === null || isStorableDecimal(v);

/**
 * Whether every field above fits, each read directly: compiled once from the lists (as genai-spans-columns.ts
 * compiles its row writers), so a field added to a list is checked here too. Keyed reads over the lists and the
 * regular expression, for every GenAI span, were 2 % of the pipeline's profile (~0.25 µs per span).
 */
const everythingFits = new Function(
  'withinUint32',
  'storableCost',
  `return function everythingFits(record, cost) { return ${[
    ...UINT32_FIELDS.map(([field]) => `withinUint32(record.${field})`),
    ...COST_FIELDS.map((field) => `storableCost(cost.${field})`),
  ].join(' && ')}; };`,
)(withinUint32, storableCost) as (record: GenAiRecord, cost: CostResult) => boolean;

/** Why this span's GenAI row cannot be stored (naming the field), or null. */
export function unstorableReason(record: GenAiRecord, cost: CostResult): string | null {
  if (everythingFits(record, cost)) return null;
  for (const [field, attribute] of UINT32_FIELDS) {
    const v = record[field] as number | null;
    if (v !== null && v > UINT32_MAX) return `${attribute} = ${v} is out of range (at most ${UINT32_MAX})`;
  }
  for (const field of COST_FIELDS) {
    const v = cost[field];
    if (v === null) continue;
    if (!STORABLE_DECIMAL.test(v)) {
      const what = cost.source === 'reported' ? 'reported cost (gen_ai.usage.cost)' : `computed ${field.replace('Usd', '')} cost`;
      return `${what} = ${v} USD cannot be stored (0 to 1e${MAX_COST_INTEGER_DIGITS} USD)`;
    }
  }
  return null;
}
