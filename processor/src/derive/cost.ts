// GenAiRecord → CostResult. Accounting rules (docs/pricing.md):
//   uncached input = input − cacheRead − cacheWrite   at the input price
//   cacheRead                                         at the cache-read price
//   cacheWrite                                        at the cache-write price
//   output − reasoning                                at the output price
//   reasoning                                         at the reasoning price (defaults to output)
// Amounts are exact: integer 1e-12 USD units, printed with 12 fractional digits.
import type { CostResult, GenAiRecord } from '../model.js';
import { add, formatUnits, multiply, usdToDecimalString, type Units } from './decimal.js';
import type { PriceBook, PriceEntry, PriceSet } from './pricebook.js';

const NONE: CostResult = Object.freeze({
  source: 'none',
  totalUsd: null,
  inputUsd: null,
  cacheReadUsd: null,
  cacheWriteUsd: null,
  outputUsd: null,
  reasoningUsd: null,
  priceId: '',
}) as CostResult;

const UNPRICED: CostResult = Object.freeze({
  source: 'unpriced',
  totalUsd: null,
  inputUsd: null,
  cacheReadUsd: null,
  cacheWriteUsd: null,
  outputUsd: null,
  reasoningUsd: null,
  priceId: '',
}) as CostResult;

/**
 * Prices one record. Precedence: a cost reported on the span ('reported') > computed from the price book
 * ('computed') > 'unpriced' (usage but no price) > 'none' (no usage). The model is matched on the response
 * model first (what actually served the call: dated snapshot, deployment resolved), then the request model.
 * The returned object may be shared (frozen) for the 'none'/'unpriced' cases: do not mutate it.
 */
export function computeCost(record: GenAiRecord, spanTimeMs: number, book: PriceBook): CostResult {
  const reported = record.reportedCostUsd;
  if (reported !== null && Number.isFinite(reported) && reported >= 0) {
    return {
      source: 'reported',
      totalUsd: usdToDecimalString(reported),
      inputUsd: null,
      cacheReadUsd: null,
      cacheWriteUsd: null,
      outputUsd: null,
      reasoningUsd: null,
      priceId: '',
    };
  }
  const input = record.inputTokens;
  const output = record.outputTokens;
  const cacheRead = record.cacheReadTokens;
  const cacheWrite = record.cacheWriteTokens;
  const reasoning = record.reasoningTokens;
  if (input === null && output === null && cacheRead === null && cacheWrite === null && reasoning === null) return NONE;

  const entry = findEntry(record, spanTimeMs, book);
  if (entry === null) return UNPRICED;
  const prices = pricesFor(entry, input ?? (cacheRead ?? 0) + (cacheWrite ?? 0));

  const cr = cacheRead ?? 0;
  const cw = cacheWrite ?? 0;
  const rs = reasoning ?? 0;
  let total: Units = 0;
  let inputUsd: string | null = null;
  let cacheReadUsd: string | null = null;
  let cacheWriteUsd: string | null = null;
  let outputUsd: string | null = null;
  let reasoningUsd: string | null = null;
  if (input !== null) {
    const u = multiply(Math.max(0, input - cr - cw), prices.input);
    total = add(total, u);
    inputUsd = formatUnits(u);
  }
  if (cacheRead !== null) {
    const u = multiply(cacheRead, prices.cacheRead);
    total = add(total, u);
    cacheReadUsd = formatUnits(u);
  }
  if (cacheWrite !== null) {
    const u = multiply(cacheWrite, prices.cacheWrite);
    total = add(total, u);
    cacheWriteUsd = formatUnits(u);
  }
  if (output !== null) {
    const u = multiply(Math.max(0, output - rs), prices.output);
    total = add(total, u);
    outputUsd = formatUnits(u);
  }
  if (reasoning !== null) {
    const u = multiply(reasoning, prices.reasoning);
    total = add(total, u);
    reasoningUsd = formatUnits(u);
  }
  return {
    source: 'computed',
    totalUsd: formatUnits(total),
    inputUsd,
    cacheReadUsd,
    cacheWriteUsd,
    outputUsd,
    reasoningUsd,
    priceId: entry.id,
  };
}

function findEntry(record: GenAiRecord, timeMs: number, book: PriceBook): PriceEntry | null {
  if (record.responseModel !== '') {
    const e = book.find(record.responseModel, timeMs);
    if (e !== null) return e;
  }
  if (record.requestModel !== '' && record.requestModel !== record.responseModel) return book.find(record.requestModel, timeMs);
  return null;
}

/** The tier with the highest threshold strictly below the input tokens, or the base prices. */
function pricesFor(entry: PriceEntry, inputTokens: number): PriceSet {
  const tiers = entry.tiers;
  for (let i = 0; i < tiers.length; i++) {
    if (inputTokens > tiers[i].inputTokensAbove) return tiers[i].prices;
  }
  return entry.prices;
}
