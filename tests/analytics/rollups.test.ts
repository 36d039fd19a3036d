// Every rollup, checked against answers computed independently from the generator's records.
// Traffic goes through the real processor over OTLP/HTTP protobuf in a shuffled order (children before their
// root, every request split across batches), with feedback and evaluation events sent BEFORE the spans.
import { testNow } from '../helpers/clock.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { generateDataset, sendDataset, syntheticPriceBook, type SendStats, type SynthDataset } from '../../tools/synthetic/index.js';
import { startOfCurrentHourMs } from '../../tools/synthetic/index.js';
import {
  DD_SMALL_TOL,
  DD_TOL,
  allSpans,
  countMap,
  dayOf,
  decimalToUnits,
  expectClose,
  expectQuantile,
  expectSameKeys,
  expectedRequest,
  feedbackValue,
  finalVersion,
  groupBy,
  hourOf,
  isError,
  isRateLimited,
  isRoot,
  ladderKey,
  modelOf,
  normalizedScore,
  nsToMs,
  spanCost,
  spanDurationMs,
  spanStartMs,
  sum,
  sumBig,
  type Row,
} from './expected.js';

let proc: TestProcessor;
let ds: SynthDataset;
let stats: SendStats;
let priceDir: string;

beforeAll(async () => {
  priceDir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
  const pricesFile = join(priceDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  proc = await startProcessor({ RAGSCOPE_PRICES_FILE: pricesFile });
  ds = generateDataset({ seed: 'rollups-test', requests: 1500, days: 5, endMs: startOfCurrentHourMs(testNow()) });
  stats = await sendDataset(proc.url, ds, { order: 'shuffled', batchSpans: 400, feedbackFirst: true, concurrency: 2 });
}, 300_000);

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
  if (priceDir) removeDir(priceDir);
});

const q = <T = Row>(sql: string) => proc.query<T>(sql);
const n = (v: unknown) => Number(v);

function key(parts: unknown[]): string {
  return parts.map((p) => String(p)).join('|');
}

describe('the load itself', () => {
  it('stored every span once, shuffled across batches', async () => {
    const total = ds.requests.reduce((s, r) => s + r.spans.length, 0);
    expect(stats.spans).toBe(total);
    expect(stats.traceRequests).toBeGreaterThan(10);
    const [row] = await q<{ n: string }>('SELECT count() AS n FROM genai_spans');
    expect(n(row.n)).toBe(total);
  });
});

describe('usage_cost_hourly / usage_cost_daily', () => {
  const dims = ['ServiceName', 'Environment', 'Provider', 'Model', 'Operation', 'Feature', 'Experiment', 'Variant'];

  function expectedUsage(bucket: (ms: number) => string) {
    const groups = groupBy(allSpans(ds), ({ span, req }) =>
      key([bucket(spanStartMs(span)), req.service, req.environment, span.provider, modelOf(span), span.operation, req.feature, req.experiment, req.variant]),
    );
    const out = new Map<string, Row>();
    for (const [k, items] of groups) {
      const spans = items.map((i) => i.span);
      const costs = spans.map(spanCost);
      const u = spans.filter((s) => s.usage);
      out.set(k, {
        Requests: spans.filter(isRoot).length,
        Calls: spans.length,
        Errors: spans.filter(isError).length,
        RateLimited: spans.filter(isRateLimited).length,
        StreamingCalls: spans.filter((s) => s.streaming === true).length,
        ResponseCacheHits: items.filter((i) => isRoot(i.span) && i.req.cacheHit).length,
        CallsWithUsage: u.length,
        InputTokens: sum(u.map((s) => s.usage!.input ?? 0)),
        OutputTokens: sum(u.map((s) => s.usage!.output ?? 0)),
        CacheReadTokens: sum(u.map((s) => s.usage!.cacheRead ?? 0)),
        CacheWriteTokens: sum(u.map((s) => s.usage!.cacheWrite ?? 0)),
        ReasoningTokens: sum(u.map((s) => s.usage!.reasoning ?? 0)),
        CostUSD: sumBig(costs.map((c) => c.total)),
        CostInputUSD: sumBig(costs.map((c) => c.input)),
        CostCacheReadUSD: sumBig(costs.map((c) => c.cacheRead)),
        CostCacheWriteUSD: sumBig(costs.map((c) => c.cacheWrite)),
        CostOutputUSD: sumBig(costs.map((c) => c.output)),
        CostReasoningUSD: sumBig(costs.map((c) => c.reasoning)),
        ComputedCostCalls: costs.filter((c) => c.source === 'computed').length,
        ReportedCostCalls: 0,
        UnpricedCalls: costs.filter((c) => c.source === 'unpriced').length,
        DurationSumMs: sum(spans.map(spanDurationMs)),
      });
    }
    return out;
  }

  async function actualUsage(table: string, bucketCol: string) {
    const counters = ['Requests', 'Calls', 'Errors', 'RateLimited', 'StreamingCalls', 'ResponseCacheHits', 'CallsWithUsage', 'InputTokens', 'OutputTokens', 'CacheReadTokens', 'CacheWriteTokens', 'ReasoningTokens', 'ComputedCostCalls', 'ReportedCostCalls', 'UnpricedCalls'];
    const costs = ['CostUSD', 'CostInputUSD', 'CostCacheReadUSD', 'CostCacheWriteUSD', 'CostOutputUSD', 'CostReasoningUSD'];
    const rows = await q(
      `SELECT ${bucketCol} AS b, ${dims.join(', ')}, ${counters.map((c) => `toString(sum(${c})) AS ${c}`).join(', ')},
              ${costs.map((c) => `toString(sum(${c})) AS ${c}`).join(', ')}, sum(DurationSumMs) AS DurationSumMs
       FROM ${table} WHERE TenantId = 'default' GROUP BY b, ${dims.join(', ')}`,
    );
    return new Map(rows.map((r) => [key([r.b, ...dims.map((d) => r[d])]), r]));
  }

  function compare(actual: Map<string, Row>, expected: Map<string, Row>) {
    expectSameKeys(actual.keys(), expected.keys(), 'usage groups');
    for (const [k, e] of expected) {
      const a = actual.get(k)!;
      for (const [col, v] of Object.entries(e)) {
        if (typeof v === 'bigint') expect(decimalToUnits(a[col] as string), `${k} ${col}`).toBe(v);
        else if (col === 'DurationSumMs') expectClose(a[col], v as number, `${k} ${col}`);
        else expect(n(a[col]), `${k} ${col}`).toBe(v);
      }
    }
  }

  it('hourly: every group, every counter, token and cost exact', async () => {
    compare(await actualUsage('usage_cost_hourly', 'toString(Hour)'), expectedUsage(hourOf));
  });

  it('daily (fed from hourly): every group exact', async () => {
    compare(await actualUsage('usage_cost_daily', 'toString(Day)'), expectedUsage(dayOf));
  });
});

