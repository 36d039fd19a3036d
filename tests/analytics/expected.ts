// Independent reference: expected rollup contents and example-query answers computed in TypeScript straight
// from the generator's plain records (never from the store). Costs use the synthetic catalog's prices and
// the documented accounting rules (uncached input, cache read, cache write, output − reasoning, reasoning),
// in exact integer 1e-12 USD units.
import { expect } from 'vitest';
import { modelPrices } from '../../tools/synthetic/catalog.js';
import type { SynthDataset, SynthEvaluation, SynthFeedback, SynthFeedbackVersion, SynthRequest, SynthSpan } from '../../tools/synthetic/model.js';

export const LADDER = [0, 10, 20, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500, 10000, 12500, 15000, 20000, 25000, 30000, 45000, 60000, 90000, 120000, 180000, 300000, 600000];
export const MODEL_OPS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
export const LLM_OPS = new Set(['chat', 'text_completion', 'generate_content']);

// ---------------------------------------------------------------------------------------------- time

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export function dayOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
export function hourOf(ms: number): string {
  const d = new Date(ms);
  return `${dayOf(ms)} ${pad(d.getUTCHours())}:00:00`;
}
export const startOfDayMs = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000;
export const startOfHourMs = (ms: number) => Math.floor(ms / 3_600_000) * 3_600_000;
/** µs-exact ms as a float (spans are generated on a µs grid). */
export const nsToMs = (ns: bigint) => Number(ns / 1000n) / 1000;
export const spanStartMs = (s: SynthSpan) => nsToMs(s.startNs);
export const spanDurationMs = (s: SynthSpan) => Number(s.endNs - s.startNs) / 1e6;

// ---------------------------------------------------------------------------------------------- money

/** Decimal text (ClickHouse toString of a Decimal, or JSON number text) → integer 1e-12 USD units. */
export function decimalToUnits(text: string | number): bigint {
  const s = String(text);
  const neg = s.startsWith('-');
  const [i, f = ''] = (neg ? s.slice(1) : s).split('.');
  if (/e/i.test(s)) throw new Error(`cannot parse exponent decimal ${s}`);
  const units = BigInt(i) * 10n ** 12n + BigInt((f + '0'.repeat(12)).slice(0, 12) || '0');
  return neg ? -units : units;
}
export const unitsToUsd = (u: bigint) => Number(u) / 1e12;

export interface SpanCost {
  source: 'computed' | 'unpriced' | 'none';
  total: bigint;
  input: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
  output: bigint;
  reasoning: bigint;
}

export function spanCost(s: SynthSpan): SpanCost {
  const zero: SpanCost = { source: 'none', total: 0n, input: 0n, cacheRead: 0n, cacheWrite: 0n, output: 0n, reasoning: 0n };
  const u = s.usage;
  if (!u) return zero;
  const prices = modelPrices(s.responseModel || s.requestModel);
  if (!prices) return { ...zero, source: 'unpriced' };
  const cr = u.cacheRead ?? 0;
  const cw = u.cacheWrite ?? 0;
  const rs = u.reasoning ?? 0;
  const c: SpanCost = {
    source: 'computed',
    input: u.input === null ? 0n : BigInt(Math.max(0, u.input - cr - cw)) * BigInt(prices.input),
    cacheRead: BigInt(cr) * BigInt(prices.cacheRead),
    cacheWrite: BigInt(cw) * BigInt(prices.cacheWrite),
    output: u.output === null ? 0n : BigInt(Math.max(0, u.output - rs)) * BigInt(prices.output),
    reasoning: BigInt(rs) * BigInt(prices.reasoning),
    total: 0n,
  };
  c.total = c.input + c.cacheRead + c.cacheWrite + c.output + c.reasoning;
  return c;
}

// ---------------------------------------------------------------------------------------------- span facts

export const modelOf = (s: SynthSpan) => s.responseModel || s.requestModel;
export const isRoot = (s: SynthSpan) => s.parentSpanId === '';
export const isError = (s: SynthSpan) => s.statusCode === 2 || s.errorType !== '';
/** The generator's own truth about rate limits (the rollups apply a regex to ErrorType instead). */
export const isRateLimited = (s: SynthSpan) => s.rateLimited;

export interface Row {
  [k: string]: unknown;
}

export function allSpans(ds: SynthDataset): { span: SynthSpan; req: SynthRequest }[] {
  const out: { span: SynthSpan; req: SynthRequest }[] = [];
  for (const req of ds.requests) for (const span of req.spans) out.push({ span, req });
  return out;
}

