import { createHash } from 'node:crypto';
import { normalizeQuery } from './fingerprint.js';

/**
 * A similarity-preserving sketch of a query: a 64-bit SimHash (Charikar 2002) of its word shingles, so that
 * two phrasings of one question differ in few bits (Hamming distance) while unrelated questions differ in
 * about half of them. It powers reformulation detection and question clusters with content capture off.
 *
 * Features: the words of the normalized query (normalizeQuery, then every run of non-letters/digits is a
 * separator: case and punctuation do not matter) and its adjacent word pairs (2-shingles), each weighted 1.
 * Each feature is hashed to 64 bits (first 8 bytes of its SHA-256, salted like the fingerprint when a salt is
 * configured); bit i of the sketch is 1 when more features have bit i set than not.
 *
 * Not reversible: 64 bits summarize the whole query (many texts share a sketch), and with a salt a
 * dictionary of candidate questions cannot even be sketched by someone without the salt. Like the
 * fingerprint, the sketch says "these two queries are alike", never what they say.
 */
export const SKETCH_BITS = 64;

export function queryWords(query: string): string[] {
  return normalizeQuery(query)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The features a query's sketch is made of: its words and its adjacent word pairs. */
export function sketchFeatures(query: string): string[] {
  const words = queryWords(query);
  const features = [...words];
  for (let i = 0; i + 1 < words.length; i++) features.push(`${words[i]} ${words[i + 1]}`);
  return features;
}

function featureHash(feature: string, salt: string): bigint {
  const h = createHash('sha256');
  if (salt) h.update(salt + '\u0000');
  return h.update(feature).digest().readBigUInt64BE(0);
}

/** The 64-bit SimHash of a query, as an unsigned bigint; 0n for a query without words. */
export function simHash64(query: string, salt = ''): bigint {
  const features = sketchFeatures(query);
  if (features.length === 0) return 0n;
  const votes = new Int32Array(SKETCH_BITS);
  for (const f of features) {
    const h = featureHash(f, salt);
    for (let i = 0; i < SKETCH_BITS; i++) votes[i] += (h >> BigInt(i)) & 1n ? 1 : -1;
  }
  let out = 0n;
  for (let i = 0; i < SKETCH_BITS; i++) if (votes[i] > 0) out |= 1n << BigInt(i);
  return out;
}

/** The sketch as the span attribute carries it: 16 lower-case hex digits. */
export function sketchHex(sketch: bigint): string {
  return sketch.toString(16).padStart(16, '0');
}

/** Number of differing bits of two sketches (0..64). */
export function hammingDistance(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}
