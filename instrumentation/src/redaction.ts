// Redaction of captured content. Content capture is off by default; when an application opts in, every
// content attribute on every span that leaves the process goes through `Redactor` (RagscopeSpanProcessor
// applies it at span end, so the rule holds for the spans of other instrumentations too, e.g. the
// Anthropic SDK's own spans).

/** What a redaction hook is told about the text it gets. */
export interface RedactionContext {
  /** The attribute (or log field) the text is part of, e.g. `gen_ai.input.messages`. */
  attribute: string;
}

/** A redaction hook: returns the text to keep. It runs after the default redaction (unless disabled). */
export type RedactFn = (text: string, context: RedactionContext) => string;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// 13-19 digits, optionally grouped by single spaces or dashes; checked with Luhn before redacting.
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
// International (+CC ...) or North-American style numbers, 7-15 digits with common separators.
const PHONE =
  /(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]\d{2,4}(?:[ .-]\d{2,5}){0,2}\b|\+\d{7,15}\b|\b\d{10}\b/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * The default redaction: e-mail addresses, payment card numbers (Luhn-valid 13-19 digit sequences) and
 * phone numbers (7-15 digits with separators, or a leading `+`) become `[REDACTED_EMAIL]`,
 * `[REDACTED_CARD]`, `[REDACTED_PHONE]`.
 */
export function defaultRedact(text: string): string {
  if (text.length < 6) return text;
  let out = text;
  if (out.includes('@')) out = out.replace(EMAIL, '[REDACTED_EMAIL]');
  // Cards before phones: a card number also looks like a long phone number.
  out = out.replace(CARD, (m) => {
    const digits = m.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? '[REDACTED_CARD]' : m;
  });
  out = out.replace(PHONE, (m) => {
    const digits = m.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15) return m;
    // Leave ISO dates (2024-01-31) and times alone.
    if (/^\d{4}-\d{2}-\d{2}$/.test(m) || /^\d{1,2}[.:]\d{2}$/.test(m)) return m;
    return '[REDACTED_PHONE]';
  });
  return out;
}

/** Keys of structured content whose string values are identifiers or enums, never free text. */
const STRUCTURAL_KEYS = new Set(['id', 'type', 'role', 'name', 'finish_reason', 'tool_call_id', 'call_id', 'score']);

export class Redactor {
  constructor(
    private readonly hook: RedactFn | undefined,
    private readonly defaults: boolean,
  ) {}

  /** Redacts one text. Never throws: a failing hook drops the text rather than leaking it. */
  text(text: string, attribute: string): string {
    let out = this.defaults ? defaultRedact(text) : text;
    if (this.hook) {
      try {
        const r = this.hook(out, { attribute });
        out = typeof r === 'string' ? r : '[REDACTED]';
      } catch {
        out = '[REDACTED]';
      }
    }
    return out;
  }

  /**
   * Redacts an attribute value: a string that holds JSON (the GenAI content attributes are JSON strings)
   * has each free-text string inside it redacted and is written back as JSON; any other string is
   * redacted as text; string arrays item by item.
   */
  value(value: unknown, attribute: string): unknown {
    if (typeof value === 'string') {
      const first = value.charCodeAt(0);
      if (first === 91 /* [ */ || first === 123 /* { */) {
        try {
          const parsed: unknown = JSON.parse(value);
          return JSON.stringify(this.walk(parsed, attribute, undefined));
        } catch {
          // not JSON: redact as text
        }
      }
      return this.text(value, attribute);
    }
    if (Array.isArray(value)) {
      return value.map((v) => (typeof v === 'string' ? this.text(v, attribute) : v));
    }
    return value;
  }

  private walk(node: unknown, attribute: string, key: string | undefined): unknown {
    if (typeof node === 'string') {
      return key !== undefined && STRUCTURAL_KEYS.has(key) ? node : this.text(node, attribute);
    }
    if (Array.isArray(node)) return node.map((n) => this.walk(n, attribute, key));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) out[k] = this.walk(v, attribute, k);
      return out;
    }
    return node;
  }
}
