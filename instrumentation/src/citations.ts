// Citation analysis: `[1]`, `[2, 3]`, `[1-3]` references in an answer checked against the sources.

import type { Span } from '@opentelemetry/api';
import { RAGSCOPE_ATTRIBUTES as R } from './attributes.js';


/** A source the answer may cite: its id, or an object with an id. `[1]` refers to the first source. */
export type CitationSource = string | { id: string };
export interface CitationOptions {
  /** Number of the first source: 1 (default, `[1]` is sources[0]) or 0. */
  base?: 0 | 1;
}
export interface CitationResult {
  /** Distinct cited source ids, in order of first citation. */
  citedIds: string[];
  /** Number of distinct valid citations. */
  count: number;
  /** Distinct reference numbers that match no source: a hallucination indicator. */
  invalidRefs: number[];
  invalidCount: number;
  /** count / number of sources (0 when there are no sources). */
  usageRate: number;
  /** Every reference number found, in order, with repeats. */
  references: number[];
}

// [1], [1, 2], [1-3], [1–3], [1][2]; a range is expanded up to 50 numbers.
const CITATION = /\[(\d{1,4}(?:\s*[,;\-–]\s*\d{1,4})*)\]/g;

/** Finds `[n]`-style references in an answer and checks them against the sources. Pure; never throws. */
export function analyzeCitations(answerText: string, sources: readonly CitationSource[], options?: CitationOptions): CitationResult {
  const base = options?.base ?? 1;
  const ids = (Array.isArray(sources) ? sources : []).map((s) => (typeof s === 'string' ? s : String(s?.id ?? '')));
  const references: number[] = [];
  if (typeof answerText === 'string') {
    for (const m of answerText.matchAll(CITATION)) {
      const body = m[1] ?? '';
      for (const piece of body.split(/\s*[,;]\s*/)) {
        const range = piece.split(/\s*[-–]\s*/).map(Number);
        if (range.length === 2 && range[0]! <= range[1]! && range[1]! - range[0]! < 50) {
          for (let n = range[0]!; n <= range[1]!; n++) references.push(n);
        } else {
          for (const n of range) references.push(n);
        }
      }
    }
  }
  const cited: string[] = [];
  const seen = new Set<string>();
  const invalid = new Set<number>();
  for (const n of references) {
    const id = ids[n - base];
    if (id === undefined || n - base < 0) {
      invalid.add(n);
      continue;
    }
    if (!seen.has(id)) {
      seen.add(id);
      cited.push(id);
    }
  }
  return {
    citedIds: cited,
    count: cited.length,
    invalidRefs: [...invalid],
    invalidCount: invalid.size,
    usageRate: ids.length > 0 ? cited.length / ids.length : 0,
    references,
  };
}

export function setCitationAttributes(span: Span, r: CitationResult): void {
  span.setAttribute(R.CITATION_CITED_IDS, r.citedIds);
  span.setAttribute(R.CITATION_COUNT, r.count);
  span.setAttribute(R.CITATION_INVALID_COUNT, r.invalidCount);
  span.setAttribute(R.CITATION_USAGE_RATE, r.usageRate);
}

/**
 * Analyses the answer's `[n]` citations against the sources (`[1]` = sources[0]) and records
 * `ragscope.citation.*` on the current post-processing stage span, or, outside one, on a new
 * `post_processing citations` span. Returns the analysis. Never throws.
 */
