import type { AttrValue, Attributes, InstrumentationScope, SpanOrigin } from '../model.js';

// Conversions shared by the protobuf, protobufjs and JSON decoders so all three agree exactly.

const TWO_POW_32 = 4294967296;
/** |hi| below 2^21 keeps hi * 2^32 + lo below 2^53, i.e. exactly representable. */
const SAFE_HIGH_WORD = 2097152;

/** A two's-complement int64 given as unsigned 32-bit halves: a number when it is a safe integer, else a decimal string. */
export function int64ToAttrValue(lo: number, hi: number): number | string {
  const signedHi = hi | 0;
  if (signedHi >= -SAFE_HIGH_WORD && signedHi < SAFE_HIGH_WORD) {
    const value = signedHi * TWO_POW_32 + lo;
    if (Number.isSafeInteger(value)) return value;
  }
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** An int64 that is already a bigint (JSON decoder), normalized the same way. */
export function bigIntToAttrValue(value: bigint): number | string {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

/** Assigns target[key], keeping a `__proto__` key an ordinary own property instead of a prototype swap. */
export function setAttribute(target: Record<string, AttrValue>, key: string, value: AttrValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

export function newScope(): InstrumentationScope {
  return { name: '', version: '', attributes: {} };
}

export function newOrigin(resource: Attributes): SpanOrigin {
  return { resource, scope: newScope() };
}