// ---------------------------------------------------------------------------------------------- generic

export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

export const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
export const sumBig = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);

/** Histogram key over the latency ladder: the largest boundary strictly below the value (0 for 0). */
export function ladderKey(ms: number): number {
  let k = 0;
  for (const b of LADDER) if (b < ms) k = b;
  return k;
}

export function countMap(keys: readonly (string | number)[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const k of keys) m[String(k)] = (m[String(k)] ?? 0) + 1;
  return m;
}

/**
 * Quantile tolerance: the estimate must lie between the order statistics bracketing rank q·(n−1) (widened
 * by `rankSlack` ranks on each side), give or take a relative error: `relTol` for values >= 1 and
 * `smallTol` below 1. ClickHouse's DDSketch at α = 1% measures ≤ 1.0% error for values >= 1 ms and up to
 * 3.0% below 1 ms (sub-millisecond stages), so DD checks use 1.01% / 3.5%; t-digest uses ranks of slack.
 */
export const DD_TOL = 0.0101;
export const DD_SMALL_TOL = 0.035;
export function expectQuantile(actual: number, values: readonly number[], q: number, relTol: number, rankSlack = 0, label = '', smallTol = relTol): void {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const r = q * (n - 1);
  const lo = sorted[Math.max(0, Math.floor(r) - rankSlack)];
  const hi = sorted[Math.min(n - 1, Math.ceil(r) + rankSlack)];
  const tolLo = Math.abs(lo) < 1 ? smallTol : relTol;
  const tolHi = Math.abs(hi) < 1 ? smallTol : relTol;
  const ok = actual >= lo - Math.abs(lo) * tolLo - 1e-9 && actual <= hi + Math.abs(hi) * tolHi + 1e-9;
  if (!ok) throw new Error(`${label} q${q}: ${actual} not within [${lo}, ${hi}] ±${relTol * 100}%/${smallTol * 100}% (n=${n})`);
}

export function expectClose(actual: unknown, expected: number, label: string, relTol = 1e-9): void {
  const a = Number(actual);
  const tol = Math.max(1e-9, Math.abs(expected) * relTol);
  if (!(Math.abs(a - expected) <= tol)) throw new Error(`${label}: got ${String(actual)}, expected ${expected}`);
}

export function expectSameKeys(actual: Iterable<string>, expected: Iterable<string>, label: string): void {
  const a = [...actual].sort();
  const e = [...expected].sort();
  // Two empty key sets would agree: the expectation must hold something.
  expect(e.length, `${label}: expected keys`).toBeGreaterThan(0);
  expect(a, `${label}: keys`).toEqual(e);
}

// ---------------------------------------------------------------------------------------------- feedback

export function finalVersion(fb: SynthFeedback): SynthFeedbackVersion {
  return fb.versions[fb.versions.length - 1];
}

export function normalizedScore(v: SynthFeedbackVersion): number {
  if (v.kind === 'thumbs') return v.thumbs === 'up' ? 1 : 0;
  if (v.kind === 'rating') return (v.rating! - 1) / 4;
  return v.score!;
}

export function feedbackValue(v: SynthFeedbackVersion): number {
  if (v.kind === 'thumbs') return v.thumbs === 'up' ? 1 : 0;
  if (v.kind === 'rating') return v.rating!;
  return v.score!;
}

export function requestByTrace(ds: SynthDataset): Map<string, SynthRequest> {
  return new Map(ds.requests.map((r) => [r.traceId, r]));
}

// ---------------------------------------------------------------------------------------------- per request

export interface ExpectedRequest {
  traceId: string;
  startMs: number;
  endMs: number;
  totalMs: number;
  stageMs: Record<string, number | null>;
  timeToFirstTokenMs: number | null;
  spans: number;
  userId: string;
  sessionId: string;
  conversationId: string;
  feature: string;
  experiment: string;
  variant: string;
  fingerprint: string;
  queryChars: number;
  model: string;
  models: string[];
  responseIds: string[];
  llmCalls: number;
  streamingCalls: number;
  errors: number;
  rateLimited: number;
  errorTypes: string[];
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  cost: bigint;
  unpricedCalls: number;
  retrievals: number;
  emptyRetrievals: number;
  documentsRetrieved: number;
  avgRelevance: number | null;
  topRelevance: number | null;
  reranks: number;
  citations: number;
  invalidCitations: number;
  documentsCited: number;
  citationUsage: number | null;
  cacheHit: boolean;
  hasError: boolean;
}

const STAGES = ['embedding', 'retrieval', 'rerank', 'context_assembly', 'generation', 'post_processing'];