describe('user_usage_daily', () => {
  it('requests, calls, tokens, cost and sessions per user and day exact', async () => {
    const rows = await q(
      `SELECT toString(Day) AS d, UserId, ServiceName, Feature, sum(Requests) AS Requests, sum(FailedRequests) AS FailedRequests, sum(LlmCalls) AS LlmCalls,
              sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens, toString(sum(CostUSD)) AS CostUSD, sum(UnpricedCalls) AS UnpricedCalls,
              uniqMerge(Sessions) AS Sessions
       FROM user_usage_daily GROUP BY d, UserId, ServiceName, Feature`,
    );
    const actual = new Map(rows.map((r) => [key([r.d, r.UserId, r.ServiceName, r.Feature]), r]));
    const groups = groupBy(allSpans(ds), ({ span, req }) => key([dayOf(spanStartMs(span)), req.userId, req.service, req.feature]));
    expectSameKeys(actual.keys(), groups.keys(), 'user groups');
    for (const [k, items] of groups) {
      const a = actual.get(k)!;
      const spans = items.map((i) => i.span);
      expect(
        { Requests: n(a.Requests), FailedRequests: n(a.FailedRequests), LlmCalls: n(a.LlmCalls), InputTokens: n(a.InputTokens), OutputTokens: n(a.OutputTokens), Cost: decimalToUnits(a.CostUSD as string), UnpricedCalls: n(a.UnpricedCalls), Sessions: n(a.Sessions) },
        k,
      ).toEqual({
        Requests: spans.filter(isRoot).length,
        FailedRequests: spans.filter((s) => isRoot(s) && isError(s)).length,
        LlmCalls: spans.filter((s) => s.operation === 'chat').length,
        InputTokens: sum(spans.map((s) => s.usage?.input ?? 0)),
        OutputTokens: sum(spans.map((s) => s.usage?.output ?? 0)),
        Cost: sumBig(spans.map((s) => spanCost(s).total)),
        UnpricedCalls: spans.filter((s) => spanCost(s).source === 'unpriced').length,
        Sessions: new Set(items.map((i) => i.req.sessionId)).size,
      });
    }
  });
});

