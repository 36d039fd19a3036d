// Arrival order must not matter: children before their root, one request spread over many inserts and
// interleaved with others, feedback before the spans it refers to, feedback versions out of order.
// The processor acknowledges once rows are in its write-ahead log and batches them into inserts, so after each
// POST the tests wait until it is in ClickHouse (queue.flushed()): each POST below is its own insert (its own
// partial rows in the rollups).
import { testNow } from '../helpers/clock.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import {
  encodeLogs,
  encodeTraces,
  generateDataset,
  syntheticPriceBook,
  type SpanWithRequest,
  type SynthDataset,
  type SynthLogRecord,
  type SynthRequest,
} from '../../tools/synthetic/index.js';
import { startOfCurrentHourMs } from '../../tools/synthetic/index.js';
import { Prng } from '../../tools/synthetic/prng.js';
import { decimalToUnits, expectedRequest, nsToMs, type Row } from './expected.js';

let proc: TestProcessor;
let ds: SynthDataset;
let priceDir: string;

beforeAll(async () => {
  priceDir = mkdtempSync(join(tmpdir(), 'ragscope-prices-'));
  const pricesFile = join(priceDir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
  proc = await startProcessor({ RAGSCOPE_PRICES_FILE: pricesFile });
  ds = generateDataset({ seed: 'out-of-order', requests: 40, days: 1, withFeedback: false, rateLimitRate: 0.3, endMs: startOfCurrentHourMs(testNow()) });
});

afterAll(async () => {
  await proc?.stop();
  if (proc) removeDir(proc.dataDir);
  if (priceDir) removeDir(priceDir);
});

const q = <T = Row>(sql: string) => proc.query<T>(sql);

async function postSpans(items: SpanWithRequest[]): Promise<void> {
  expect(items.length).toBeGreaterThan(0);
  const res = await fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraces(items) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  await proc.processor.queue.flushed();
}

async function postLogs(records: SynthLogRecord[]): Promise<void> {
  const res = await fetch(`${proc.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeLogs(records) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  await proc.processor.queue.flushed();
}

async function postFeedback(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${proc.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function requestRow(traceId: string): Promise<Row> {
  const rows = await q(
    `SELECT TraceId, TotalMs, GenerationMs, RetrievalMs, Spans, LlmCalls, Errors, RateLimited, InputTokens, OutputTokens, toString(CostUSD) AS CostUSD,
            DocumentsRetrieved, DocumentsCited, AvgRelevance, Model, UserId, Variant, QueryFingerprint, ResponseCacheHit, HasError
     FROM requests(tenant = 'default', from = '2000-01-01 00:00:00', to = '2100-01-01 00:00:00') WHERE TraceId = '${traceId}'`,
  );
  expect(rows.length, traceId).toBe(1);
  return rows[0];
}

function expectRequestMatches(row: Row, req: SynthRequest): void {
  const e = expectedRequest(req);
  expect(Number(row.TotalMs)).toBeCloseTo(e.totalMs, 6);
  if (e.stageMs.generation === null) expect(row.GenerationMs).toBeNull();
  else expect(Number(row.GenerationMs)).toBeCloseTo(e.stageMs.generation, 3);
  expect({
    Spans: Number(row.Spans), LlmCalls: Number(row.LlmCalls), Errors: Number(row.Errors), RateLimited: Number(row.RateLimited),
    InputTokens: Number(row.InputTokens), OutputTokens: Number(row.OutputTokens), Cost: decimalToUnits(row.CostUSD as string),
    DocumentsRetrieved: Number(row.DocumentsRetrieved), DocumentsCited: Number(row.DocumentsCited), Model: row.Model, UserId: row.UserId,
    Variant: row.Variant, QueryFingerprint: row.QueryFingerprint, ResponseCacheHit: Number(row.ResponseCacheHit) === 1, HasError: Number(row.HasError) === 1,
  }).toEqual({
    Spans: e.spans, LlmCalls: e.llmCalls, Errors: e.errors, RateLimited: e.rateLimited, InputTokens: e.inputTokens, OutputTokens: e.outputTokens,
    Cost: e.cost, DocumentsRetrieved: e.documentsRetrieved, DocumentsCited: e.documentsCited, Model: e.model, UserId: e.userId, Variant: e.variant,
    QueryFingerprint: e.fingerprint, ResponseCacheHit: e.cacheHit, HasError: e.hasError,
  });
}

const withReq = (req: SynthRequest) => req.spans.map((span) => ({ span, request: req }));
const full = () => ds.requests.filter((r) => !r.cacheHit && r.spans.length >= 6);

describe('spans of one request in any order, in many inserts', () => {
  it('children first, root last, in separate inserts', async () => {
    const req = full()[0];
    const [root, ...children] = withReq(req);
    await postSpans(children.reverse());
    await postSpans([root]);
    expectRequestMatches(await requestRow(req.traceId), req);
  });

  it('every span in its own insert, in a random order, interleaved with another request', async () => {
    const [a, b] = [full()[1], full()[2]];
    const rng = new Prng('interleave');
    const spans = [...withReq(a), ...withReq(b)];
    for (let i = spans.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [spans[i], spans[j]] = [spans[j], spans[i]];
    }
    for (const s of spans) await postSpans([s]);
    for (const req of [a, b]) {
      const [partials] = await q<{ n: string }>(`SELECT count() AS n FROM request_rollup WHERE TraceId = '${req.traceId}'`);
      // Several partial rows (unless a background merge already folded some): the answer is merged at query time.
      expect(Number(partials.n)).toBeGreaterThanOrEqual(1);
      expectRequestMatches(await requestRow(req.traceId), req);
    }
  });

  it('a request with 429 retries split across three inserts, generation spans first', async () => {
    // Not one of full()[0..5], which the other tests send.
    const req = full().slice(6).find((r) => r.spans.some((s) => s.rateLimited))!;
    expect(req).toBeDefined();
    const items = withReq(req);
    const gen = items.filter(({ span }) => span.stage === 'generation');
    const rest = items.filter(({ span }) => span.stage !== 'generation');
    await postSpans(gen);
    await postSpans(rest.slice(Math.ceil(rest.length / 2)));
    await postSpans(rest.slice(0, Math.ceil(rest.length / 2)));
    const row = await requestRow(req.traceId);
    expectRequestMatches(row, req);
    expect(Number(row.RateLimited)).toBeGreaterThan(0);
  });

  it('the rollup rows of such requests really are partial until merged (the view merges them)', async () => {
    const req = full()[3];
    await proc.processor.store.writer.command({ query: 'SYSTEM STOP MERGES request_rollup' });
    try {
      for (const s of withReq(req)) await postSpans([s]);
      const [partials] = await q<{ n: string }>(`SELECT count() AS n FROM request_rollup WHERE TraceId = '${req.traceId}'`);
      expect(Number(partials.n)).toBeGreaterThan(1);
      expectRequestMatches(await requestRow(req.traceId), req);
    } finally {
      await proc.processor.store.writer.command({ query: 'SYSTEM START MERGES request_rollup' });
    }
  });
});

describe('feedback before its spans', () => {
  it('links by trace id and by response id once the spans arrive', async () => {
    const req = full()[4];
    const chat = req.spans.find((s) => s.responseId !== '')!;
    const byResponse = await postFeedback({ feedback_id: 'early-by-response', response_id: chat.responseId, thumbs: 'down', comment: 'came first' });
    expect(byResponse.status).toBe(201);
    await postLogs([
      {
        timeMs: nsToMs(req.endNs) + 1000,
        traceId: req.traceId,
        spanId: chat.spanId,
        service: req.service,
        environment: req.environment,
        scope: { name: 'app', version: '1' },
        attributes: { 'event.name': 'gen_ai.evaluation.result', 'gen_ai.evaluation.name': 'user_feedback', 'gen_ai.evaluation.score.value': 4, 'ragscope.feedback.kind': 'rating', 'ragscope.feedback.id': 'early-by-trace' },
      },
    ]);
    const before = await q<{ FeedbackId: string; TraceId: string }>(`SELECT FeedbackId, TraceId FROM feedback_latest WHERE FeedbackId LIKE 'early-%' ORDER BY FeedbackId`);
    expect(before).toEqual([
      { FeedbackId: 'early-by-response', TraceId: '' },
      { FeedbackId: 'early-by-trace', TraceId: req.traceId },
    ]);
    await postSpans(withReq(req));
    const after = await q<{ FeedbackId: string; TraceId: string }>(`SELECT FeedbackId, TraceId FROM feedback_latest WHERE FeedbackId LIKE 'early-%' ORDER BY FeedbackId`);
    expect(after).toEqual([
      { FeedbackId: 'early-by-response', TraceId: req.traceId },
      { FeedbackId: 'early-by-trace', TraceId: req.traceId },
    ]);
  });
});

describe('feedback after its spans', () => {
  it('naming only a response id, it is linked to the trace when written', async () => {
    const req = full()[5];
    await postSpans(withReq(req));
    const chat = req.spans.find((s) => s.responseId !== '')!;
    expect((await postFeedback({ feedback_id: 'late-by-response', response_id: chat.responseId, rating: 5 })).status).toBe(201);
    const stored = await q<{ TraceId: string }>(`SELECT TraceId FROM feedback WHERE FeedbackId = 'late-by-response'`);
    expect(stored).toEqual([{ TraceId: req.traceId }]);
  });
});

describe('feedback updates: latest wins, never duplicated', () => {
  const traceId = 'ab'.repeat(16);
  const latest = async (id: string) => q<Row>(`SELECT Kind, Thumbs, Rating, Value, Comment, Tags, Source FROM feedback_latest WHERE FeedbackId = '${id}'`);

  it('API resubmissions replace the previous version', async () => {
    expect((await postFeedback({ feedback_id: 'fb-upd', trace_id: traceId, thumbs: 'up' })).status).toBe(201);
    expect((await postFeedback({ feedback_id: 'fb-upd', trace_id: traceId, thumbs: 'down', comment: 'changed my mind', tags: ['wrong'] })).status).toBe(201);
    expect(await latest('fb-upd')).toEqual([{ Kind: 'thumbs', Thumbs: 'down', Rating: null, Value: 0, Comment: 'changed my mind', Tags: ['wrong'], Source: 'api' }]);
    expect((await postFeedback({ feedback_id: 'fb-upd', trace_id: traceId, rating: 2 })).status).toBe(201);
    expect(await latest('fb-upd')).toEqual([{ Kind: 'rating', Thumbs: '', Rating: 2, Value: 2, Comment: '', Tags: [], Source: 'api' }]);
  });

  it('with explicit timestamps, the later-given version wins even when it arrives first', async () => {
    const t = testNow() - 60_000;
    expect((await postFeedback({ feedback_id: 'fb-ts', trace_id: traceId, score: 0.9, timestamp: t + 1000 })).status).toBe(201);
    expect((await postFeedback({ feedback_id: 'fb-ts', trace_id: traceId, score: 0.1, timestamp: new Date(t).toISOString() })).status).toBe(201);
    expect(await latest('fb-ts')).toEqual([{ Kind: 'score', Thumbs: '', Rating: null, Value: 0.9, Comment: '', Tags: [], Source: 'api' }]);
  });

  it('OTLP feedback events: versions ordered by event time, whatever order they arrive in', async () => {
    const base = testNow() - 120_000;
    const event = (timeMs: number, label: 'up' | 'down'): SynthLogRecord => ({
      timeMs,
      traceId,
      spanId: 'cd'.repeat(8),
      service: 'svc',
      environment: 'test',
      scope: { name: 'app', version: '1' },
      attributes: { 'event.name': 'gen_ai.evaluation.result', 'gen_ai.evaluation.name': 'user_feedback', 'gen_ai.evaluation.score.label': label, 'gen_ai.evaluation.score.value': label === 'up' ? 1 : 0, 'ragscope.feedback.id': 'fb-otlp' },
    });
    await postLogs([event(base + 5000, 'down')]);
    await postLogs([event(base, 'up')]);
    expect(await latest('fb-otlp')).toEqual([{ Kind: 'thumbs', Thumbs: 'down', Rating: null, Value: 0, Comment: '', Tags: [], Source: 'otlp' }]);
    const [count] = await q<{ n: string }>(`SELECT count() AS n FROM feedback_latest WHERE FeedbackId IN ('fb-otlp', 'fb-upd', 'fb-ts')`);
    expect(Number(count.n)).toBe(3);
  });

  it('an OTLP retry of the same event (no feedback id) is not a second feedback', async () => {
    const rec: SynthLogRecord = {
      timeMs: testNow() - 30_000,
      traceId: 'ef'.repeat(16),
      spanId: '12'.repeat(8),
      service: 'svc',
      environment: 'test',
      scope: { name: 'app', version: '1' },
      attributes: { 'event.name': 'gen_ai.evaluation.result', 'gen_ai.evaluation.name': 'user_feedback', 'gen_ai.evaluation.score.label': 'up', 'gen_ai.evaluation.score.value': 1 },
    };
    await postLogs([rec]);
    await postLogs([rec]);
    const rows = await q<{ n: string }>(`SELECT count() AS n FROM feedback_latest WHERE TraceId = '${'ef'.repeat(16)}'`);
    expect(Number(rows[0].n)).toBe(1);
  });
});

describe('invalid feedback', () => {
  const trace = '0123456789abcdef0123456789abcdef';
  const cases: [string, unknown, Record<string, string>][] = [
    ['rating out of range', { trace_id: trace, rating: 6 }, { rating: 'must be an integer 1-5' }],
    ['fractional rating', { trace_id: trace, rating: 3.5 }, { rating: 'must be an integer 1-5' }],
    ['rating as text', { trace_id: trace, rating: '4' }, { rating: 'must be an integer 1-5' }],
    ['thumbs sideways', { trace_id: trace, thumbs: 'sideways' }, { thumbs: 'must be "up" or "down"' }],
    ['score above 1', { trace_id: trace, score: 1.5 }, { score: 'must be a number between 0 and 1' }],
    ['comment too long', { trace_id: trace, thumbs: 'up', comment: 'x'.repeat(2001) }, { comment: 'must be a string of at most 2000 characters' }],
    ['tags not a list', { trace_id: trace, thumbs: 'up', tags: 'a,b' }, { tags: 'must be an array of at most 32 non-empty strings of at most 64 characters' }],
    ['no link', { thumbs: 'up' }, { trace_id: 'trace_id or response_id is required' }],
    ['bad trace id', { trace_id: 'xyz', thumbs: 'up' }, { trace_id: 'must be 32 hex digits (not all zero)' }],
    ['no value', { trace_id: trace }, { thumbs: 'one of thumbs, rating or score is required' }],
    ['two values', { trace_id: trace, thumbs: 'up', rating: 5 }, { rating: 'give only one of thumbs, rating or score' }],
    ['unknown field', { trace_id: trace, thumbs: 'up', raiting: 5 }, { raiting: 'unknown field' }],
    ['future timestamp', { trace_id: trace, thumbs: 'up', timestamp: testNow() + 86_400_000 }, { timestamp: 'must be epoch milliseconds or an ISO 8601 date-time, after 2000 and not in the future' }],
    ['not an object', [1, 2], { body: 'must be a JSON object' }],
  ];

  for (const [label, body, fields] of cases) {
    it(`400 with field errors: ${label}`, async () => {
      const { status, json } = await postFeedback(body);
      expect(status).toBe(400);
      expect(json.error).toBe('invalid feedback');
      expect(json.fields).toEqual(fields);
    });
  }

  it('several problems are reported together', async () => {
    const { status, json } = await postFeedback({ rating: 0, comment: 7 });
    expect(status).toBe(400);
    expect(json.fields).toEqual({
      rating: 'must be an integer 1-5',
      comment: 'must be a string of at most 2000 characters',
      trace_id: 'trace_id or response_id is required',
    });
  });

  it('malformed JSON, wrong content type', async () => {
    const bad = await fetch(`${proc.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"thumbs": up' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('body is not valid JSON');
    const form = await fetch(`${proc.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'thumbs=up' });
    expect(form.status).toBe(415);
  });

  it('nothing invalid was stored; a valid one without an id gets a generated id', async () => {
    const { status, json } = await postFeedback({ trace_id: trace.toUpperCase(), thumbs: 'up', user_id: 'u-1' });
    expect(status).toBe(201);
    expect(json.feedback_id).toMatch(/^[0-9a-f-]{36}$/);
    const rows = await q<Row>(`SELECT FeedbackId, TraceId, UserId FROM feedback WHERE TraceId = '${trace}'`);
    expect(rows).toEqual([{ FeedbackId: json.feedback_id, TraceId: trace, UserId: 'u-1' }]);
  });
});
