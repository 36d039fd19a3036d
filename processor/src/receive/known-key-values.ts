import type { AttrValue } from '../model.js';

// Span attributes repeat byte for byte across spans (operation, provider, model, service, user, feature …).
// This table remembers small scalar KeyValue messages by their wire bytes, with what decoding them gave: the
// key, the value and the KeyValue's SpanAttributes JSON fragment (`"key":"value"`). A span attribute whose bytes
// are known skips decoding its key and AnyValue, and the otel_traces row skips looking its fragment up again
// (store/attributes-json.ts). Only bytes that decoded without error are remembered, so a hit cannot hide one.

export interface KnownKeyValue {
  bytes: Uint8Array;
  key: string;
  value: AttrValue;
  fragment: string;
}

/** KeyValues longer than this (long prompts, descriptions) are not remembered: rarely repeated, costly to compare. */
export const MAX_KNOWN_KEY_VALUE_BYTES = 160;
const SLOTS = 8192;
/** Top 13 bits of the 32-bit hash select one of the 8192 slots. */
const SHIFT = 19;
// Bounded: at most 8192 entries of ≤ 160 bytes plus their strings (a few MB at worst). A new KeyValue that
// lands on a taken slot replaces it, so ids with ever-new values cannot grow it.
const table: (KnownKeyValue | undefined)[] = new Array(SLOTS);

/** The table slot of the KeyValue whose wire bytes are buf[start, stop); -1 when it is too long to remember. */
export function keyValueSlot(buf: Uint8Array, start: number, stop: number): number {
  if (stop - start > MAX_KNOWN_KEY_VALUE_BYTES) return -1;
  // FNV-1a over every byte: keys share long prefixes (gen_ai.usage.…) and values differ anywhere.
  let h = 0x811c9dc5 ^ (stop - start);
  for (let i = start; i < stop; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> SHIFT;
}

/** The remembered KeyValue whose wire bytes are buf[start, stop), if any (slot: keyValueSlot's). */
export function knownKeyValue(slot: number, buf: Uint8Array, start: number, stop: number): KnownKeyValue | undefined {
  if (slot < 0) return undefined;
  const length = stop - start;
  const entry = table[slot];
  if (entry === undefined) return undefined;
  const bytes = entry.bytes;
  if (bytes.length !== length) return undefined;
  for (let i = 0; i < length; i++) if (bytes[i] !== buf[start + i]) return undefined;
  return entry;
}

/** Remembers a KeyValue that decoded to a scalar (or null) value; others are ignored. */
export function rememberKeyValue(slot: number, buf: Uint8Array, start: number, stop: number, key: string, value: AttrValue, fragment: string): void {
  if (slot < 0 || (value !== null && typeof value === 'object')) return;
  const length = stop - start;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = buf[start + i];
  table[slot] = { bytes, key, value, fragment };
}