describe('latency_hourly', () => {
  it('counts, sums, maxima and SLA histograms exact; DDSketch quantiles within 1% (3.5% below 1 ms) of the bracketing order statistics', async () => {
    const dims = ['ServiceName', 'Environment', 'Operation', 'RagStage', 'Provider', 'Model', 'Experiment', 'Variant'];
    const rows = await q(
      `SELECT toString(Hour) AS b, ${dims.join(', ')}, sum(Calls) AS Calls, sum(Errors) AS Errors, sum(DurationSumMs) AS DurationSumMs,
              max(DurationMaxMs) AS DurationMaxMs, quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(DurationQuantiles) AS Dq,
              sumMap(DurationHistogram) AS Dh, sum(StreamingCalls) AS StreamingCalls, sum(TtftCount) AS TtftCount, sum(TtftSumMs) AS TtftSumMs,
              max(TtftMaxMs) AS TtftMaxMs, quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(TtftQuantiles) AS Tq, sumMap(TtftHistogram) AS Th
       FROM latency_hourly GROUP BY b, ${dims.join(', ')}`,
    );
    const actual = new Map(rows.map((r) => [key([r.b, ...dims.map((d) => r[d])]), r]));
    const groups = groupBy(allSpans(ds), ({ span, req }) =>
      key([hourOf(spanStartMs(span)), req.service, req.environment, span.operation, span.stage, span.provider, modelOf(span), req.experiment, req.variant]),
    );
    expectSameKeys(actual.keys(), groups.keys(), 'latency groups');
    for (const [k, items] of groups) {
      const a = actual.get(k)!;
      const spans = items.map((i) => i.span);
      const durations = spans.map(spanDurationMs);
      const ttfts = spans.filter((s) => s.ttftMs !== null).map((s) => s.ttftMs!);
      expect(n(a.Calls), k).toBe(spans.length);
      expect(n(a.Errors), k).toBe(spans.filter(isError).length);
      expectClose(a.DurationSumMs, sum(durations), `${k} DurationSumMs`);
      expectClose(a.DurationMaxMs, Math.max(...durations), `${k} DurationMaxMs`);
      expect(a.Dh, `${k} DurationHistogram`).toEqual(countMap(durations.map(ladderKey)));
      [0.5, 0.9, 0.95, 0.99].forEach((level, i) => expectQuantile((a.Dq as number[])[i], durations, level, DD_TOL, 0, k, DD_SMALL_TOL));
      expect(n(a.StreamingCalls), k).toBe(spans.filter((s) => s.streaming === true).length);
      expect(n(a.TtftCount), k).toBe(ttfts.length);
      expectClose(a.TtftSumMs, sum(ttfts), `${k} TtftSumMs`);
      expectClose(a.TtftMaxMs, ttfts.length ? Math.max(...ttfts) : 0, `${k} TtftMaxMs`);
      expect(a.Th, `${k} TtftHistogram`).toEqual(countMap(ttfts.map(ladderKey)));
      if (ttfts.length) [0.5, 0.9, 0.95, 0.99].forEach((level, i) => expectQuantile((a.Tq as number[])[i], ttfts, level, DD_TOL, 0, `${k} ttft`, DD_SMALL_TOL));
    }
  });

  it('quantiles merged across hours keep their accuracy (p95 per stage over the whole range)', async () => {
    const rows = await q<{ RagStage: string; qs: number[] }>(
      'SELECT RagStage, quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(DurationQuantiles) AS qs FROM latency_hourly GROUP BY RagStage',
    );
    const byStage = groupBy(allSpans(ds), ({ span }) => span.stage);
    expect(byStage.size).toBeGreaterThan(0);
    expect(rows.length).toBe(byStage.size);
    for (const r of rows) {
      const d = byStage.get(r.RagStage)!.map(({ span }) => spanDurationMs(span));
      [0.5, 0.9, 0.95, 0.99].forEach((level, i) => expectQuantile(r.qs[i], d, level, DD_TOL, 0, r.RagStage, DD_SMALL_TOL));
    }
  });
});

