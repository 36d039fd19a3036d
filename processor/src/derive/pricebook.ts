// The price book: built-in processor/pricebook/default-prices.json, optionally extended/overridden by a
// user file (RAGSCOPE_PRICES_FILE). Format and precedence: docs/pricing.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { priceToMicros } from './decimal.js';

/** Prices in integer micro-USD per 1M tokens. */
export interface PriceSet {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

export interface PriceTier {
  /** The tier applies when the span's input tokens (cache included) are strictly above this. */
  inputTokensAbove: number;
  prices: PriceSet;
}

export interface PriceEntry {
  id: string;
  provider: string;
  match: string;
  regex: RegExp;
  startDate: string;
  startMs: number;
  prices: PriceSet;
  /** Sorted by threshold, highest first. */
  tiers: PriceTier[];
  origin: 'builtin' | 'user';
  notes: string;
  source: string;
}

export class PriceBookError extends Error {
  override name = 'PriceBookError';
}

export const DEFAULT_PRICES_FILE = fileURLToPath(new URL('../../pricebook/default-prices.json', import.meta.url));

// ---- schema (zod validates shape; semantic checks below add regex/date/decimal validation)

const priceValue = z.union([z.number(), z.string()], {
  error: (issue) =>
    issue.input === undefined ? 'required (USD per 1M tokens)' : 'must be a number or a decimal string (USD per 1M tokens)',
});
const fullPrices = z.strictObject({
  input: priceValue,
  output: priceValue,
  cacheRead: priceValue.optional(),
  cacheWrite: priceValue.optional(),
  reasoning: priceValue.optional(),
});
const partialPrices = z.strictObject({
  input: priceValue.optional(),
  output: priceValue.optional(),
  cacheRead: priceValue.optional(),
  cacheWrite: priceValue.optional(),
  reasoning: priceValue.optional(),
});
const tierSchema = z.strictObject({
  when: z.strictObject({ inputTokensAbove: z.number().int().nonnegative() }),
  prices: partialPrices,
});
const entrySchema = z.strictObject({
  id: z.string().min(1),
  provider: z.string(),
  match: z.string().min(1),
  startDate: z.string().min(1),
  prices: fullPrices,
  tiers: z.array(tierSchema).optional(),
  notes: z.string().optional(),
  source: z.string().optional(),
});
const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).optional(),
  description: z.string().optional(),
  entries: z.array(entrySchema),
});

type RawPrices = z.infer<typeof partialPrices>;
type RawEntry = z.infer<typeof entrySchema>;

/** Converts a Langfuse-style pattern (`(?i)` prefix allowed) to a RegExp. */
export function compileMatch(match: string): RegExp {
  let pattern = match;
  let flags = '';
  if (pattern.startsWith('(?i)')) {
    pattern = pattern.slice(4);
    flags = 'i';
  } else if (/^\(\?[a-zA-Z]+\)/.test(pattern)) {
    throw new Error(`unsupported inline flags ${pattern.slice(0, pattern.indexOf(')') + 1)} (only a leading (?i) is supported)`);
  }
  if (/\(\?[a-zA-Z]+\)/.test(pattern)) throw new Error('inline flags are only supported as a leading (?i)');
  return new RegExp(pattern, flags);
}

function parseStartDate(s: string): number {
  // ISO date (2024-05-13) or date-time (2024-05-13T00:00:00Z). Date-only is UTC midnight.
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) throw new Error(`"${s}" is not an ISO date (YYYY-MM-DD)`);
  const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  if (!Number.isFinite(ms)) throw new Error(`"${s}" is not a valid date`);
  return ms;
}

function entryLabel(raw: unknown, index: number): string {
  let id = '';
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = (raw as { entries?: unknown }).entries;
    if (Array.isArray(entries)) {
      const e = entries[index] as { id?: unknown } | undefined;
      if (e && typeof e.id === 'string') id = e.id;
    }
  }
  return id ? `entry #${index} (id "${id}")` : `entry #${index}`;
}

function formatIssuePath(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] === 'entries' && typeof path[1] === 'number') {
    const rest = path.slice(2).map(String).join('.');
    return `${entryLabel(raw, path[1])}${rest ? `: ${rest}` : ''}`;
  }
  return path.length ? path.map(String).join('.') : '(file)';
}

function resolvePrices(base: RawPrices, over: RawPrices | undefined, where: string, file: string): PriceSet {
  const pick = (k: keyof RawPrices): number | undefined => {
    const v = over?.[k] ?? base[k];
    if (v === undefined) return undefined;
    try {
      return priceToMicros(v);
    } catch (err) {
      throw new PriceBookError(`${file}: ${where}.${k}: ${(err as Error).message}`);
    }
  };
  const input = pick('input')!;
  const output = pick('output')!;
  return {
    input,
    output,
    // Absent cache prices mean "no discount / no surcharge": billed as input (docs/pricing.md).
    cacheRead: pick('cacheRead') ?? input,
    cacheWrite: pick('cacheWrite') ?? input,
    // Every provider bills reasoning/thinking tokens as output tokens unless stated otherwise.
    reasoning: pick('reasoning') ?? output,
  };
}

