// Small text utilities shared by the simulated provider and the app: a tokenizer, a deterministic
// "embedding" (feature-hashed bag of words), a token estimate and a seeded random number generator.

const STOPWORDS = new Set(
  (
    'a an the and or but if then than so to of in on at by for with from into over under about as is are was were be been being ' +
    'do does did done have has had having i me my we our you your it its this that these those there here what which who whom whose ' +
    'when where why how can could should would will shall may might must not no yes all any some each every other more most less ' +
    'very just also only own same too up down out off again once please thanks thank hi hello get got need want like know tell'
  ).split(' '),
);

/** Lower-cased content words with a light stemming (plural and -ing/-ed endings). */
export function contentWords(text: string): string[] {
  const words = text.toLowerCase().normalize('NFKC').match(/[a-z0-9]+/g) ?? [];
  const out: string[] = [];
  for (const w of words) {
    if (w.length < 2 || STOPWORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

function stem(w: string): string {
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/** FNV-1a 32-bit hash. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const EMBEDDING_DIMENSIONS = 256;
// Every vector shares this much of a common direction, so unrelated texts score ~0.15 rather than 0, like
// real embedding models.
const BACKGROUND = 0.42;

/**
 * A deterministic embedding of a text: hashed bag of content words (signed feature hashing), plus a shared
 * background component, L2-normalized. Cosine similarity then tracks word overlap.
 */
export function embedText(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const words = dimensions - 1; // the last component is the shared background
  const v = new Array<number>(dimensions).fill(0);
  for (const w of contentWords(text)) {
    const h = hash32(w);
    v[h % words]! += h & 0x80000000 ? -1 : 1;
  }
  let norm = 0;
  for (let i = 0; i < words; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < words; i++) v[i]! /= norm;
  v[words] = BACKGROUND;
  const length = Math.sqrt((norm > 0 ? 1 : 0) + BACKGROUND * BACKGROUND);
  return v.map((x) => x / length);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * (b[i] ?? 0);
    na += a[i]! * a[i]!;
    nb += (b[i] ?? 0) * (b[i] ?? 0);
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Rough token count of a text, as providers bill it (~4 characters per token). */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Seeded PRNG (mulberry32) with the helpers the simulation needs. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Index drawn with the given (unnormalized) weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
  /** Exponentially distributed with the given mean (inter-arrival times). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** Log-normal around `median` with a long right tail (latencies). */
  logNormal(median: number, sigma = 0.35): number {
    const u = 1 - this.next();
    const v = this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * z);
  }
}