describe('request_rollup (through the `requests` view)', () => {
  it('one row per request, every column right although its spans arrived shuffled across batches', async () => {
    const rows = await q(
      `SELECT TraceId, toUnixTimestamp64Micro(StartTime) AS start_us, toUnixTimestamp64Micro(EndTime) AS end_us, TotalMs, EmbeddingMs, RetrievalMs,
              RerankMs, ContextMs, GenerationMs, PostProcessingMs, TimeToFirstTokenMs, Spans, UserId, SessionId, ConversationId, Feature,
              Experiment, Variant, QueryFingerprint, QueryChars, Model, arraySort(Models) AS Models, arraySort(ResponseIds) AS ResponseIds, LlmCalls,
              StreamingCalls, Errors, RateLimited, arraySort(ErrorTypes) AS ErrorTypes, InputTokens, OutputTokens, CacheReadTokens,
              CacheWriteTokens, ReasoningTokens, TotalTokens, toString(CostUSD) AS CostUSD, UnpricedCalls, Retrievals, EmptyRetrievals,
              DocumentsRetrieved, AvgRelevance, TopRelevance, Reranks, Citations, InvalidCitations, DocumentsCited, CitationUsage,
              ResponseCacheHit, HasError
       FROM requests(tenant = 'default', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00')`,
    );
    expect(ds.requests.length).toBeGreaterThan(0);
    expect(rows.length).toBe(ds.requests.length);
    const byTrace = new Map(rows.map((r) => [r.TraceId as string, r]));
    for (const req of ds.requests) {
      const e = expectedRequest(req);
      const a = byTrace.get(req.traceId)!;
      const t = req.traceId;
      expect(a, t).toBeDefined();
      expect(n(a.start_us) / 1000, `${t} start`).toBeCloseTo(e.startMs, 3);
      expect(n(a.end_us) / 1000, `${t} end`).toBeCloseTo(e.endMs, 3);
      expectClose(a.TotalMs, e.totalMs, `${t} TotalMs`, 1e-9);
      const stageCols: Record<string, string> = {
        embedding: 'EmbeddingMs',
        retrieval: 'RetrievalMs',
        rerank: 'RerankMs',
        context_assembly: 'ContextMs',
        generation: 'GenerationMs',
        post_processing: 'PostProcessingMs',
      };
      for (const [stage, col] of Object.entries(stageCols)) {
        if (e.stageMs[stage] === null) expect(a[col], `${t} ${col}`).toBeNull();
        else expect(n(a[col]), `${t} ${col}`).toBeCloseTo(e.stageMs[stage]!, 3);
      }
      if (e.timeToFirstTokenMs === null) expect(a.TimeToFirstTokenMs, `${t} ttft`).toBeNull();
      else expect(n(a.TimeToFirstTokenMs), `${t} ttft`).toBeCloseTo(e.timeToFirstTokenMs, 3);
      expect(
        {
          Spans: n(a.Spans), UserId: a.UserId, SessionId: a.SessionId, ConversationId: a.ConversationId, Feature: a.Feature,
          Experiment: a.Experiment, Variant: a.Variant, QueryFingerprint: a.QueryFingerprint, QueryChars: n(a.QueryChars), Model: a.Model,
          Models: a.Models, ResponseIds: a.ResponseIds, LlmCalls: n(a.LlmCalls), StreamingCalls: n(a.StreamingCalls), Errors: n(a.Errors),
          RateLimited: n(a.RateLimited), ErrorTypes: (a.ErrorTypes as string[]).length, InputTokens: n(a.InputTokens),
          OutputTokens: n(a.OutputTokens), CacheReadTokens: n(a.CacheReadTokens), CacheWriteTokens: n(a.CacheWriteTokens),
          ReasoningTokens: n(a.ReasoningTokens), TotalTokens: n(a.TotalTokens), Cost: decimalToUnits(a.CostUSD as string),
          UnpricedCalls: n(a.UnpricedCalls), Retrievals: n(a.Retrievals), EmptyRetrievals: n(a.EmptyRetrievals),
          DocumentsRetrieved: n(a.DocumentsRetrieved), Reranks: n(a.Reranks), Citations: n(a.Citations),
          InvalidCitations: n(a.InvalidCitations), DocumentsCited: n(a.DocumentsCited), ResponseCacheHit: n(a.ResponseCacheHit) === 1,
          HasError: n(a.HasError) === 1,
        },
        t,
      ).toEqual({
        Spans: e.spans, UserId: e.userId, SessionId: e.sessionId, ConversationId: e.conversationId, Feature: e.feature,
        Experiment: e.experiment, Variant: e.variant, QueryFingerprint: e.fingerprint, QueryChars: e.queryChars, Model: e.model,
        Models: e.models, ResponseIds: e.responseIds, LlmCalls: e.llmCalls, StreamingCalls: e.streamingCalls, Errors: e.errors,
        RateLimited: e.rateLimited, ErrorTypes: e.errorTypes.length, InputTokens: e.inputTokens, OutputTokens: e.outputTokens,
        CacheReadTokens: e.cacheReadTokens, CacheWriteTokens: e.cacheWriteTokens, ReasoningTokens: e.reasoningTokens,
        TotalTokens: e.inputTokens + e.outputTokens, Cost: e.cost, UnpricedCalls: e.unpricedCalls, Retrievals: e.retrievals,
        EmptyRetrievals: e.emptyRetrievals, DocumentsRetrieved: e.documentsRetrieved, Reranks: e.reranks, Citations: e.citations,
        InvalidCitations: e.invalidCitations, DocumentsCited: e.documentsCited, ResponseCacheHit: e.cacheHit, HasError: e.hasError,
      });
      if (e.avgRelevance === null) expect(a.AvgRelevance, `${t} AvgRelevance`).toBeNull();
      else expectClose(a.AvgRelevance, e.avgRelevance, `${t} AvgRelevance`, 1e-9);
      if (e.topRelevance === null) expect(a.TopRelevance, `${t} TopRelevance`).toBeNull();
      else expectClose(a.TopRelevance, e.topRelevance, `${t} TopRelevance`, 1e-12);
      if (e.citationUsage === null) expect(a.CitationUsage, `${t} CitationUsage`).toBeNull();
      else expectClose(a.CitationUsage, e.citationUsage, `${t} CitationUsage`, 1e-9);
    }
  });
});

