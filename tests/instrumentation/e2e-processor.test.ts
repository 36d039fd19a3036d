// End to end: an app registered with `--import @ragscope/instrumentation/register` (child process, real
// openai + @anthropic-ai/sdk against local API stubs) → OTLP/HTTP protobuf → the real ragscope processor
// (in this process, embedded ClickHouse) → canonical genai_spans rows with cost, and the feedback row.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startProcessor, type TestProcessor } from '../helpers/processor.js';
import { ROOT } from './helpers/otel.js';
import { startAnthropicStub, startOpenAIStub, type Stub } from '../../demo/src/provider-stub.js';

let processor: TestProcessor;
let openaiStub: Stub;
let anthropicStub: Stub;
let out: { answer: string; traceId: string; feedback: { ok: boolean; feedbackId: string } };

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'instrumentation'], { cwd: ROOT, stdio: 'pipe' });
  processor = await startProcessor();
  openaiStub = await startOpenAIStub();
  anthropicStub = await startAnthropicStub();
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', '@ragscope/instrumentation/register', 'esm-app.mjs'],
      {
        cwd: join(ROOT, 'tests/instrumentation/fixtures'),
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          STUB_OPENAI: openaiStub.url,
          STUB_ANTHROPIC: anthropicStub.url,
          // A model the built-in price book knows (claude-sonnet-4 family).
          FIXTURE_CLAUDE_MODEL: 'claude-sonnet-4-20250514',
          OTEL_EXPORTER_OTLP_ENDPOINT: processor.url,
          OTEL_SERVICE_NAME: 'e2e-app',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
        },
      },
      (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)),
    ),
  );
  out = JSON.parse(stdout.trim().split('\n').pop()!);
}, 180_000);

afterAll(async () => {
  await openaiStub?.close();
  await anthropicStub?.close();
  if (processor) {
    await processor.stop();
    removeDir(processor.dataDir);
  }
});

async function poll<T>(sql: string, until: (rows: T[]) => boolean, ms = 20_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  let rows: T[] = [];
  while (Date.now() < deadline) {
    rows = await processor.query<T>(sql);
    if (until(rows)) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

describe('app → processor → ClickHouse', () => {
  it('writes the canonical genai_spans rows, with OTel token semantics and cost', async () => {
    expect(out.answer).toBe('Paris is the capital. / Paris is the capital of France.');
    const rows = await poll<Row>(
      `SELECT * FROM genai_spans WHERE TraceId = '${out.traceId}' ORDER BY SpanName`,
      (r) => r.length >= 4,
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['chat claude-sonnet-4-20250514', 'chat gpt-4o-mini', 'invoke_workflow fixture-request', 'retrieval kb']);
    for (const r of rows) {
      expect(r).toMatchObject({ ServiceName: 'e2e-app', UserId: 'u-fixture', Feature: 'fixture' });
    }
    const gpt = rows.find((r) => r.SpanName === 'chat gpt-4o-mini')!;
    expect(gpt).toMatchObject({ Operation: 'chat', Provider: 'openai', RequestModel: 'gpt-4o-mini', ResponseModel: 'gpt-4o-mini-2024-07-18', Dialect: 'semconv', ResponseId: 'chatcmpl-stub123', CostSource: 'computed' });
    expect([num(gpt.InputTokens), num(gpt.CacheReadTokens), num(gpt.OutputTokens), num(gpt.ReasoningTokens)]).toEqual([1200, 1024, 300, 128]);
    // gpt-4o-mini $0.15 / $0.075 cached / $0.60 per 1M: 176×0.15 + 1024×0.075 + 300×0.60 = 283.2 µUSD
    // (cached tokens not double counted; reasoning priced as output).
    expect(Number(gpt.CostUSD)).toBeCloseTo(0.0002832, 12);
    expect(gpt.Streaming).toBe(true);
    expect(num(gpt.TtftMs)).toBeGreaterThan(0);

    const claude = rows.find((r) => r.SpanName === 'chat claude-sonnet-4-20250514')!;
    // The processor canonicalizes Anthropic's `end_turn` to `stop`.
    expect(claude).toMatchObject({ Operation: 'chat', Provider: 'anthropic', CostSource: 'computed', FinishReasons: ['stop'] });
    // Anthropic reports input 50 + cache read 2000 + cache write 1000; OTel input = 3050.
    expect([num(claude.InputTokens), num(claude.CacheReadTokens), num(claude.CacheWriteTokens), num(claude.OutputTokens)]).toEqual([3050, 2000, 1000, 200]);
    // claude-sonnet-4 $3 / $0.30 read / $3.75 write / $15 per 1M: 50×3 + 2000×0.3 + 1000×3.75 + 200×15 = 7500 µUSD.
    expect(Number(claude.CostUSD)).toBeCloseTo(0.0075, 12);

    const root = rows.find((r) => r.SpanName === 'invoke_workflow fixture-request')!;
    expect(root.RagStage).toBe('request');
    expect(root.QueryFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(root.ParentSpanId).toBe('');
    expect(gpt.ParentSpanId).toBe(root.SpanId);
    const retrieval = rows.find((r) => r.SpanName === 'retrieval kb')!;
    expect(retrieval).toMatchObject({ Operation: 'retrieval', RagStage: 'retrieval', DataSourceId: 'kb', DocumentIds: ['d1'] });
  });

  it('turns the feedback event into a feedback row linked to the trace', async () => {
    expect(out.feedback.ok).toBe(true);
    const rows = await poll<Row>(`SELECT * FROM feedback WHERE FeedbackId = '${out.feedback.feedbackId}'`, (r) => r.length >= 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ Name: 'user_feedback', Kind: 'thumbs', TraceId: out.traceId, UserId: 'u-fixture', Comment: 'good' });
  });
});
