// Values ClickHouse cannot store in genai_spans' columns: one such value made the whole insert fail, and with
// it every request sharing the batch. The pipeline refuses such a span openly instead (partial success
// naming the field, metric reason "unstorable_value"). The shipper's split-and-dead-letter is the last line.
import type { CostResult, GenAiRecord } from '../model.js';
import { RAGSCOPE_ATTRIBUTES as RAGSCOPE } from '../normalize/ragscope-attributes.js';

const UINT32_MAX = 4_294_967_295;
/** Decimal(38, 12): 26 integer digits. */
const MAX_COST_INTEGER_DIGITS = 26;
/** What a Decimal(38, 12) column parses: plain digits (a huge float's string is "1e+30"), not negative. */
const STORABLE_DECIMAL = new RegExp(`^\\d{1,${MAX_COST_INTEGER_DIGITS}}(\\.\\d{1,12})?$`);

/** genai_spans columns of type (Nullable) UInt32, by record field and the attribute users set. */
const UINT32_FIELDS = [
  ['topK', 'gen_ai.request.top_k'],
  ['citationCount', RAGSCOPE.CITATION_COUNT],
  ['invalidCitationCount', RAGSCOPE.CITATION_INVALID_COUNT],
  ['queryChars', RAGSCOPE.QUERY_CHARS],
  ['queryTokensEstimate', RAGSCOPE.QUERY_TOKENS_ESTIMATE],
  ['contextChunks', RAGSCOPE.CONTEXT_CHUNKS],
  ['contextChars', RAGSCOPE.CONTEXT_CHARS],
] as const satisfies readonly (readonly [keyof GenAiRecord, string])[];

const COST_FIELDS = ['totalUsd', 'inputUsd', 'cacheReadUsd', 'cacheWriteUsd', 'outputUsd', 'reasoningUsd'] as const;

/** Why this span's GenAI row cannot be stored (naming the field), or null. */
export function unstorableReason(record: GenAiRecord, cost: CostResult): string | null {
  // Index loops, not `for (const [field, attribute] of …)`: this runs for every GenAI span, and the
  // destructuring iteration cost ~0.2 µs of it per span (bench payload, CPU profile).
  for (let i = 0; i < UINT32_FIELDS.length; i++) {
    const v = record[UINT32_FIELDS[i][0]] as number | null;
    if (v !== null && v > UINT32_MAX) return `${UINT32_FIELDS[i][1]} = ${v} is out of range (at most ${UINT32_MAX})`;
  }
  for (let i = 0; i < COST_FIELDS.length; i++) {
    const field = COST_FIELDS[i];
    const v = cost[field];
    if (v === null) continue;
    if (!STORABLE_DECIMAL.test(v)) {
      const what = cost.source === 'reported' ? 'reported cost (gen_ai.usage.cost)' : `computed ${field.replace('Usd', '')} cost`;
      return `${what} = ${v} USD cannot be stored (0 to 1e${MAX_COST_INTEGER_DIGITS} USD)`;
    }
  }
  return null;
}