describe('retrieval_quality_hourly', () => {
  it('counts and sums exact per group; relevance histogram exact', async () => {
    const dims = ['ServiceName', 'Environment', 'DataSourceId', 'Feature', 'Experiment', 'Variant'];
    const cols = ['Retrievals', 'EmptyRetrievals', 'Documents', 'ScoredRetrievals', 'RelevanceCount', 'Reranks', 'RerankDocuments', 'RerankRelevanceCount', 'ContextAssemblies', 'ContextChunks', 'ContextChars', 'CitationSpans', 'Citations', 'CitedDocuments', 'InvalidCitations', 'ResponsesWithInvalidCitations'];
    const rows = await q(
      `SELECT toString(Hour) AS b, ${dims.join(', ')}, ${cols.map((c) => `sum(${c}) AS ${c}`).join(', ')}, sum(RelevanceSum) AS RelevanceSum,
              sum(TopRelevanceSum) AS TopRelevanceSum, sum(RerankRelevanceSum) AS RerankRelevanceSum, sumMap(RelevanceHistogram) AS Hist
       FROM retrieval_quality_hourly GROUP BY b, ${dims.join(', ')}`,
    );
    const actual = new Map(rows.map((r) => [key([r.b, ...dims.map((d) => r[d])]), r]));
    const relevant = allSpans(ds).filter(
      ({ span }) => ['retrieval', 'rerank', 'context_assembly'].includes(span.operation) || span.citationCount !== null || span.invalidCitations !== null,
    );
    const groups = groupBy(relevant, ({ span, req }) =>
      key([hourOf(spanStartMs(span)), req.service, req.environment, span.operation === 'retrieval' ? (span.attributes['gen_ai.data_source.id'] as string) : '', req.feature, req.experiment, req.variant]),
    );
    expectSameKeys(actual.keys(), groups.keys(), 'retrieval groups');
    for (const [k, items] of groups) {
      const spans = items.map((i) => i.span);
      const ret = spans.filter((s) => s.operation === 'retrieval');
      const rr = spans.filter((s) => s.operation === 'rerank');
      const scores = ret.flatMap((s) => s.documents!.map((d) => d.score));
      const scored = ret.filter((s) => s.documents!.length > 0);
      const a = actual.get(k)!;
      expect(
        Object.fromEntries(cols.map((c) => [c, n(a[c])])),
        k,
      ).toEqual({
        Retrievals: ret.length,
        EmptyRetrievals: ret.filter((s) => s.documents!.length === 0).length,
        Documents: sum(ret.map((s) => s.documents!.length)),
        ScoredRetrievals: scored.length,
        RelevanceCount: scores.length,
        Reranks: rr.length,
        RerankDocuments: sum(rr.map((s) => s.documents!.length)),
        RerankRelevanceCount: sum(rr.map((s) => s.documents!.length)),
        ContextAssemblies: spans.filter((s) => s.operation === 'context_assembly').length,
        ContextChunks: sum(spans.map((s) => s.contextChunks ?? 0)),
        ContextChars: sum(spans.map((s) => s.contextChars ?? 0)),
        CitationSpans: spans.filter((s) => s.citationCount !== null).length,
        Citations: sum(spans.map((s) => s.citationCount ?? 0)),
        CitedDocuments: sum(spans.map((s) => new Set(s.citedIds ?? []).size)),
        InvalidCitations: sum(spans.map((s) => s.invalidCitations ?? 0)),
        ResponsesWithInvalidCitations: spans.filter((s) => (s.invalidCitations ?? 0) > 0).length,
      });
      expectClose(a.RelevanceSum, sum(scores), `${k} RelevanceSum`);
      expectClose(a.TopRelevanceSum, sum(scored.map((s) => Math.max(...s.documents!.map((d) => d.score)))), `${k} TopRelevanceSum`);
      expectClose(a.RerankRelevanceSum, sum(rr.flatMap((s) => s.documents!.map((d) => d.score))), `${k} RerankRelevanceSum`);
      expect(a.Hist, `${k} histogram`).toEqual(countMap(scores.map((s) => Math.floor(s * 10))));
    }
  });

  it('relevance quantiles (t-digest) per feature within 2 ranks of the exact order statistics', async () => {
    const rows = await q<{ Feature: string; qs: number[] }>(
      'SELECT Feature, quantilesTDigestMerge(0.1, 0.25, 0.5, 0.75, 0.9)(RelevanceQuantiles) AS qs FROM retrieval_quality_hourly GROUP BY Feature HAVING sum(RelevanceCount) > 0',
    );
    const scoredFeatures = new Set(allSpans(ds).filter(({ span }) => span.operation === 'retrieval' && span.documents!.length > 0).map(({ req }) => req.feature));
    expect(scoredFeatures.size).toBeGreaterThan(0);
    expect(rows.map((r) => r.Feature).sort()).toEqual([...scoredFeatures].sort());
    for (const r of rows) {
      const scores = allSpans(ds)
        .filter(({ span, req }) => span.operation === 'retrieval' && req.feature === r.Feature)
        .flatMap(({ span }) => span.documents!.map((d) => d.score));
      [0.1, 0.25, 0.5, 0.75, 0.9].forEach((level, i) => expectQuantile(r.qs[i], scores, level, 0.01, Math.ceil(scores.length * 0.01), r.Feature));
    }
  });
});

