// Every example query in clickhouse/queries, run through the named-query runner with {from, to} parameters,
// against answers computed independently in TypeScript from the generator's records. Traffic goes through
// the real processor (OTLP/HTTP protobuf, children before their roots).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { generateDataset, startOfCurrentHourMs, sendDataset, syntheticPriceBook, type SynthDataset, type SynthFeedback, type SynthSpan } from '../../tools/synthetic/index.js';
import { listNamedQueries, resolveParams, runNamedQuery, type ParamValue } from '../../processor/src/query/named-queries.js';
import {
  DD_SMALL_TOL,
  DD_TOL,
  LLM_OPS,
  MODEL_OPS,
  allSpans,
  countMap,
  dayOf,
  decimalToUnits,
  evaluationsInDays,
  expectQuantile,
  expectedRequest,
  feedbackInRange,
  feedbackValue,
  finalVersion,
  groupBy,
  hourOf,
  isError,
  isRateLimited,
  isRoot,
  modelOf,
  normalizedScore,
  nsToMs,
  requestByTrace,
  requestsInRange,
  spanCost,
  spanDurationMs,
  spanStartMs,
  startOfDayMs,
  sum,
  sumBig,
  unitsToUsd,
  type Row,
} from './expected.js';

let proc: TestProcessor;
let ds: SynthDataset;
let priceDir: string;
let fromMs: number;
let toMs: number;

beforeAll(async () => {
  priceDir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
  const pricesFile = join(priceDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  proc = await startProcessor({ RAGSCOPE_PRICES_FILE: pricesFile });
  ds = generateDataset({ seed: 'queries-test', requests: 1500, days: 6, endMs: startOfCurrentHourMs(testNow()) });
  await sendDataset(proc.url, ds, { order: 'children-first', batchSpans: 500 });
  // A window of whole UTC days strictly inside the data: the partial first day and today are outside it.
  fromMs = startOfDayMs(ds.fromMs) + 86_400_000;
  // (ds.toMs - 1: when the data ends exactly at midnight, its last whole day is left outside too.)
  toMs = startOfDayMs(ds.toMs - 1);
}, 300_000);

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
  if (priceDir) removeDir(priceDir);
});

async function run(name: string, params: Record<string, ParamValue> = {}): Promise<Row[]> {
  return runNamedQuery(proc.processor.store.writer, name, { from: new Date(fromMs), to: new Date(toMs), ...params }, {
    clickhouseSettings: { output_format_json_quote_decimals: 1 },
  });
}

// ---- expected-value matchers

class Approx {
  constructor(readonly value: number | null, readonly tol = 1e-9, readonly abs = 0) {}
}
class Usd {
  constructor(readonly units: bigint) {}
}
class Quant {
  constructor(readonly values: number[], readonly level: number, readonly tol: number, readonly smallTol: number, readonly slack = 0) {}
}
const approx = (v: number | null, tol = 1e-9, abs = 0) => new Approx(v, tol, abs);
const usd = (u: bigint) => new Usd(u);
/** A Decimal computed by division in SQL (truncated to 12 places): within 1e-11 USD. */
const usdDiv = (v: number | null) => new Approx(v, 1e-9, 1e-11);
const dd = (values: number[], level: number) => new Quant(values, level, DD_TOL, DD_SMALL_TOL);

function matchValue(actual: unknown, e: unknown, label: string): void {
  if (e instanceof Usd) {
    expect(decimalToUnits(actual as string), label).toBe(e.units);
  } else if (e instanceof Approx) {
    if (e.value === null) {
      expect(actual, label).toBeNull();
      return;
    }
    const a = Number(actual);
    const tol = Math.max(e.abs, Math.abs(e.value) * e.tol, 1e-12);
    if (!(Math.abs(a - e.value) <= tol)) throw new Error(`${label}: got ${String(actual)}, expected ≈ ${e.value}`);
  } else if (e instanceof Quant) {
    expectQuantile(Number(actual), e.values, e.level, e.tol, e.slack, label, e.smallTol);
  } else if (typeof e === 'number') {
    expect(Number(actual), label).toBe(e);
  } else if (e === null) {
    expect(actual, label).toBeNull();
  } else {
    expect(actual, label).toEqual(e);
  }
}

function matchRows(actual: Row[], expected: Row[], keyCols: string[], name: string, ordered = false): void {
  // Two empty answers would agree: every query is checked against a non-empty expectation.
  expect(expected.length, `${name}: expected rows`).toBeGreaterThan(0);
  const k = (r: Row) => keyCols.map((c) => String(r[c])).join('|');
  if (ordered) expect(actual.map(k), `${name}: row order`).toEqual(expected.map(k));
  else expect(actual.map(k).sort(), `${name}: rows`).toEqual(expected.map(k).sort());
  const byKey = new Map(actual.map((r) => [k(r), r]));
  for (const e of expected) {
    const a = byKey.get(k(e))!;
    for (const [col, v] of Object.entries(e)) matchValue(a[col], v, `${name} [${k(e)}] ${col}`);
  }
}

// ---- dataset slices

