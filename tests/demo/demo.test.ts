// `npm run demo` end to end, as a user runs it: the compiled runner (demo/dist/main.js) in a child process,
// the app registered with `--import @ragscope/instrumentation/register`, telemetry over OTLP/HTTP into a
// real processor on the embedded store. The printed summary's figures are checked against answers computed
// here, in JavaScript, from the raw rows (genai_spans, feedback, evaluations) read straight from the store.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import type { Summary } from '../../demo/src/summary.js';
import type { TrafficStats } from '../../demo/src/traffic.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MAIN = join(ROOT, 'demo/dist/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runDemo(args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((res) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      // A clean environment: no OTEL_* or RAGSCOPE_* from the machine running the tests.
      { cwd: ROOT, timeout: 90_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

beforeAll(() => {
  // The demo (and the instrumentation it references); the processor only if it was never built (the runner
  // spawns processor/dist/main.js when no processor is running).
  const tsc = (...projects: string[]) => execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', ...projects], { cwd: ROOT, stdio: 'pipe' });
  tsc('demo');
  if (!existsSync(join(ROOT, 'processor/dist/main.js'))) tsc('processor');
}, 180_000);

// ---------------------------------------------------------------------------------------------------------
// Independent answers from raw rows

interface SpanRow {
  TraceId: string;
  SpanId: string;
  StartUs: string;
  DurationMs: number;
  RagStage: string;
  Operation: string;
  RequestModel: string;
  Provider: string;
  InputTokens: string | null;
  OutputTokens: string | null;
  CacheReadTokens: string | null;
  CacheWriteTokens: string | null;
  ReasoningTokens: string | null;
  CostUSD: number | null;
  UsageCounted: number;
  StatusCode: string;
  ErrorType: string;
  TtftMs: number | null;
  DocumentIds: string[];
  DocumentScores: (number | null)[];
  CitedDocumentIds: string[];
  CitationCount: number | null;
  InvalidCitationCount: number | null;
  ResponseCacheHit: boolean | null;
  Experiment: string;
  Variant: string;
  Feature: string;
  UserId: string;
  SessionId: string;
}

interface FeedbackRow {
  FeedbackId: string;
  Version: string;
  Kind: string;
  Thumbs: string;
  Rating: number | null;
  Comment: string;
  TraceId: string;
}

const n = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
/** ClickHouse quantileExact: the element at floor(level * n) of the sorted values. */
const quantileExact = (xs: number[], level: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(level * s.length))]!;
};
const isError = (s: SpanRow) => s.StatusCode === 'Error' || s.ErrorType !== '';
const RATE_LIMITED = /^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted/i;

interface Expected {
  traces: Map<string, SpanRow[]>;
  summary: Omit<Summary, 'scope' | 'features' | 'experiment' | 'conversations' | 'confidence'> & { variants: Summary['experiment'] };
  features: Map<string, { requests: number; failureRate: number; avgTotalMs: number }>;
}

function expectedFrom(spans: SpanRow[], feedbackRows: FeedbackRow[], evaluationRows: { Name: string; Value: number | null; TraceId: string }[]): Expected {
  const traces = new Map<string, SpanRow[]>();
  for (const s of spans) traces.set(s.TraceId, [...(traces.get(s.TraceId) ?? []), s]);
  const startMs = (s: SpanRow) => Number(s.StartUs) / 1000;

  interface Req {
    traceId: string;
    root: SpanRow;
    spans: SpanRow[];
    counted: SpanRow[];
    stageMs: Map<string, number>;
    costUsd: number;
    rootError: boolean;
    errors: number;
    scores: number[];
    topRelevance: number | null;
  }
  const requests: Req[] = [];
  for (const [traceId, ss] of traces) {
    const root = ss.find((s) => s.RagStage === 'request')!;
    expect(root, `trace ${traceId} has a request root`).toBeDefined();
    const counted = ss.filter((s) => s.UsageCounted === 1);
    const stageMs = new Map<string, number>([['request', root.DurationMs]]);
    for (const stage of ['embedding', 'retrieval', 'rerank', 'context_assembly', 'generation', 'post_processing']) {
      const st = ss.filter((s) => s.RagStage === stage);
      if (st.length) stageMs.set(stage, Math.max(...st.map((s) => startMs(s) + s.DurationMs)) - Math.min(...st.map(startMs)));
    }
    const firsts = counted.filter((s) => s.TtftMs !== null).map((s) => startMs(s) + s.TtftMs!);
    if (firsts.length) stageMs.set('first_token', Math.min(...firsts) - Math.min(...ss.map(startMs)));
    const retrievals = ss.filter((s) => s.Operation === 'retrieval');
    const scores = retrievals.flatMap((s) => s.DocumentScores.filter((x): x is number => x !== null));
    requests.push({
      traceId,
      root,
      spans: ss,
      counted,
      stageMs,
      costUsd: counted.reduce((a, s) => a + n(s.CostUSD), 0),
      rootError: isError(root),
      errors: counted.filter(isError).length,
      scores,
      topRelevance: scores.length ? Math.max(...scores) : null,
    });
  }

  // Feedback: the latest version of each feedback id, on this run's requests.
  const latest = new Map<string, FeedbackRow>();
  for (const f of feedbackRows) {
    const prev = latest.get(f.FeedbackId);
    if (!prev || BigInt(f.Version) > BigInt(prev.Version)) latest.set(f.FeedbackId, f);
  }
  const feedback = [...latest.values()].filter((f) => traces.has(f.TraceId));
  const up = feedback.filter((f) => f.Thumbs === 'up').length;
  const down = feedback.filter((f) => f.Thumbs === 'down').length;
  const ratings = feedback.filter((f) => f.Kind === 'rating');

  const llm = spans.filter((s) => s.UsageCounted === 1 && ['chat', 'text_completion', 'generate_content'].includes(s.Operation));
  const models = new Map<string, SpanRow[]>();
  for (const s of spans.filter((s) => s.UsageCounted === 1 && ['chat', 'text_completion', 'generate_content', 'embeddings'].includes(s.Operation))) {
    models.set(s.RequestModel, [...(models.get(s.RequestModel) ?? []), s]);
  }
  const totalUsd = requests.reduce((a, r) => a + r.costUsd, 0);
  const allScores = requests.flatMap((r) => r.scores);
  const citedPerTrace = requests.map((r) => new Set(r.spans.flatMap((s) => s.CitedDocumentIds)).size);
  const docsRetrieved = requests.reduce((a, r) => a + r.spans.filter((s) => s.Operation === 'retrieval').reduce((b, s) => b + s.DocumentIds.length, 0), 0);
  const citations = (r: Req) => r.spans.reduce((a, s) => a + n(s.CitationCount), 0);
  const invalid = (r: Req) => r.spans.reduce((a, s) => a + n(s.InvalidCitationCount), 0);
  const citationSpans = (r: Req) => r.spans.filter((s) => s.CitationCount !== null || s.CitedDocumentIds.length > 0).length;

  const STAGES = ['request', 'first_token', 'embedding', 'retrieval', 'rerank', 'context_assembly', 'generation', 'post_processing'];
  const latency = STAGES.flatMap((stage) => {
    const xs = requests.filter((r) => r.stageMs.has(stage)).map((r) => r.stageMs.get(stage)!);
    return xs.length ? [{ stage, count: xs.length, p50Ms: quantileExact(xs, 0.5), p95Ms: quantileExact(xs, 0.95) }] : [];
  });

  const evalNames = [...new Set(evaluationRows.filter((e) => traces.has(e.TraceId)).map((e) => e.Name))].sort();
  const arms = new Map<string, Req[]>();
  for (const r of requests) if (r.root.Experiment) arms.set(`${r.root.Experiment}/${r.root.Variant}`, [...(arms.get(`${r.root.Experiment}/${r.root.Variant}`) ?? []), r]);
  const thumbsOf = (rs: Req[], t: string) => feedback.filter((f) => f.Thumbs === t && rs.some((r) => r.traceId === f.TraceId)).length;

  const features = new Map<string, { requests: number; failureRate: number; avgTotalMs: number }>();
  for (const feature of new Set(requests.map((r) => r.root.Feature))) {
    const rs = requests.filter((r) => r.root.Feature === feature);
    features.set(feature, {
      requests: rs.length,
      failureRate: rs.filter((r) => r.errors > 0 || r.rootError).length / rs.length,
      avgTotalMs: mean(rs.map((r) => r.root.DurationMs))!,
    });
  }

  return {
    traces,
    features,
    summary: {
      requests: {
        stored: requests.length,
        failed: requests.filter((r) => r.rootError).length,
        recovered: requests.filter((r) => !r.rootError && r.errors > 0).length,
        cacheHits: requests.filter((r) => r.root.ResponseCacheHit === true).length,
        users: new Set(requests.map((r) => r.root.UserId)).size,
        sessions: new Set(requests.map((r) => r.root.SessionId)).size,
        llmCalls: llm.length,
        failedLlmCalls: llm.filter(isError).length,
        rateLimitedCalls: llm.filter((s) => RATE_LIMITED.test(s.ErrorType)).length,
      },
      cost: {
        totalUsd,
        perRequestUsd: totalUsd / requests.length,
        byModel: [...models].map(([model, ss]) => ({
          model,
          provider: ss[0]!.Provider,
          calls: ss.length,
          errors: ss.filter(isError).length,
          inputTokens: ss.reduce((a, s) => a + n(s.InputTokens), 0),
          cacheReadTokens: ss.reduce((a, s) => a + n(s.CacheReadTokens), 0),
          cacheWriteTokens: ss.reduce((a, s) => a + n(s.CacheWriteTokens), 0),
          outputTokens: ss.reduce((a, s) => a + n(s.OutputTokens), 0),
          reasoningTokens: ss.reduce((a, s) => a + n(s.ReasoningTokens), 0),
          costUsd: ss.reduce((a, s) => a + n(s.CostUSD), 0),
        })),
      },
      latency,
      retrieval: {
        retrievals: spans.filter((s) => s.Operation === 'retrieval' && s.DocumentScores.some((x) => x !== null)).length,
        documents: allScores.length,
        avgRelevance: mean(allScores),
        avgTopRelevance: mean(requests.filter((r) => r.topRelevance !== null).map((r) => r.topRelevance!)),
      },
      citations: {
        answersChecked: requests.filter((r) => citationSpans(r) > 0).length,
        answersWithCitations: requests.filter((r) => citations(r) > 0).length,
        citations: requests.reduce((a, r) => a + citations(r), 0),
        invalidCitations: requests.reduce((a, r) => a + invalid(r), 0),
        answersWithInvalid: requests.filter((r) => invalid(r) > 0).length,
        documentsRetrieved: docsRetrieved,
        documentsCited: citedPerTrace.reduce((a, b) => a + b, 0),
        usageRate: docsRetrieved > 0 ? citedPerTrace.reduce((a, b) => a + b, 0) / docsRetrieved : null,
      },
      feedback: {
        feedback: feedback.length,
        requestsWithFeedback: new Set(feedback.map((f) => f.TraceId)).size,
        thumbsUp: up,
        thumbsDown: down,
        thumbsUpRate: up + down > 0 ? up / (up + down) : null,
        ratings: ratings.length,
        avgRating: mean(ratings.map((f) => n(f.Rating))),
        comments: feedback.filter((f) => f.Comment !== '').length,
      },
      evaluations: evalNames.map((name) => {
        const es = evaluationRows.filter((e) => e.Name === name && traces.has(e.TraceId));
        return { name, count: es.length, avgValue: mean(es.filter((e) => e.Value !== null).map((e) => e.Value!)) };
      }),
      variants: {
        name: 'answer-model',
        variants: [...arms]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, rs]) => {
            const u = thumbsOf(rs, 'up');
            const d = thumbsOf(rs, 'down');
            const withScores = rs.filter((r) => r.scores.length > 0);
            return {
              variant: key.split('/')[1]!,
              requests: rs.length,
              p50Ms: quantileExact(rs.map((r) => r.root.DurationMs), 0.5),
              p95Ms: quantileExact(rs.map((r) => r.root.DurationMs), 0.95),
              costPerRequestUsd: rs.reduce((a, r) => a + r.costUsd, 0) / rs.length,
              avgRelevance: mean(withScores.map((r) => mean(r.scores)!)),
              invalidCitations: rs.reduce((a, r) => a + invalid(r), 0),
              thumbsUp: u,
              thumbsDown: d,
              thumbsUpRate: u + d > 0 ? u / (u + d) : null,
            };
          }),
      },
    },
  };
}