describe('query_patterns_daily', () => {
  it('requests, users, latency, cache hits and first/last seen per fingerprint and day', async () => {
    const rows = await q(
      `SELECT toString(Day) AS d, QueryFingerprint, ServiceName, Feature, uniqMerge(Requests) AS Requests, uniqMerge(Users) AS Users,
              uniqMerge(Sessions) AS Sessions, sum(RootSpans) AS RootSpans, sum(RootDurationSumMs) AS RootDurationSumMs, sum(RootErrors) AS RootErrors,
              sum(ResponseCacheHits) AS ResponseCacheHits, sum(QueryCharsSum) AS QueryCharsSum,
              toUnixTimestamp64Milli(min(FirstSeen)) AS FirstSeen, toUnixTimestamp64Milli(max(LastSeen)) AS LastSeen
       FROM query_patterns_daily GROUP BY d, QueryFingerprint, ServiceName, Feature`,
    );
    const actual = new Map(rows.map((r) => [key([r.d, r.QueryFingerprint, r.ServiceName, r.Feature]), r]));
    const groups = groupBy(ds.requests, (r) => key([dayOf(nsToMs(r.startNs)), r.fingerprint, r.service, r.feature]));
    expectSameKeys(actual.keys(), groups.keys(), 'fingerprint groups');
    for (const [k, reqs] of groups) {
      const a = actual.get(k)!;
      expect(
        { Requests: n(a.Requests), Users: n(a.Users), Sessions: n(a.Sessions), RootSpans: n(a.RootSpans), RootErrors: n(a.RootErrors), ResponseCacheHits: n(a.ResponseCacheHits), QueryCharsSum: n(a.QueryCharsSum) },
        k,
      ).toEqual({
        Requests: reqs.length,
        Users: new Set(reqs.map((r) => r.userId)).size,
        Sessions: new Set(reqs.map((r) => r.sessionId)).size,
        RootSpans: reqs.length,
        RootErrors: reqs.filter((r) => r.failed).length,
        ResponseCacheHits: reqs.filter((r) => r.cacheHit).length,
        QueryCharsSum: sum(reqs.map((r) => r.queryChars)),
      });
      expectClose(a.RootDurationSumMs, sum(reqs.map((r) => Number(r.endNs - r.startNs) / 1e6)), `${k} latency`);
      expect(n(a.FirstSeen), k).toBe(Math.min(...reqs.map((r) => Math.floor(nsToMs(r.startNs)))));
      expect(n(a.LastSeen), k).toBe(Math.max(...reqs.map((r) => Math.floor(nsToMs(r.startNs)))));
    }
  });
});

describe('errors_hourly', () => {
  it('errors per type, rate limits and request-level errors exact', async () => {
    const dims = ['ServiceName', 'Environment', 'Provider', 'Model', 'Operation', 'RagStage', 'ErrorType', 'Feature'];
    const rows = await q(
      `SELECT toString(Hour) AS b, ${dims.join(', ')}, sum(Errors) AS Errors, sum(RateLimited) AS RateLimited, sum(RootErrors) AS RootErrors
       FROM errors_hourly GROUP BY b, ${dims.join(', ')}`,
    );
    // The generator's error types are kept verbatim except '429', which the normalizer reports as RateLimitError.
    const errorTypeOf = (t: string) => (t === '429' ? 'RateLimitError' : t);
    const groups = groupBy(
      allSpans(ds).filter(({ span }) => isError(span)),
      ({ span, req }) => key([hourOf(spanStartMs(span)), req.service, req.environment, span.provider, modelOf(span), span.operation, span.stage, errorTypeOf(span.errorType), req.feature]),
    );
    // Whether '429' is rewritten is the normalizer's business; compare on everything but the type's spelling.
    const norm = (k: string) => k.split('|').map((p, i) => (i === 7 && (p === '429' || p === 'RateLimitError') ? 'RL' : p)).join('|');
    const actual = new Map<string, Row>();
    for (const r of rows) actual.set(norm(key([r.b, ...dims.map((d) => r[d])])), r);
    expectSameKeys(actual.keys(), [...groups.keys()].map(norm), 'error groups');
    for (const [k, items] of groups) {
      const a = actual.get(norm(k))!;
      expect({ Errors: n(a.Errors), RateLimited: n(a.RateLimited), RootErrors: n(a.RootErrors) }, k).toEqual({
        Errors: items.length,
        RateLimited: items.filter(({ span }) => isRateLimited(span)).length,
        RootErrors: items.filter(({ span }) => isRoot(span)).length,
      });
    }
  });
});

