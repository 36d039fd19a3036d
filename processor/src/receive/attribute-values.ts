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

/**
 * An empty attribute map for the protobuf decoder to fill. Same prototype as `{}`, but created by a
 * constructor: V8 gives such objects spare in-object slots, so up to ~24 keys added one by one stay in fast
 * mode, where a `{}` literal turns into a hash table after ~16. Walking a hash-table object (the normalizer's
 * scan, the row JSON) costs several times more per key, and GenAI spans often carry 17-24 attributes.
 */
export const newAttributes = (() => {
  function AttributeMap(): void {}
  AttributeMap.prototype = Object.prototype;
  const Ctor = AttributeMap as unknown as new () => Attributes;
  return (): Attributes => new Ctor();
})();

export function newScope(): InstrumentationScope {
  return { name: '', version: '', attributes: {} };
}

export function newOrigin(resource: Attributes): SpanOrigin {
  return { resource, scope: newScope() };
}