export function expectedRequest(req: SynthRequest): ExpectedRequest {
  const spans = req.spans;
  const root = spans.find(isRoot)!;
  const stageMs: Record<string, number | null> = {};
  for (const st of STAGES) {
    const ss = spans.filter((s) => s.stage === st);
    stageMs[st] = ss.length ? Math.max(...ss.map((s) => nsToMs(s.endNs))) - Math.min(...ss.map(spanStartMs)) : null;
  }
  const chats = spans.filter((s) => LLM_OPS.has(s.operation)).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
  const retrievals = spans.filter((s) => s.operation === 'retrieval');
  const scores = retrievals.flatMap((s) => (s.documents ?? []).map((d) => d.score));
  const cited = new Set(spans.flatMap((s) => s.citedIds ?? []));
  const usage = spans.filter((s) => s.usage);
  const ttfts = spans.filter((s) => s.ttftMs !== null).map((s) => spanStartMs(s) + s.ttftMs!);
  const docsRetrieved = sum(retrievals.map((s) => s.documents?.length ?? 0));
  const errors = spans.filter(isError).length;
  return {
    traceId: req.traceId,
    startMs: nsToMs(req.startNs),
    endMs: Math.max(...spans.map((s) => nsToMs(s.endNs))),
    totalMs: spanDurationMs(root),
    stageMs,
    timeToFirstTokenMs: ttfts.length ? Math.min(...ttfts) - nsToMs(req.startNs) : null,
    spans: spans.length,
    userId: req.userId,
    sessionId: req.sessionId,
    conversationId: req.conversationId,
    feature: req.feature,
    experiment: req.experiment,
    variant: req.variant,
    fingerprint: req.fingerprint,
    queryChars: req.queryChars,
    model: chats.length ? modelOf(chats[chats.length - 1]) : '',
    models: [...new Set(chats.map(modelOf))].sort(),
    responseIds: [...new Set(spans.map((s) => s.responseId).filter((x) => x !== ''))].sort(),
    llmCalls: chats.length,
    streamingCalls: spans.filter((s) => s.streaming === true).length,
    errors,
    rateLimited: spans.filter(isRateLimited).length,
    errorTypes: [...new Set(spans.map((s) => s.errorType).filter((x) => x !== ''))].sort(),
    inputTokens: sum(usage.map((s) => s.usage!.input ?? 0)),
    outputTokens: sum(usage.map((s) => s.usage!.output ?? 0)),
    cacheReadTokens: sum(usage.map((s) => s.usage!.cacheRead ?? 0)),
    cacheWriteTokens: sum(usage.map((s) => s.usage!.cacheWrite ?? 0)),
    reasoningTokens: sum(usage.map((s) => s.usage!.reasoning ?? 0)),
    cost: sumBig(spans.map((s) => spanCost(s).total)),
    unpricedCalls: spans.filter((s) => spanCost(s).source === 'unpriced').length,
    retrievals: retrievals.length,
    emptyRetrievals: retrievals.filter((s) => (s.documents?.length ?? 0) === 0).length,
    documentsRetrieved: docsRetrieved,
    avgRelevance: scores.length ? sum(scores) / scores.length : null,
    topRelevance: scores.length ? Math.max(...scores) : null,
    reranks: spans.filter((s) => s.operation === 'rerank').length,
    citations: sum(spans.map((s) => s.citationCount ?? 0)),
    invalidCitations: sum(spans.map((s) => s.invalidCitations ?? 0)),
    documentsCited: cited.size,
    citationUsage: docsRetrieved > 0 ? Math.min(1, cited.size / docsRetrieved) : null,
    cacheHit: req.cacheHit,
    hasError: errors > 0,
  };
}

export function requestsInRange(ds: SynthDataset, fromMs: number, toMs: number): SynthRequest[] {
  return ds.requests.filter((r) => {
    const t = nsToMs(r.startNs);
    return t >= fromMs && t < toMs;
  });
}

export function feedbackInRange(ds: SynthDataset, fromMs: number, toMs: number): SynthFeedback[] {
  return ds.feedback.filter((fb) => {
    const t = finalVersion(fb).timeMs;
    return t >= fromMs && t < toMs;
  });
}

export function evaluationsInDays(ds: SynthDataset, fromMs: number, toMs: number): SynthEvaluation[] {
  const fromDay = dayOf(fromMs);
  const toDay = dayOf(toMs - 1000);
  return ds.evaluations.filter((e) => dayOf(e.timeMs) >= fromDay && dayOf(e.timeMs) <= toDay);
}