describe('feedback and evaluations', () => {
  it('feedback_latest: one row per feedback (latest version wins), linked to its request even when it named only a response id and arrived first', async () => {
    const rows = await q(
      `SELECT FeedbackId, TraceId, Kind, Thumbs, Rating, Value, NormalizedScore, toUnixTimestamp64Milli(Timestamp) AS t, Comment, Tags, UserId, Source
       FROM feedback_latest WHERE TenantId = 'default'`,
    );
    expect(ds.feedback.length).toBeGreaterThan(0);
    expect(rows.length).toBe(ds.feedback.length);
    const canon = (r: { trace: string; kind: string; thumbs: string; rating: number | null; value: number; score: number; t: number; comment: string; tags: string[]; user: string; source: string }) =>
      JSON.stringify(r);
    const actual = rows.map((r) =>
      canon({
        trace: r.TraceId as string, kind: r.Kind as string, thumbs: r.Thumbs as string, rating: r.Rating === null ? null : n(r.Rating),
        value: n(r.Value), score: n(r.NormalizedScore), t: n(r.t), comment: r.Comment as string, tags: r.Tags as string[], user: r.UserId as string, source: r.Source as string,
      }),
    );
    const expected = ds.feedback.map((fb) => {
      const v = finalVersion(fb);
      return canon({
        trace: fb.requestTraceId, kind: v.kind, thumbs: v.thumbs ?? '', rating: v.rating, value: feedbackValue(v), score: normalizedScore(v),
        t: v.timeMs, comment: v.comment, tags: v.tags, user: fb.userId, source: fb.channel,
      });
    });
    expect(actual.sort()).toEqual(expected.sort());
    // Client-chosen ids come back as given; API feedback without one got the id the API answered.
    const ids = new Set(rows.map((r) => r.FeedbackId as string));
    for (const fb of ds.feedback) {
      if (fb.feedbackId) expect(ids.has(fb.feedbackId), fb.key).toBe(true);
      else if (fb.channel === 'api') expect(ids.has(stats.apiFeedbackIds.get(fb.key)!), fb.key).toBe(true);
    }
    expect(ds.feedback.some((fb) => fb.versions.length > 1)).toBe(true);
  });

  it('feedback_daily: counts, thumbs and rating distribution per day of the latest version', async () => {
    const rows = await q(
      `SELECT toString(Day) AS d, Feedback, ThumbsUp, ThumbsDown, Ratings, Rating1, Rating2, Rating3, Rating4, Rating5, Scores, WithComment, RequestsWithFeedback, Users
       FROM feedback_daily WHERE TenantId = 'default'`,
    );
    const groups = groupBy(ds.feedback, (fb) => dayOf(finalVersion(fb).timeMs));
    expectSameKeys(rows.map((r) => r.d as string), groups.keys(), 'feedback days');
    for (const r of rows) {
      const fbs = groups.get(r.d as string)!;
      const vs = fbs.map(finalVersion);
      expect(Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'd').map(([k, v]) => [k, n(v)])), r.d as string).toEqual({
        Feedback: fbs.length,
        ThumbsUp: vs.filter((v) => v.thumbs === 'up').length,
        ThumbsDown: vs.filter((v) => v.thumbs === 'down').length,
        Ratings: vs.filter((v) => v.kind === 'rating').length,
        Rating1: vs.filter((v) => v.rating === 1).length,
        Rating2: vs.filter((v) => v.rating === 2).length,
        Rating3: vs.filter((v) => v.rating === 3).length,
        Rating4: vs.filter((v) => v.rating === 4).length,
        Rating5: vs.filter((v) => v.rating === 5).length,
        Scores: vs.filter((v) => v.kind === 'score').length,
        WithComment: vs.filter((v) => v.comment !== '').length,
        RequestsWithFeedback: new Set(fbs.map((f) => f.requestTraceId)).size,
        Users: new Set(fbs.map((f) => f.userId)).size,
      });
    }
  });

  it('evaluations_daily and prediction_outcomes_daily exact', async () => {
    const rows = await q(
      `SELECT toString(Day) AS d, Name, Model, ServiceName, sum(Evaluations) AS Evaluations, sum(Scored) AS Scored, sum(ValueSum) AS ValueSum,
              min(ValueMin) AS ValueMin, max(ValueMax) AS ValueMax, sumMap(ValueHistogram) AS Hist, sumMap(Labels) AS Labels,
              sum(Predictions) AS Predictions, sum(CorrectPredictions) AS Correct
       FROM evaluations_daily GROUP BY d, Name, Model, ServiceName`,
    );
    const groups = groupBy(ds.evaluations, (e) => key([dayOf(e.timeMs), e.name, e.model, e.service]));
    const actual = new Map(rows.map((r) => [key([r.d, r.Name, r.Model, r.ServiceName]), r]));
    expectSameKeys(actual.keys(), groups.keys(), 'evaluation groups');
    for (const [k, evs] of groups) {
      const a = actual.get(k)!;
      const values = evs.filter((e) => e.value !== null).map((e) => e.value!);
      expect(n(a.Evaluations), k).toBe(evs.length);
      expect(n(a.Scored), k).toBe(values.length);
      expectClose(a.ValueSum, sum(values), `${k} ValueSum`);
      expect(n(a.ValueMin), k).toBe(Math.min(...values));
      expect(n(a.ValueMax), k).toBe(Math.max(...values));
      expect(a.Hist, k).toEqual(countMap(values.map((v) => Math.floor(v * 10))));
      expect(a.Labels, k).toEqual(countMap(evs.filter((e) => e.label !== '').map((e) => e.label)));
      expect(n(a.Predictions), k).toBe(evs.filter((e) => e.predicted && e.actual).length);
      expect(n(a.Correct), k).toBe(evs.filter((e) => e.predicted && e.predicted === e.actual).length);
    }
    const outcomes = await q(`SELECT toString(Day) AS d, Name, Model, Predicted, Actual, sum(Count) AS c FROM prediction_outcomes_daily GROUP BY d, Name, Model, Predicted, Actual`);
    const expectedOutcomes = groupBy(
      ds.evaluations.filter((e) => e.predicted && e.actual),
      (e) => key([dayOf(e.timeMs), e.name, e.model, e.predicted, e.actual]),
    );
    expect(expectedOutcomes.size).toBeGreaterThan(0);
    expect(Object.fromEntries(outcomes.map((o) => [key([o.d, o.Name, o.Model, o.Predicted, o.Actual]), n(o.c)]))).toEqual(
      Object.fromEntries([...expectedOutcomes].map(([k, v]) => [k, v.length])),
    );
  });

  it('response_lookup maps every response id to its trace', async () => {
    const rows = await q<{ ResponseId: string; TraceId: string }>('SELECT ResponseId, any(TraceId) AS TraceId FROM response_lookup GROUP BY ResponseId');
    const expected = new Map(ds.requests.flatMap((r) => r.spans.filter((s) => s.responseId).map((s) => [s.responseId, r.traceId] as const)));
    expect(expected.size).toBeGreaterThan(0);
    expect(new Map(rows.map((r) => [r.ResponseId, r.TraceId]))).toEqual(expected);
  });
});

