// Exact money arithmetic. Prices are held as integer micro-USD per 1M tokens; tokens × price is then an
// integer number of 1e-12 USD ("pico-USD"), exactly the 12 fractional digits of Decimal(18, 12).
// Plain numbers while the value is a safe integer (the usual case), BigInt beyond.

export type Units = number | bigint;

const PICO_PER_USD = 1_000_000_000_000;
const PICO_PER_USD_BIG = 1_000_000_000_000n;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Parses a USD-per-1M-tokens price given as a JSON number or decimal string into integer micro-USD.
 * Throws an Error with a human-readable reason when the value is negative, not a plain decimal, or has
 * more than 6 fractional digits (cannot be represented exactly).
 */
export function priceToMicros(value: number | string): number {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`must be a non-negative number, got ${value}`);
    text = String(value);
    if (text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
      if (value !== 0 && value < 1e-6) throw new Error(`${text} has more than 6 decimal places (micro-USD per 1M tokens is the resolution)`);
      text = value.toFixed(6);
    }
  } else {
    text = value.trim();
  }
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a plain non-negative decimal`);
  const intPart = m[1];
  let frac = m[2] ?? '';
  if (frac.length > 6) {
    if (!/^0+$/.test(frac.slice(6))) throw new Error(`${text} has more than 6 decimal places (micro-USD per 1M tokens is the resolution)`);
    frac = frac.slice(0, 6);
  }
  const micros = Number(intPart) * 1_000_000 + Number(frac.padEnd(6, '0'));
  if (!Number.isSafeInteger(micros)) throw new Error(`${text} is too large`);
  return micros;
}

/** tokens × price (micro-USD per 1M tokens) = amount in 1e-12 USD. */
export function multiply(tokens: number, microsPerMillion: number): Units {
  const p = tokens * microsPerMillion;
  if (p <= MAX_SAFE) return p;
  return BigInt(tokens) * BigInt(microsPerMillion);
}

export function add(a: Units, b: Units): Units {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= MAX_SAFE) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** 1e-12 USD units → decimal string with exactly 12 fractional digits ("0.000000075000"). */
export function formatUnits(u: Units): string {
  if (typeof u === 'number') {
    const intPart = Math.floor(u / PICO_PER_USD);
    const frac = u - intPart * PICO_PER_USD;
    return `${intPart}.${pad12(frac)}`;
  }
  const intPart = u / PICO_PER_USD_BIG;
  const frac = u % PICO_PER_USD_BIG;
  return `${intPart}.${pad12(frac)}`;
}

function pad12(frac: number | bigint): string {
  const s = String(frac);
  return s.length >= 12 ? s : '000000000000'.slice(s.length) + s;
}

/** A reported USD float → decimal string with 12 fractional digits (rounded half away from zero by toFixed). */
export function usdToDecimalString(usd: number): string {
  return usd.toFixed(12);
}