const inDays = (ms: number) => dayOf(ms) >= dayOf(fromMs) && dayOf(ms) <= dayOf(toMs - 1000);
const inHours = (ms: number) => ms >= fromMs && ms < toMs;
const spansInDays = () => allSpans(ds).filter(({ span }) => inDays(spanStartMs(span)));
const spansInHours = () => allSpans(ds).filter(({ span }) => inHours(spanStartMs(span)));
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const avgOf = (xs: number[]) => (xs.length ? sum(xs) / xs.length : null);

function costOf(spans: SynthSpan[]): bigint {
  return sumBig(spans.map((s) => spanCost(s).total));
}

/** The feedback rows a query sees: latest version given in [from, to), linked to its request. */
function feedbackRows(): { fb: SynthFeedback; score: number }[] {
  return feedbackInRange(ds, fromMs, toMs).map((fb) => ({ fb, score: normalizedScore(finalVersion(fb)) }));
}

/** request_stage_breakdown's rows for these requests, sampled with `stride`. */
function stageBreakdownExpected(reqs: ReturnType<typeof expectedRequest>[], stride: number) {
    const groups = groupBy(reqs, (r) => r.feature);
  const nn = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  // Stage extents are epoch-millisecond floats in the rollup: ~0.25 µs resolution, so compare to 1 µs.
  const ms = (v: number | null) => approx(v, 0, 0.001);
  return [...groups].map(([feature, rs]) => ({
    feature,
    sample_stride: stride,
    requests: rs.length,
    avg_total_ms: approx(avgOf(rs.map((r) => r.totalMs))),
    p95_total_ms: new Quant(rs.map((r) => r.totalMs), 0.95, 1e-9, 1e-9, 1),
    avg_embedding_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.embedding)))),
    avg_retrieval_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.retrieval)))),
    avg_rerank_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.rerank)))),
    avg_context_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.context_assembly)))),
    avg_generation_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.generation)))),
    avg_post_processing_ms: ms(avgOf(nn(rs.map((r) => r.stageMs.post_processing)))),
    avg_time_to_first_token_ms: ms(avgOf(nn(rs.map((r) => r.timeToFirstTokenMs)))),
    avg_tokens: approx(avgOf(rs.map((r) => r.inputTokens + r.outputTokens))),
    avg_cost_usd: usdDiv(unitsToUsd(sumBig(rs.map((r) => r.cost))) / rs.length),
    avg_documents_retrieved: approx(avgOf(rs.map((r) => r.documentsRetrieved))),
    avg_documents_cited: approx(avgOf(rs.map((r) => r.documentsCited))),
    avg_citation_usage: approx(avgOf(nn(rs.map((r) => r.citationUsage)))),
    invalid_citations: sum(rs.map((r) => r.invalidCitations)),
    cache_hit_rate: approx(rs.filter((r) => r.cacheHit).length / rs.length),
    failure_rate: approx(rs.filter((r) => r.hasError).length / rs.length),
  }));
}

