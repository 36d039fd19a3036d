// Defensive readers for attribute values. Instrumentations send numbers as ints, doubles, numeric
// strings, or (int64 > 2^53) decimal strings; lists as arrays or JSON strings. None of these throw:
// a value that cannot be read becomes null / '' / [].
import type { AttrValue } from '../model.js';

/** A non-negative integer count (tokens, chunks, chars). Non-integers are rounded; anything else → null. */
export function toCount(v: AttrValue | undefined): number | null {
  if (typeof v === 'number') {
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return Number.isInteger(v) ? v : Math.round(v);
    return null; // negative, NaN, Infinity, absurd
  }
  if (typeof v === 'string') return countFromString(v);
  return null;
}

function countFromString(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  // Fast path: plain digits.
  let value = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  if (i === n) return value <= Number.MAX_SAFE_INTEGER ? value : null;
  const f = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(f) || f < 0 || f > Number.MAX_SAFE_INTEGER) return null;
  return Math.round(f);
}

/** A finite number (scores, seconds, USD). Numeric strings accepted; anything else → null. */
export function toFloat(v: AttrValue | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return null;
    const f = Number(t);
    return Number.isFinite(f) ? f : null;
  }
  return null;
}

/** A string id/name. Numbers and booleans are stringified; arrays/objects/null → ''. */
export function toStr(v: AttrValue | undefined): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return '';
}

/** A boolean from true/false, "true"/"false" (any case), 1/0, "1"/"0"; anything else → null. */
export function toBool(v: AttrValue | undefined): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : null;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
  }
  return null;
}

/** Parses a JSON string, returning undefined instead of throwing. Only called when the attribute is present. */
export function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** A list of strings: an array (non-string items stringified), a JSON array string, or a single scalar. */
export function toStrList(v: AttrValue | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return stringItems(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return [];
    if (t.charCodeAt(0) === 91 /* [ */) {
      const parsed = parseJson(t);
      if (Array.isArray(parsed)) return stringItems(parsed);
    }
    return [v];
  }
  const s = toStr(v);
  return s === '' ? [] : [s];
}

function stringItems(items: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      if (item !== '') out.push(item);
    } else if (typeof item === 'number' && Number.isFinite(item)) out.push(String(item));
    else if (typeof item === 'boolean') out.push(String(item));
  }
  return out;
}

/**
 * Reads a top-level scalar field from a small JSON object string without JSON.parse
 * (e.g. `"stream"` or `"model"` in OpenInference `llm.invocation_parameters`).
 * Returns the raw scalar text (strings unquoted, escapes not processed) or undefined when absent.
 * Good enough for model names and booleans; falls back to JSON.parse when the value is not simple.
 */
export function jsonScalarField(json: string, field: string): string | undefined {
  const needle = `"${field}"`;
  let idx = json.indexOf(needle);
  while (idx >= 0) {
    let i = idx + needle.length;
    while (i < json.length && isSpace(json.charCodeAt(i))) i++;
    if (json.charCodeAt(i) === 58 /* : */) {
      i++;
      while (i < json.length && isSpace(json.charCodeAt(i))) i++;
      if (json.charCodeAt(i) === 34 /* " */) {
        const end = json.indexOf('"', i + 1);
        if (end < 0) return undefined;
        const raw = json.slice(i + 1, end);
        if (raw.indexOf('\\') >= 0) {
          // Escapes: let JSON do it properly.
          const parsed = parseJson(json);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
            const val = (parsed as Record<string, unknown>)[field];
            return typeof val === 'string' ? val : val === undefined ? undefined : String(val);
          }
          return undefined;
        }
        return raw;
      }
      let end = i;
      while (end < json.length) {
        const c = json.charCodeAt(end);
        if (c === 44 /* , */ || c === 125 /* } */ || isSpace(c)) break;
        end++;
      }
      return json.slice(i, end);
    }
    idx = json.indexOf(needle, idx + 1);
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