/**
 * Deep equality, except that JSON numbers (Float64 results: 64-bit integers arrive as strings) agree to a
 * relative 1e-9: a Float64 sum depends on the order rows are added in, which merges change
 * (e.g. 89.664 vs 89.66399999999999).
 */
function expectSameWithin(actual: unknown, expected: unknown, label: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expectClose(actual, expected, label);
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    expect(actual.length, `${label} length`).toBe(expected.length);
    expected.forEach((e, i) => expectSameWithin(actual[i], e, `${label}[${i}]`));
  } else if (expected !== null && actual !== null && typeof expected === 'object' && typeof actual === 'object') {
    expect(Object.keys(actual).sort(), `${label} keys`).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected)) expectSameWithin((actual as Record<string, unknown>)[k], e, `${label}.${k}`);
  } else {
    expect(actual, label).toEqual(expected);
  }
}

describe('correctness does not depend on background merges', () => {
  it('the same answers before and after OPTIMIZE ... FINAL on every rollup', async () => {
    const probes = [
      `SELECT toString(sum(CostUSD)) AS c, sum(Calls) AS n, sum(Requests) AS r FROM usage_cost_daily`,
      `SELECT count() AS n, toString(sum(CostUSD)) AS c, sum(TotalTokens) AS t, sum(DocumentsCited) AS d, sum(TotalMs) AS ms FROM requests(tenant = 'default', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00')`,
      `SELECT RagStage, quantilesDDMerge(0.01, 0.5, 0.9, 0.95, 0.99)(DurationQuantiles) AS q, sumMap(DurationHistogram) AS h FROM latency_hourly GROUP BY RagStage ORDER BY RagStage`,
      `SELECT QueryFingerprint, uniqMerge(Requests) AS r FROM query_patterns_daily GROUP BY QueryFingerprint ORDER BY QueryFingerprint`,
      `SELECT count() AS n, sum(NormalizedScore) AS s FROM feedback_latest`,
      `SELECT Name, sum(Evaluations) AS n FROM evaluations_daily GROUP BY Name ORDER BY Name`,
    ];
    const before = await Promise.all(probes.map((p) => q(p)));
    for (const [i, rows] of before.entries()) expect(rows.length, probes[i]).toBeGreaterThan(0);
    expect(n((before[1][0] as { n: string }).n)).toBe(ds.requests.length);
    const tables = ['user_usage_daily', 'usage_cost_hourly', 'latency_hourly', 'request_rollup', 'retrieval_quality_hourly', 'query_patterns_daily', 'errors_hourly', 'feedback', 'evaluations_daily', 'prediction_outcomes_daily', 'response_lookup'];
    for (const t of tables) await proc.processor.store.writer.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    // Partial rows collapsed to one per request and day (a request crossing midnight keeps one per day).
    const [rollupRows] = await q<{ n: string }>('SELECT count() AS n FROM request_rollup');
    const crossing = ds.requests.filter((r) => dayOf(nsToMs(r.startNs)) !== dayOf(Math.max(...r.spans.map((s) => nsToMs(s.startNs))))).length;
    expect(n(rollupRows.n)).toBeGreaterThanOrEqual(ds.requests.length);
    expect(n(rollupRows.n)).toBeLessThanOrEqual(ds.requests.length + crossing);
    const after = await Promise.all(probes.map((p) => q(p)));
    expectSameWithin(after, before, 'after OPTIMIZE');
  });
});