/** Validates one price-book document; `file` names it in errors. */
export function parsePriceBookData(raw: unknown, file: string, origin: 'builtin' | 'user'): PriceEntry[] {
  const doc = Array.isArray(raw) ? { entries: raw } : raw;
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `  ${formatIssuePath(doc, i.path)}: ${i.message}`);
    const more = parsed.error.issues.length > 5 ? `\n  ... and ${parsed.error.issues.length - 5} more` : '';
    throw new PriceBookError(`invalid price book ${file}:\n${lines.join('\n')}${more}`);
  }
  const seen = new Set<string>();
  return parsed.data.entries.map((e: RawEntry, i: number) => {
    const label = entryLabel(doc, i);
    const key = `${e.id}@${e.startDate}`;
    if (seen.has(key)) throw new PriceBookError(`invalid price book ${file}: ${label}: duplicate id "${e.id}" with the same startDate ${e.startDate}`);
    seen.add(key);
    let regex: RegExp;
    try {
      regex = compileMatch(e.match);
    } catch (err) {
      throw new PriceBookError(`invalid price book ${file}: ${label}: match: invalid regex ${JSON.stringify(e.match)}: ${(err as Error).message}`);
    }
    let startMs: number;
    try {
      startMs = parseStartDate(e.startDate);
    } catch (err) {
      throw new PriceBookError(`invalid price book ${file}: ${label}: startDate: ${(err as Error).message}`);
    }
    const prefix = `invalid price book ${file}: ${label}`;
    const prices = resolvePrices(e.prices, undefined, 'prices', prefix);
    const tiers = (e.tiers ?? [])
      .map((t, ti) => ({
        inputTokensAbove: t.when.inputTokensAbove,
        prices: resolvePrices(e.prices, t.prices, `tiers.${ti}.prices`, prefix),
      }))
      .sort((a, b) => b.inputTokensAbove - a.inputTokensAbove);
    return {
      id: e.id,
      provider: e.provider,
      match: e.match,
      regex,
      startDate: e.startDate,
      startMs,
      prices,
      tiers,
      origin,
      notes: e.notes ?? '',
      source: e.source ?? '',
    };
  });
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PriceBookError(`cannot read price book ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PriceBookError(`invalid price book ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

const CANDIDATE_CACHE_MAX = 10_000;
const NO_CANDIDATES: readonly PriceEntry[] = [];

export class PriceBook {
  /** Lookup order: user entries first, then built-in; within each, newest startDate first. */
  private readonly ordered: PriceEntry[];
  private readonly cache = new Map<string, readonly PriceEntry[]>();

  constructor(builtin: readonly PriceEntry[], user: readonly PriceEntry[] = []) {
    // A user entry with the id of a built-in entry replaces it (all its start dates).
    const overridden = new Set(user.map((e) => e.id));
    const kept = builtin.filter((e) => !overridden.has(e.id));
    const byDateDesc = (a: PriceEntry, b: PriceEntry) => b.startMs - a.startMs;
    this.ordered = [...[...user].sort(byDateDesc), ...kept.sort(byDateDesc)];
  }

  /** Built-in price book plus an optional user file. Throws PriceBookError naming the file and entry. */
  static load(options: { userFile?: string; builtinFile?: string } = {}): PriceBook {
    const builtinFile = options.builtinFile ?? DEFAULT_PRICES_FILE;
    const builtin = parsePriceBookData(readJsonFile(builtinFile), builtinFile, 'builtin');
    const user = options.userFile ? parsePriceBookData(readJsonFile(options.userFile), options.userFile, 'user') : [];
    return new PriceBook(builtin, user);
  }

  static fromData(builtin: unknown, user?: unknown): PriceBook {
    return new PriceBook(
      parsePriceBookData(builtin, '<built-in data>', 'builtin'),
      user === undefined ? [] : parsePriceBookData(user, '<user data>', 'user'),
    );
  }

  get entries(): readonly PriceEntry[] {
    return this.ordered;
  }

  /** Entries whose pattern matches the model, in precedence order (cached per model string). */
  candidates(model: string): readonly PriceEntry[] {
    if (model === '') return NO_CANDIDATES;
    let list = this.cache.get(model);
    if (list === undefined) {
      const found = this.ordered.filter((e) => e.regex.test(model));
      list = found.length ? found : NO_CANDIDATES;
      if (this.cache.size >= CANDIDATE_CACHE_MAX) this.cache.clear();
      this.cache.set(model, list);
    }
    return list;
  }

  /**
   * The entry pricing `model` at `timeMs`: among user entries that match, the newest with startDate ≤ time;
   * if no user entry applies, the same among built-in entries; null when none applies.
   */
  find(model: string, timeMs: number): PriceEntry | null {
    const list = this.candidates(model);
    for (let i = 0; i < list.length; i++) {
      if (list[i].startMs <= timeMs) return list[i];
    }
    return null;
  }
}

/** Loads the built-in price book and, when given, the user file (config RAGSCOPE_PRICES_FILE). */
export function loadPriceBook(userFile?: string): PriceBook {
  return PriceBook.load({ userFile });
}