/** Deep equality with a relative tolerance for floating-point figures. */
function expectClose(actual: unknown, expected: unknown, path = 'summary'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tol = Math.max(1e-9, Math.abs(expected) * 1e-9) + (path.endsWith('Ms') ? 0.002 : 0);
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)?.[k], v, `${path}.${k}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

// ---------------------------------------------------------------------------------------------------------

describe('npm run demo against a running processor', () => {
  let tp: TestProcessor;
  let run: Run;
  let doc: { summary: Summary; app: TrafficStats; telemetry: { spansDropped: number; logsDropped: number } };
  const jsonFile = join(mkdtempSync(join(tmpdir(), 'ragscope-demo-test-')), 'summary.json');

  beforeAll(async () => {
    tp = await startProcessor();
    // --faults 4: provider errors four times as often as by default, so failures show up in 12 requests.
    run = await runDemo(['--url', tp.url, '--requests', '12', '--rate', '25', '--latency', '0.3', '--faults', '4', '--seed', '11', '--json', jsonFile]);
    if (run.code === 0) doc = JSON.parse(readFileSync(jsonFile, 'utf8'));
  }, 120_000);
  afterAll(async () => {
    await tp?.stop();
    if (tp) removeDir(tp.dataDir);
    removeDir(resolve(jsonFile, '..'));
  });

  it('runs to the end, uses the running processor and exports every span and log event', () => {
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`using the processor at ${tp.url}`);
    expect(run.stdout).not.toContain('starting one');
    expect(run.stdout).toMatch(/\[#+\] 12\/12 requests/); // not a TTY: periodic progress lines
    expect(doc.app.started).toBe(12);
    expect(doc.app.done).toBe(12);
    expect(doc.telemetry.spansDropped + doc.telemetry.logsDropped).toBe(0);
  });

  it("the summary's figures are what the stored rows say", async () => {
    const spans = await tp.query<SpanRow>(
      `SELECT TraceId, SpanId, toString(toUnixTimestamp64Micro(Timestamp)) AS StartUs, DurationMs, RagStage, Operation, RequestModel, Provider,
              InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens, toFloat64(CostUSD) AS CostUSD, UsageCounted,
              StatusCode, ErrorType, TtftMs, DocumentIds, DocumentScores, CitedDocumentIds, CitationCount, InvalidCitationCount,
              ResponseCacheHit, Experiment, Variant, Feature, UserId, SessionId
       FROM genai_spans WHERE ServiceName = 'ragscope-demo'`,
    );
    const feedbackRows = await tp.query<FeedbackRow>('SELECT FeedbackId, toString(Version) AS Version, Kind, Thumbs, Rating, Comment, TraceId FROM feedback');
    const evaluationRows = await tp.query<{ Name: string; Value: number | null; TraceId: string }>('SELECT Name, Value, TraceId FROM evaluations');
    const x = expectedFrom(spans, feedbackRows, evaluationRows);
    const s = doc.summary;

    // What the app sent is what is stored.
    expect(x.traces.size).toBe(doc.app.started);
    expect(x.summary.requests.failed).toBe(doc.app.failed);
    expect(x.summary.requests.cacheHits).toBe(doc.app.cacheHits);
    expect(x.summary.feedback.feedback).toBe(doc.app.feedback);
    expect(x.summary.feedback.thumbsUp).toBe(doc.app.thumbsUp);
    expect(x.summary.feedback.thumbsDown).toBe(doc.app.thumbsDown);
    expect(x.summary.feedback.ratings).toBe(doc.app.ratings);

    // The lists compared below must hold something: two empty lists would agree.
    expect(x.summary.cost.byModel.length).toBeGreaterThan(1);
    expect(x.summary.latency.map((l) => l.stage)).toEqual(expect.arrayContaining(['request', 'retrieval', 'generation']));
    expect(x.summary.evaluations.length).toBeGreaterThan(0);
    expect(x.summary.variants?.variants.length).toBe(2);
    expect(x.features.size).toBeGreaterThan(0);
    expectClose(s.requests, x.summary.requests, 'requests');
    expectClose(s.cost.totalUsd, x.summary.cost.totalUsd, 'cost.totalUsd');
    expectClose(s.cost.perRequestUsd, x.summary.cost.perRequestUsd, 'cost.perRequestUsd');
    const byModel = (rows: Summary['cost']['byModel']) => [...rows].sort((a, b) => a.model.localeCompare(b.model));
    expectClose(byModel(s.cost.byModel), byModel(x.summary.cost.byModel), 'cost.byModel');
    expectClose(s.latency, x.summary.latency, 'latency');
    expectClose(s.retrieval, x.summary.retrieval, 'retrieval');
    expectClose(s.citations, x.summary.citations, 'citations');
    expectClose(s.feedback, x.summary.feedback, 'feedback');
    expectClose(s.evaluations, x.summary.evaluations, 'evaluations');
    expectClose(s.experiment, x.summary.variants, 'experiment');
    // The per-feature table (clickhouse/queries/request_stage_breakdown.sql).
    expect(s.features.map((f) => f.feature).sort()).toEqual([...x.features.keys()].sort());
    for (const f of s.features) {
      const e = x.features.get(String(f.feature))!;
      expect(Number(f.requests)).toBe(e.requests);
      expectClose(Number(f.failure_rate), e.failureRate, `features.${f.feature}.failure_rate`);
      expectClose(Number(f.avg_total_ms), e.avgTotalMs, `features.${f.feature}.avg_total_ms`);
    }

    // The demo exercises what it promises: both providers, cached and reasoning tokens, both arms,
    // relevance scores, citations, feedback of both kinds.
    const models = s.cost.byModel.map((m) => m.model);
    expect(models).toEqual(expect.arrayContaining(['text-embedding-3-small']));
    expect(s.cost.byModel.some((m) => m.provider === 'openai' && m.model !== 'text-embedding-3-small')).toBe(true);
    expect(s.cost.totalUsd).toBeGreaterThan(0);
    expect(s.retrieval.avgRelevance).toBeGreaterThan(0);
    expect(s.feedback.feedback).toBeGreaterThan(0);
    // Conversations and implicit feedback (conversation_turn_signals): every demo request is an answer in a
    // conversation; each decided answer has exactly one outcome.
    const cv = s.conversations;
    expect(cv.answers).toBe(x.summary.requests.stored);
    expect(cv.sessions).toBe(x.summary.requests.sessions);
    expect(cv.users).toBe(x.summary.requests.users);
    expect(cv.conversations).toBeGreaterThanOrEqual(cv.sessions);
    expect(cv.followUps + cv.reformulations + cv.repeats + cv.abandoned + cv.open).toBeLessThanOrEqual(cv.answers);
    expect(cv.followUps + cv.reformulations + cv.repeats + cv.abandoned).toBeGreaterThan(0);

    // Answer confidence (confidence_distribution / confidence_by_rating) against the spans' own values: the
    // demo app records one per answered request; the latest span's value is the request's.
    const confidences = await tp.query<{ TraceId: string; c: number }>(
      `SELECT TraceId, argMax(AnswerConfidence, Timestamp) AS c FROM genai_spans
       WHERE ServiceName = 'ragscope-demo' AND AnswerConfidence IS NOT NULL GROUP BY TraceId`,
    );
    expect(confidences.length).toBeGreaterThan(0);
    const cf = s.confidence;
    expect(cf.answers).toBe(confidences.length);
    expectClose(cf.lowShare, confidences.filter((r) => r.c < cf.threshold).length / confidences.length, 'confidence.lowShare');
    const byTrace = new Map(confidences.map((r) => [r.TraceId, r.c]));
    const latestThumbs = new Map<string, { version: bigint; thumbs: string; traceId: string }>();
    for (const f of feedbackRows.filter((r) => r.Kind === 'thumbs' && r.TraceId !== '')) {
      const prev = latestThumbs.get(f.FeedbackId);
      if (!prev || BigInt(f.Version) > prev.version) latestThumbs.set(f.FeedbackId, { version: BigInt(f.Version), thumbs: f.Thumbs, traceId: f.TraceId });
    }
    for (const t of cf.byThumbs) {
      const votes = [...latestThumbs.values()].filter((v) => v.thumbs === t.thumbs);
      expect(t.feedback, `thumbs ${t.thumbs}`).toBe(votes.length);
      const scored = votes.map((v) => byTrace.get(v.traceId)).filter((c): c is number => c !== undefined);
      expectClose(t.avgConfidence, scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : null, `confidence.${t.thumbs}`);
    }
  });

  it('prints the figures it read back, and the commands to explore further', () => {
    const s = doc.summary;
    const out = run.stdout;
    expect(s.cost.byModel.length).toBeGreaterThan(1);
    expect(s.latency.length).toBeGreaterThan(2);
    expect(out).toContain('Summary read back from ClickHouse');
    expect(out).toContain(`Requests     ${s.requests.stored} stored (the app sent 12): ${s.requests.stored - s.requests.failed} answered, ${s.requests.failed} failed`);
    for (const m of s.cost.byModel) expect(out).toMatch(new RegExp(`\\n\\s+${m.model.replace(/[.-]/g, '\\$&')}\\s+${m.calls}\\s+${m.errors}\\s`));
    for (const l of s.latency) expect(out).toMatch(new RegExp(`\\s${l.count}\\s+${fmtMs(l.p50Ms)}\\s+${fmtMs(l.p95Ms)}\\n`));
    if (s.feedback.thumbsUpRate !== null) expect(out).toContain(`${Math.round(s.feedback.thumbsUpRate * 100)}% thumbs up (${s.feedback.thumbsUp} up, ${s.feedback.thumbsDown} down)`);
    expect(out).toContain(`average relevance ${s.retrieval.avgRelevance!.toFixed(2)}`);
    expect(out).toContain(`${s.citations.invalidCitations} invalid citation${s.citations.invalidCitations === 1 ? '' : 's'}`);
    expect(out).toMatch(new RegExp(`Confidence   ${s.confidence.answers} answers? scored`));
    expect(out).toContain('npm run sql -- "SELECT');
    expect(out).toContain('docker compose up');
  });
});

function fmtMs(v: number): string {
  return (Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')).replace(/[.,]/g, '\\$&');
}

describe('npm run demo with no processor running', () => {
  it('starts one on the embedded store, prints the summary and stops it', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'ragscope-demo-store-'));
    try {
      const url = `http://127.0.0.1:${port}`;
      const r = await runDemo(['--url', url, '--data-dir', dataDir, '--requests', '6', '--rate', '20', '--latency', '0.3', '--seed', '5']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`no processor at ${url}; starting one on the embedded store in ${dataDir}`);
      expect(r.stdout).toMatch(/processor ready in [\d.]+ s/);
      expect(r.stdout).toContain('Requests     6 stored (the app sent 6)');
      expect(r.stdout).toContain('Stopped the processor the demo started');
      // Stopped: nothing listens on the port any more.
      await expect(fetch(`${url}/readyz`)).rejects.toThrow();
    } finally {
      removeDir(dataDir);
    }
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}