describe('example queries', () => {
  it('every file states its question and declares its parameters', () => {
    const queries = listNamedQueries();
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const q of queries) {
      expect(q.question.length, q.name).toBeGreaterThan(30);
      const names = q.parameters.map((p) => p.name);
      expect(names, q.name).toContain('tenant');
      expect(names, q.name).toContain('to');
    }
  });

  it('window sanity: the range excludes data on both sides', () => {
    expect(ds.requests.some((r) => nsToMs(r.startNs) < fromMs)).toBe(true);
    expect(ds.requests.some((r) => nsToMs(r.startNs) >= toMs)).toBe(true);
  });

  it('cost_per_model_per_day', async () => {
    const groups = groupBy(
      spansInDays().filter(({ span }) => MODEL_OPS.has(span.operation) && modelOf(span) !== ''),
      ({ span }) => [dayOf(spanStartMs(span)), span.provider, modelOf(span)].join('|'),
    );
    const expected = [...groups].map(([k, items]) => {
      const [day, provider, model] = k.split('|');
      const spans = items.map((i) => i.span);
      const u = spans.filter((s) => s.usage);
      return {
        day, provider, model,
        calls: spans.length,
        calls_with_usage: u.length,
        input_tokens: sum(u.map((s) => s.usage!.input ?? 0)),
        output_tokens: sum(u.map((s) => s.usage!.output ?? 0)),
        cache_read_tokens: sum(u.map((s) => s.usage!.cacheRead ?? 0)),
        cache_write_tokens: sum(u.map((s) => s.usage!.cacheWrite ?? 0)),
        reasoning_tokens: sum(u.map((s) => s.usage!.reasoning ?? 0)),
        cost_usd: usd(costOf(spans)),
        unpriced_calls: spans.filter((s) => spanCost(s).source === 'unpriced').length,
      };
    });
    matchRows(await run('cost_per_model_per_day'), expected, ['day', 'provider', 'model'], 'cost_per_model_per_day');
  });

  it('top_users_by_cost', async () => {
    const groups = groupBy(spansInDays(), ({ req }) => req.userId);
    const all = [...groups].map(([user, items]) => {
      const spans = items.map((i) => i.span);
      const cost = costOf(spans);
      const requests = spans.filter(isRoot).length;
      return {
        user_id: user,
        requests,
        total_tokens: sum(spans.map((s) => (s.usage?.input ?? 0) + (s.usage?.output ?? 0))),
        cost_usd: usd(cost),
        cost_per_request_usd: usdDiv(requests ? unitsToUsd(cost) / requests : null),
        failed_requests: spans.filter((s) => isRoot(s) && isError(s)).length,
        llm_calls: spans.filter((s) => LLM_OPS.has(s.operation)).length,
        sessions: new Set(items.map((i) => i.req.sessionId)).size,
        _cost: cost,
      };
    });
    all.sort((a, b) => (a._cost === b._cost ? (a.user_id < b.user_id ? -1 : 1) : a._cost > b._cost ? -1 : 1));
    const expected = all.slice(0, 5).map(({ _cost, ...r }) => r);
    matchRows(await run('top_users_by_cost', { limit: 5 }), expected, ['user_id'], 'top_users_by_cost', true);
  });

  it('top_features_by_cost', async () => {
    const groups = groupBy(spansInDays(), ({ req }) => req.feature);
    const expected = [...groups].map(([feature, items]) => {
      const spans = items.map((i) => i.span);
      const requests = spans.filter(isRoot).length;
      const cost = costOf(spans);
      return {
        feature,
        requests,
        llm_calls: spans.filter((s) => LLM_OPS.has(s.operation)).length,
        total_tokens: sum(spans.map((s) => (s.usage?.input ?? 0) + (s.usage?.output ?? 0))),
        cost_usd: usd(cost),
        cost_per_request_usd: usdDiv(requests ? unitsToUsd(cost) / requests : null),
        unpriced_calls: spans.filter((s) => spanCost(s).source === 'unpriced').length,
      };
    });
    matchRows(await run('top_features_by_cost'), expected, ['feature'], 'top_features_by_cost');
  });

  it('latency_percentiles_per_stage_hourly', async () => {
    const groups = groupBy(spansInHours(), ({ span }) => `${hourOf(spanStartMs(span))}|${span.stage}`);
    const expected = [...groups].map(([k, items]) => {
      const [hour, stage] = k.split('|');
      const d = items.map(({ span }) => spanDurationMs(span));
      return { hour, stage, calls: d.length, avg_ms: approx(sum(d) / d.length), p50_ms: dd(d, 0.5), p90_ms: dd(d, 0.9), p95_ms: dd(d, 0.95), p99_ms: dd(d, 0.99), max_ms: approx(Math.max(...d)) };
    });
    matchRows(await run('latency_percentiles_per_stage_hourly'), expected, ['hour', 'stage'], 'latency_percentiles_per_stage_hourly');
  });

  it('sla_breach_rate: exact on ladder thresholds, off-ladder thresholds rounded up and reported', async () => {
    for (const [sla, used] of [[2000, 2000], [250, 250], [1800, 2000]] as const) {
      const groups = groupBy(spansInHours(), ({ span }) => `${dayOf(spanStartMs(span))}|${span.stage}`);
      const expected = [...groups].map(([k, items]) => {
        const [day, stage] = k.split('|');
        const d = items.map(({ span }) => spanDurationMs(span));
        const breaches = d.filter((x) => x > used).length;
        return { day, stage, calls: d.length, breaches, breach_rate: approx(breaches / d.length), sla_ms_used: used };
      });
      matchRows(await run('sla_breach_rate', { sla_ms: sla }), expected, ['day', 'stage'], `sla_breach_rate(${sla})`);
    }
  });

  it('ttft_p95_streaming', async () => {
    const groups = groupBy(
      spansInHours().filter(({ span }) => LLM_OPS.has(span.operation)),
      ({ span }) => `${dayOf(spanStartMs(span))}|${span.provider}|${modelOf(span)}`,
    );
    const expected = [...groups]
      .map(([k, items]) => {
        const [day, provider, model] = k.split('|');
        const spans = items.map((i) => i.span);
        const t = spans.filter((s) => s.ttftMs !== null).map((s) => s.ttftMs!);
        return { day, provider, model, streaming_calls: spans.filter((s) => s.streaming === true).length, ttft_samples: t.length, avg_ttft_ms: approx(avgOf(t)), p50_ttft_ms: dd(t, 0.5), p95_ttft_ms: dd(t, 0.95), p99_ttft_ms: dd(t, 0.99), max_ttft_ms: approx(t.length ? Math.max(...t) : 0) };
      })
      .filter((r) => r.ttft_samples > 0);
    matchRows(await run('ttft_p95_streaming'), expected, ['day', 'provider', 'model'], 'ttft_p95_streaming');
  });

  it('token_efficiency_by_model', async () => {
    const groups = groupBy(
      spansInDays().filter(({ span }) => LLM_OPS.has(span.operation) && modelOf(span) !== ''),
      ({ span }) => `${span.provider}|${modelOf(span)}`,
    );
    const expected = [...groups]
      .map(([k, items]) => {
        const [provider, model] = k.split('|');
        const spans = items.map((i) => i.span);
        const u = spans.filter((s) => s.usage);
        const inp = sum(u.map((s) => s.usage!.input ?? 0));
        const out = sum(u.map((s) => s.usage!.output ?? 0));
        const unpriced = spans.some((s) => spanCost(s).source === 'unpriced');
        return {
          provider, model,
          calls_with_usage: u.length,
          input_tokens: inp,
          output_tokens: out,
          output_per_input: approx(out / inp),
          avg_input_tokens: approx(inp / u.length),
          avg_output_tokens: approx(out / u.length),
          cache_read_share: approx(sum(u.map((s) => s.usage!.cacheRead ?? 0)) / inp),
          reasoning_share: approx(ratio(sum(u.map((s) => s.usage!.reasoning ?? 0)), out)),
          cost_per_1k_output_usd: usdDiv(out > 0 && !unpriced ? (unitsToUsd(costOf(spans)) * 1000) / out : null),
        };
      })
      .filter((r) => r.calls_with_usage > 0 && r.input_tokens > 0);
    matchRows(await run('token_efficiency_by_model'), expected, ['provider', 'model'], 'token_efficiency_by_model');
  });

  it('retrieval_quality', async () => {
    const groups = groupBy(spansInHours(), ({ span, req }) => `${dayOf(spanStartMs(span))}|${req.feature}`);
    const expected = [...groups]
      .map(([k, items]) => {
        const [day, feature] = k.split('|');
        const spans = items.map((i) => i.span);
        const ret = spans.filter((s) => s.operation === 'retrieval');
        const scores = ret.flatMap((s) => s.documents!.map((d) => d.score));
        const scored = ret.filter((s) => s.documents!.length > 0);
        const docs = sum(ret.map((s) => s.documents!.length));
        const cited = sum(spans.map((s) => new Set(s.citedIds ?? []).size));
        const citations = sum(spans.map((s) => s.citationCount ?? 0));
        const invalid = sum(spans.map((s) => s.invalidCitations ?? 0));
        return {
          day, feature,
          retrievals: ret.length,
          documents_per_retrieval: approx(docs / ret.length),
          avg_relevance: approx(avgOf(scores)),
          avg_top_relevance: approx(avgOf(scored.map((s) => Math.max(...s.documents!.map((d) => d.score))))),
          empty_retrieval_rate: approx(ret.filter((s) => s.documents!.length === 0).length / ret.length),
          citation_usage_rate: approx(ratio(cited, docs)),
          invalid_citation_rate: approx(ratio(invalid, citations + invalid)),
          reranks: spans.filter((s) => s.operation === 'rerank').length,
        };
      })
      .filter((r) => r.retrievals > 0);
    matchRows(await run('retrieval_quality'), expected, ['day', 'feature'], 'retrieval_quality');
  });

  it('low_rated_requests: newest first, with fingerprint, model and the captured query text', async () => {
    const byTrace = requestByTrace(ds);
    const low = feedbackRows()
      .filter((f) => f.score < 0.4)
      .map(({ fb }) => {
        const v = finalVersion(fb);
        const req = byTrace.get(fb.requestTraceId)!;
        const e = expectedRequest(req);
        const retrieval = req.spans.find((s) => s.operation === 'retrieval');
        return {
          feedback_time: new Date(v.timeMs).toISOString().replace('T', ' ').replace('Z', ''),
          trace_id: fb.requestTraceId,
          kind: v.kind,
          thumbs: v.thumbs ?? '',
          rating: v.rating,
          value: feedbackValue(v),
          comment: v.comment,
          tags: v.tags,
          user_id: fb.userId,
          query_fingerprint: req.fingerprint,
          query_text: retrieval && req.contentCaptured ? req.queryText : '',
          feature: req.feature,
          model: e.model,
          variant: req.variant,
          avg_relevance: approx(e.avgRelevance),
          cost_usd: usd(e.cost),
          total_ms: approx(e.totalMs),
          has_error: e.hasError ? 1 : 0,
          _t: v.timeMs,
        };
      })
      .sort((a, b) => b._t - a._t || (a.trace_id < b.trace_id ? -1 : 1))
      .map(({ _t, ...r }) => r);
    expect(low.length).toBeGreaterThan(5);
    expect(low.some((r) => r.query_text !== '')).toBe(true);
    // The query stops at {limit} (default 50): the newest 50, and all of them with a limit above their count.
    matchRows(await run('low_rated_requests'), low.slice(0, 50), ['feedback_time', 'trace_id'], 'low_rated_requests', true);
    matchRows(await run('low_rated_requests', { limit: low.length + 10 }), low, ['feedback_time', 'trace_id'], 'low_rated_requests (all)', true);
  });

  it('feedback_rate_and_ratings', async () => {
    const requestsByDay = groupBy(spansInDays().filter(({ span }) => isRoot(span)), ({ span }) => dayOf(spanStartMs(span)));
    const fbByDay = groupBy(feedbackInRange(ds, fromMs, toMs), (fb) => dayOf(finalVersion(fb).timeMs));
    const days = new Set([...requestsByDay.keys(), ...fbByDay.keys()]);
    const expected = [...days].map((day) => {
      const requests = requestsByDay.get(day)?.length ?? 0;
      const vs = (fbByDay.get(day) ?? []).map(finalVersion);
      const ratings = vs.filter((v) => v.kind === 'rating').map((v) => v.rating!);
      return {
        day,
        requests,
        feedback: vs.length,
        feedback_rate: approx(ratio(vs.length, requests)),
        thumbs_up: vs.filter((v) => v.thumbs === 'up').length,
        thumbs_down: vs.filter((v) => v.thumbs === 'down').length,
        rating_1: ratings.filter((r) => r === 1).length,
        rating_2: ratings.filter((r) => r === 2).length,
        rating_3: ratings.filter((r) => r === 3).length,
        rating_4: ratings.filter((r) => r === 4).length,
        rating_5: ratings.filter((r) => r === 5).length,
        avg_rating: approx(avgOf(ratings)),
        avg_normalized_score: approx(avgOf(vs.map(normalizedScore))),
      };
    });
    matchRows(await run('feedback_rate_and_ratings'), expected, ['day'], 'feedback_rate_and_ratings');
  });

  function feedbackBy(keyOf: (req: ReturnType<typeof expectedRequest>) => string, keyCols: string[]): Row[] {
    const byTrace = requestByTrace(ds);
    const groups = groupBy(feedbackRows(), ({ fb }) => keyOf(expectedRequest(byTrace.get(fb.requestTraceId)!)));
    return [...groups].map(([k, items]) => {
      const vs = items.map(({ fb }) => finalVersion(fb));
      const thumbs = vs.filter((v) => v.kind === 'thumbs');
      const down = vs.filter((v) => v.thumbs === 'down').length;
      const parts = k.split('|');
      return {
        ...Object.fromEntries(keyCols.map((c, i) => [c, parts[i]])),
        feedback: vs.length,
        thumbs_feedback: thumbs.length,
        thumbs_down: down,
        thumbs_down_rate: approx(ratio(down, thumbs.length)),
        negative_rate: approx(items.filter((i) => i.score < 0.4).length / items.length),
      };
    });
  }

  it('thumbs_down_by_model', async () => {
    matchRows(await run('thumbs_down_by_model'), feedbackBy((r) => r.model, ['model']), ['model'], 'thumbs_down_by_model');
  });

  it('thumbs_down_by_variant', async () => {
    const expected = feedbackBy((r) => `${r.experiment}|${r.variant}`, ['experiment', 'variant']).filter((r) => r.experiment !== '');
    matchRows(await run('thumbs_down_by_variant'), expected, ['experiment', 'variant'], 'thumbs_down_by_variant');
  });

  it('ab_variant_comparison: cost, latency, relevance and feedback per arm', async () => {
    const byTrace = requestByTrace(ds);
    const fbGroups = groupBy(feedbackRows(), ({ fb }) => {
      const r = byTrace.get(fb.requestTraceId)!;
      return `${r.experiment}|${r.variant}`;
    });
    const arms = groupBy(spansInDays().filter(({ req }) => req.experiment !== ''), ({ req }) => `${req.experiment}|${req.variant}`);
    const hourly = groupBy(spansInHours().filter(({ req }) => req.experiment !== ''), ({ req }) => `${req.experiment}|${req.variant}`);
    const expected = [...arms].map(([k, items]) => {
      const [experiment, variant] = k.split('|');
      const spans = items.map((i) => i.span);
      const requests = spans.filter(isRoot).length;
      const cost = costOf(spans);
      const hs = hourly.get(k)!.map((i) => i.span);
      const roots = hs.filter(isRoot);
      const rootMs = roots.map(spanDurationMs);
      const ret = hs.filter((s) => s.operation === 'retrieval');
      const scores = ret.flatMap((s) => s.documents!.map((d) => d.score));
      const docs = sum(ret.map((s) => s.documents!.length));
      const cited = sum(hs.map((s) => new Set(s.citedIds ?? []).size));
      const fb = fbGroups.get(k) ?? [];
      const thumbs = fb.filter(({ fb: f }) => finalVersion(f).kind === 'thumbs');
      return {
        experiment, variant, requests,
        cost_usd: usd(cost),
        cost_per_request_usd: usdDiv(requests ? unitsToUsd(cost) / requests : null),
        p50_latency_ms: dd(rootMs, 0.5),
        p95_latency_ms: dd(rootMs, 0.95),
        failure_rate: approx(roots.filter(isError).length / roots.length),
        avg_relevance: approx(avgOf(scores)),
        citation_usage_rate: approx(ratio(cited, docs)),
        feedback: fb.length,
        positive_rate: approx(fb.length ? fb.filter((f) => f.score >= 0.5).length / fb.length : 0),
        avg_normalized_score: approx(fb.length ? avgOf(fb.map((f) => f.score)) : 0),
        thumbs_down_rate: approx(ratio(thumbs.filter(({ fb: f }) => finalVersion(f).thumbs === 'down').length, thumbs.length)),
      };
    });
    expected.sort((a, b) => (a.experiment + '|' + a.variant < b.experiment + '|' + b.variant ? -1 : 1));
    matchRows(await run('ab_variant_comparison'), expected, ['experiment', 'variant'], 'ab_variant_comparison', true);
  });

  it('rate_limit_incidents', async () => {
    const groups = groupBy(
      spansInHours().filter(({ span }) => MODEL_OPS.has(span.operation)),
      ({ span }) => `${hourOf(spanStartMs(span))}|${span.provider}|${modelOf(span)}`,
    );
    const expected = [...groups]
      .map(([k, items]) => {
        const [hour, provider, model] = k.split('|');
        const spans = items.map((i) => i.span);
        const rl = spans.filter(isRateLimited).length;
        return { hour, provider, model, rate_limited_calls: rl, calls: spans.length, rate_limited_share: approx(rl / spans.length) };
      })
      .filter((r) => r.rate_limited_calls >= 1);
    expect(expected.length).toBeGreaterThan(3);
    matchRows(await run('rate_limit_incidents'), expected, ['hour', 'provider', 'model'], 'rate_limit_incidents');
  });

  it('error_breakdown', async () => {
    // The processor reports every rate-limit spelling as RateLimitError; other types verbatim.
    const typeOf = (s: SynthSpan) => (s.rateLimited ? 'RateLimitError' : s.errorType);
    const spans = spansInHours();
    const errs = spans.filter(({ span }) => isError(span));
    const groups = groupBy(errs, ({ span }) => `${typeOf(span)}|${span.provider}|${modelOf(span)}|${span.operation}`);
    const calls = groupBy(spans, ({ span }) => `${span.provider}|${modelOf(span)}|${span.operation}`);
    const expected = [...groups].map(([k, items]) => {
      const [error_type, provider, model, operation] = k.split('|');
      const c = calls.get(`${provider}|${model}|${operation}`)!.length;
      return {
        error_type, provider, model, operation,
        errors: items.length,
        share_of_errors: approx(items.length / errs.length),
        rate_limited: items.filter(({ span }) => isRateLimited(span)).length,
        calls: c,
        error_rate: approx(items.length / c),
      };
    });
    matchRows(await run('error_breakdown'), expected, ['error_type', 'provider', 'model', 'operation'], 'error_breakdown');
  });

  it('response_cache_savings', async () => {
    const groups = groupBy(spansInDays(), ({ req }) => req.feature);
    const expected = [...groups].map(([feature, items]) => {
      const spans = items.map((i) => i.span);
      const requests = spans.filter(isRoot).length;
      const hits = items.filter((i) => isRoot(i.span) && i.req.cacheHit).length;
      const cost = unitsToUsd(costOf(spans));
      return {
        feature, requests, cache_hits: hits,
        hit_rate: approx(hits / requests),
        cost_usd: usd(costOf(spans)),
        cost_per_answered_request_usd: usdDiv(cost / (requests - hits)),
        estimated_savings_usd: usdDiv((hits * cost) / (requests - hits)),
      };
    });
    matchRows(await run('response_cache_savings'), expected, ['feature'], 'response_cache_savings');
  });

  it('prompt_cache_savings', async () => {
    const groups = groupBy(
      spansInDays().filter(({ span }) => LLM_OPS.has(span.operation) && modelOf(span) !== ''),
      ({ span }) => `${span.provider}|${modelOf(span)}`,
    );
    const expected = [...groups]
      .map(([k, items]) => {
        const [provider, model] = k.split('|');
        const spans = items.map((i) => i.span);
        const costs = spans.map(spanCost);
        const inp = sum(spans.map((s) => s.usage?.input ?? 0));
        const cr = sum(spans.map((s) => s.usage?.cacheRead ?? 0));
        const cw = sum(spans.map((s) => s.usage?.cacheWrite ?? 0));
        const crCost = sumBig(costs.map((c) => c.cacheRead));
        const inputCost = sumBig(costs.map((c) => c.input));
        const uncached = inp - cr - cw;
        return {
          provider, model,
          input_tokens: inp, cache_read_tokens: cr, cache_write_tokens: cw,
          cache_read_share: approx(inp ? cr / inp : null),
          cache_read_cost_usd: usd(crCost),
          cache_write_cost_usd: usd(sumBig(costs.map((c) => c.cacheWrite))),
          estimated_savings_usd: usdDiv(uncached > 0 ? (cr * unitsToUsd(inputCost)) / uncached - unitsToUsd(crCost) : null),
          _unpriced: costs.some((c) => c.source === 'unpriced'),
        };
      })
      .filter((r) => r.input_tokens > 0 && !r._unpriced)
      .map(({ _unpriced, ...r }) => r);
    matchRows(await run('prompt_cache_savings'), expected, ['provider', 'model'], 'prompt_cache_savings');
  });

  it('most_repeated_questions', async () => {
    const reqs = ds.requests.filter((r) => inDays(nsToMs(r.startNs)));
    const groups = groupBy(reqs, (r) => r.fingerprint);
    const ranked = [...groups]
      .map(([fp, rs]) => ({ fp, rs }))
      .sort((a, b) => b.rs.length - a.rs.length || (a.fp < b.fp ? -1 : 1))
      .slice(0, 10);
    const expected = ranked.map(({ fp, rs }) => {
      const e = rs.map(expectedRequest);
      return {
        fingerprint: fp,
        requests: rs.length,
        users: new Set(rs.map((r) => r.userId)).size,
        avg_latency_ms: approx(avgOf(rs.map((r) => Number(r.endNs - r.startNs) / 1e6))),
        cache_hits: rs.filter((r) => r.cacheHit).length,
        first_seen: new Date(Math.min(...rs.map((r) => Math.floor(nsToMs(r.startNs))))).toISOString().replace('T', ' ').replace('Z', ''),
        last_seen: new Date(Math.max(...rs.map((r) => Math.floor(nsToMs(r.startNs))))).toISOString().replace('T', ' ').replace('Z', ''),
        avg_tokens: approx(avgOf(e.map((x) => x.inputTokens + x.outputTokens))),
        avg_cost_usd: approx(avgOf(e.map((x) => unitsToUsd(x.cost))), 1e-6),
        cost_sample_stride: 1,
      };
    });
    matchRows(await run('most_repeated_questions', { limit: 10 }), expected, ['fingerprint'], 'most_repeated_questions', true);
  });

  it('month_end_cost_projection', async () => {
    const asOf = dayOf(toMs - 1000);
    const monthStart = `${asOf.slice(0, 8)}01`;
    const d = new Date(`${asOf}T00:00:00Z`);
    const monthEnd = dayOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
    const spans = allSpans(ds).map((x) => x.span);
    const costBetween = (a: string, b: string) => costOf(spans.filter((s) => dayOf(spanStartMs(s)) >= a && dayOf(spanStartMs(s)) <= b));
    const windowStart = dayOf(fromMs);
    const mtd = costBetween(monthStart, asOf);
    const win = costBetween(windowStart, asOf);
    const windowDays = Math.round((Date.parse(`${asOf}T00:00:00Z`) - Date.parse(`${windowStart}T00:00:00Z`)) / 86_400_000) + 1;
    const daysLeft = Math.round((Date.parse(`${monthEnd}T00:00:00Z`) - Date.parse(`${asOf}T00:00:00Z`)) / 86_400_000);
    const rate = unitsToUsd(win) / windowDays;
    // An empty store would project 0 from 0: the figures checked below must come from data.
    expect(win).toBeGreaterThan(0n);
    expect(mtd).toBeGreaterThan(0n);
    const rows = await run('month_end_cost_projection');
    expect(rows.length).toBe(1);
    matchRows(
      rows,
      [{
        as_of_day: asOf, month_start: monthStart, month_end: monthEnd,
        month_to_date_usd: usd(mtd), window_cost_usd: usd(win), window_days: windowDays,
        daily_rate_usd: usdDiv(rate), days_left: daysLeft,
        projected_month_usd: new Approx(unitsToUsd(mtd) + rate * daysLeft, 1e-9, 1e-9),
      }],
      ['as_of_day'],
      'month_end_cost_projection',
    );
  });

  it('period_over_period', async () => {
    const len = Math.round((toMs - fromMs) / 86_400_000);
    const prevFrom = dayOf(fromMs - len * 86_400_000);
    const cur = (ms: number) => inDays(ms);
    const prev = (ms: number) => dayOf(ms) >= prevFrom && dayOf(ms) < dayOf(fromMs);
    const groups = groupBy(allSpans(ds).filter(({ span }) => cur(spanStartMs(span)) || prev(spanStartMs(span))), ({ req }) => req.feature);
    const expected = [...groups].map(([feature, items]) => {
      const c = items.filter(({ span }) => cur(spanStartMs(span))).map((i) => i.span);
      const p = items.filter(({ span }) => prev(spanStartMs(span))).map((i) => i.span);
      const tok = (ss: SynthSpan[]) => sum(ss.map((s) => (s.usage?.input ?? 0) + (s.usage?.output ?? 0)));
      const requests = c.filter(isRoot).length;
      const prevRequests = p.filter(isRoot).length;
      return {
        feature, requests, prev_requests: prevRequests,
        requests_change: approx(prevRequests > 0 ? requests / prevRequests - 1 : null),
        llm_calls: c.filter((s) => LLM_OPS.has(s.operation)).length,
        prev_llm_calls: p.filter((s) => LLM_OPS.has(s.operation)).length,
        tokens: tok(c), prev_tokens: tok(p),
        cost_usd: usd(costOf(c)), prev_cost_usd: usd(costOf(p)),
        errors: c.filter(isError).length, prev_errors: p.filter(isError).length,
      };
    });
    expect(expected.some((r) => r.prev_requests > 0)).toBe(true);
    matchRows(await run('period_over_period'), expected, ['feature'], 'period_over_period');
  });

  it('evaluation_score_distribution', async () => {
    const groups = groupBy(evaluationsInDays(ds, fromMs, toMs), (e) => e.name);
    const expected = [...groups].map(([name, evs]) => {
      const v = evs.filter((e) => e.value !== null).map((e) => e.value!);
      const quant = (level: number) => new Quant(v, level, 0, 0, 1);
      return {
        name, evaluations: evs.length, scored: v.length,
        mean_score: approx(avgOf(v)), min_score: Math.min(...v), max_score: Math.max(...v),
        p10: quant(0.1), p25: quant(0.25), p50: quant(0.5), p75: quant(0.75), p90: quant(0.9),
        histogram: countMap(v.map((x) => Math.floor(x * 10))),
        labels: countMap(evs.filter((e) => e.label !== '').map((e) => e.label)),
      };
    });
    matchRows(await run('evaluation_score_distribution'), expected, ['name'], 'evaluation_score_distribution');
  });

  it('prediction_precision_recall', async () => {
    const evs = evaluationsInDays(ds, fromMs, toMs).filter((e) => e.predicted && e.actual);
    const byModel = groupBy(evs, (e) => `${e.name}|${e.model}`);
    const expected: Row[] = [];
    for (const [k, list] of byModel) {
      const [name, model] = k.split('|');
      const labels = new Set(list.flatMap((e) => [e.predicted, e.actual]));
      const correct = list.filter((e) => e.predicted === e.actual).length;
      for (const label of labels) {
        const tp = list.filter((e) => e.predicted === label && e.actual === label).length;
        const predicted = list.filter((e) => e.predicted === label).length;
        const actual = list.filter((e) => e.actual === label).length;
        expected.push({
          name, model, label, tp, predicted, actual,
          precision: approx(ratio(tp, predicted)),
          recall: approx(ratio(tp, actual)),
          f1: approx(ratio(2 * tp, predicted + actual)),
          accuracy: approx(correct / list.length),
        });
      }
    }
    expect(expected.length).toBeGreaterThan(10);
    matchRows(await run('prediction_precision_recall'), expected, ['name', 'model', 'label'], 'prediction_precision_recall');
  });

  it('request_stage_breakdown', async () => {
    const reqs = requestsInRange(ds, fromMs, toMs).map(expectedRequest);
    matchRows(await run('request_stage_breakdown'), stageBreakdownExpected(reqs, 1), ['feature'], 'request_stage_breakdown');
  });

  it('request_stage_breakdown past its sample size: a hash range of requests, served by the by_trace_hash projection', async () => {
    // The same query with a sample size of 300 requests instead of 20 000, so this data set is sampled.
    const query = listNamedQueries().find((q) => q.name === 'request_stage_breakdown')!;
    const sql = query.sql.replace('intDiv(count(), 20000)', 'intDiv(count(), 300)');
    expect(sql).not.toBe(query.sql);
    const params = resolveParams(query, { from: new Date(fromMs), to: new Date(toMs) });
    const writer = proc.processor.store.writer;
    const rows = async (q: string, settings: Record<string, unknown> = {}) =>
      (await writer.query({ query: q, query_params: params, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_decimals: 1, ...settings } })).json<Row>();
    const result = await rows(sql);
    const stride = Number(result[0]!.sample_stride);
    expect(stride).toBeGreaterThan(1);
    // The projection can serve the sampled read: it holds every column the read needs. (On data this small the
    // engine reads the table itself, the same number of granules; at 10 M spans it reads the projection:
    // docs/benchmarks.md.)
    const plan = (await rows(`EXPLAIN actions = 1 ${sql}`)).map((r) => String(r.explain)).join('\n');
    const read = /ReadFromMergeTree \((?:\w+\.)?request_rollup\)[\s\S]*?Output: ([^\n]+)/.exec(plan);
    expect(read, plan).not.toBeNull();
    const needed = read![1]!.split(', ').map((c) => c.trim());
    expect(needed).toContain('CitedDocumentIds');
    const held = (await rows(`DESCRIBE mergeTreeProjection(currentDatabase(), request_rollup, by_trace_hash)`)).map((r) => String(r.name));
    expect(needed.filter((c) => !held.includes(c))).toEqual([]);
    // Which requests fall in the sample: asked of the table itself (projections off), by the same hash.
    const sampled = new Set(
      (await rows(`SELECT DISTINCT TraceId FROM request_rollup WHERE cityHash64(TraceId) <= intDiv(18446744073709551615, ${stride})`, { optimize_use_projections: 0 })).map((r) => String(r.TraceId)),
    );
    const all = requestsInRange(ds, fromMs, toMs);
    const inSample = all.filter((r) => sampled.has(r.traceId));
    // A uniform hash: about one request in `stride` (6 standard deviations of slack).
    const expectedSize = all.length / stride;
    expect(Math.abs(inSample.length - expectedSize)).toBeLessThan(6 * Math.sqrt(expectedSize));
    matchRows(result, stageBreakdownExpected(inSample.map(expectedRequest), stride), ['feature'], 'request_stage_breakdown sampled');
  });

  it('every query file is covered by a test above', () => {
    const tested = new Set([
      'cost_per_model_per_day', 'top_users_by_cost', 'top_features_by_cost', 'latency_percentiles_per_stage_hourly', 'sla_breach_rate',
      'ttft_p95_streaming', 'token_efficiency_by_model', 'retrieval_quality', 'low_rated_requests', 'feedback_rate_and_ratings',
      'thumbs_down_by_model', 'thumbs_down_by_variant', 'ab_variant_comparison', 'rate_limit_incidents', 'error_breakdown',
      'response_cache_savings', 'prompt_cache_savings', 'most_repeated_questions', 'month_end_cost_projection', 'period_over_period',
      'evaluation_score_distribution', 'prediction_precision_recall', 'request_stage_breakdown',
      // tests/analytics/confidence.test.ts (shuffled arrival order, its own dataset)
      'confidence_distribution', 'low_confidence_requests', 'confidence_by_rating',
      // Conversations and implicit feedback (migration 0026): tests/analytics/conversations.test.ts.
      'sessions_and_active_users_per_day', 'turns_per_conversation', 'session_duration', 'cost_per_session',
      'users_most_thumbs_down_or_reformulations', 'recent_conversations', 'implicit_feedback_by_variant',
      'implicit_feedback_daily', 'top_question_clusters',
    ]);
    expect(listNamedQueries().map((q) => q.name).sort()).toEqual([...tested].sort());
  });
});
