import { createHash } from 'node:crypto';
import { runtimeConfig } from './config.js';

/** A query described without its text: what powers repeated-question analytics with content capture off. */
export interface QueryFingerprint {
  /** Hex SHA-256 (first 32 hex chars) of the normalized query, salted when a salt is configured. */
  fingerprint: string;
  /** Length of the query as given, in characters (UTF-16 code units). */
  chars: number;
  /** Estimated tokens: see estimateTokens. */
  tokensEstimate: number;
}

/**
 * Normalizes a query so that trivially different phrasings of the same question match: Unicode NFKC,
 * lower case, whitespace collapsed, surrounding punctuation and whitespace trimmed.
 */
export function normalizeQuery(query: string): string {
  return query
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
}

/**
 * Estimated token count of a text, without a tokenizer: ~4 characters per token for Latin-script text
 * (OpenAI's rule of thumb), 1 token per character for CJK ideographs and kana. Within ~15% of cl100k /
 * o200k on English prose; good enough for context-size analytics, not for billing.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let cjk = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af)) cjk++;
  }
  return cjk + Math.ceil((text.length - cjk) / 4);
}

export function fingerprintQuery(query: string, salt: string = runtimeConfig().fingerprintSalt): QueryFingerprint {
  const hash = createHash('sha256');
  if (salt) hash.update(salt + '\u0000');
  hash.update(normalizeQuery(query));
  return {
    fingerprint: hash.digest('hex').slice(0, 32),
    chars: query.length,
    tokensEstimate: estimateTokens(query),
  };
}
