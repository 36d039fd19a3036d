// One-line registration in real child processes: ESM and CommonJS apps, --import / --require / import-first,
// exporting over OTLP/HTTP to a local receiver. Uses the built package (instrumentation/dist).
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/otel.js';
import { startReceiver, type OtlpSpan, type Receiver } from './helpers/otlp-receiver.js';
import { startAnthropicStub, startOpenAIStub, type Stub } from '../../demo/src/provider-stub.js';

const FIXTURES = join(ROOT, 'tests/instrumentation/fixtures');
let openaiStub: Stub;
let anthropicStub: Stub;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'instrumentation'], { cwd: ROOT, stdio: 'pipe' });
  openaiStub = await startOpenAIStub();
  anthropicStub = await startAnthropicStub();
}, 120_000);
afterAll(async () => {
  await openaiStub?.close();
  await anthropicStub?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  out: { answer: string; traceId: string; feedback: { ok: boolean }; stats: Record<string, number> | null };
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: FIXTURES,
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          STUB_OPENAI: openaiStub.url,
          STUB_ANTHROPIC: anthropicStub.url,
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_BLRP_SCHEDULE_DELAY: '50',
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        let out: Run['out'];
        try {
          out = JSON.parse(line);
        } catch {
          out = undefined as never;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started, out });
      },
    );
  });
}

function expectFixtureTelemetry(receiver: Receiver, r: Run, serviceName: string): OtlpSpan[] {
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.answer).toBe('Paris is the capital. / Paris is the capital of France.');
  expect(r.out.feedback.ok).toBe(true);
  const spans = receiver.spans();
  const names = spans.map((s) => s.name).sort();
  expect(names).toEqual(['chat claude-sonnet-4-6', 'chat gpt-4o-mini', 'invoke_workflow fixture-request', 'retrieval kb']);
  const root = spans.find((s) => s.name === 'invoke_workflow fixture-request')!;
  expect(root.traceId).toBe(r.out.traceId);
  for (const s of spans) {
    expect(s.traceId).toBe(root.traceId);
    expect(s.resource['service.name']).toBe(serviceName);
    expect(s.attributes['user.id'], s.name).toBe('u-fixture');
    expect(s.attributes['ragscope.feature'], s.name).toBe('fixture');
  }
  const chat = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
  expect(chat.parentSpanId).toBe(root.spanId);
  expect(chat.kind).toBe(3); // SPAN_KIND_CLIENT
  expect(chat.attributes).toMatchObject({
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.stream': true,
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.usage.cache_read.input_tokens': 1024,
    'gen_ai.usage.reasoning.output_tokens': 128,
  });
  const claude = spans.find((s) => s.name === 'chat claude-sonnet-4-6')!;
  expect(claude.parentSpanId).toBe(root.spanId);
  expect(claude.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.usage.input_tokens': 3050, 'gen_ai.usage.cache_creation.input_tokens': 1000 });
  const logs = receiver.logs();
  expect(logs).toHaveLength(1);
  expect(logs[0]).toMatchObject({ eventName: 'gen_ai.evaluation.result', traceId: root.traceId, spanId: '' });
  expect(logs[0]!.attributes).toMatchObject({ 'gen_ai.evaluation.name': 'user_feedback', 'gen_ai.evaluation.score.value': 1, 'ragscope.feedback.comment': 'good' });
  expect(logs[0]!.resource['service.name']).toBe(serviceName);
  return spans;
}

const JSON_OTLP = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };

describe('one-line registration (child processes, OTLP/HTTP JSON to a local receiver)', () => {
  it.each([
    ['ESM app, --import', ['--import', '@ragscope/instrumentation/register', 'esm-app.mjs']],
    ['CommonJS app, --import', ['--import', '@ragscope/instrumentation/register', 'cjs-app.cjs']],
    ['CommonJS app, --require', ['--require', '@ragscope/instrumentation/register', 'cjs-app.cjs']],
    ['ESM app, import-first (no flag)', ['import-first.mjs']],
    ['CommonJS app, require-first (no flag)', ['require-first.cjs']],
  ])('%s', async (label, args) => {
    const receiver = await startReceiver();
    try {
      const service = `fixture-${label.replace(/\W+/g, '-')}`;
      const r = await run(args, { ...JSON_OTLP, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: service });
      const spans = expectFixtureTelemetry(receiver, r, service);
      // Content capture is off by default.
      for (const s of spans) {
        expect(s.attributes['gen_ai.input.messages'], s.name).toBeUndefined();
        expect(s.attributes['gen_ai.output.messages'], s.name).toBeUndefined();
      }
      expect(JSON.stringify(spans)).not.toContain('jane@example.com');
    } finally {
      await receiver.close();
    }
  });

  it('content capture opted in by environment: captured and redacted on OpenAI and Anthropic spans', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run(['--import', '@ragscope/instrumentation/register', 'esm-app.mjs'], {
        ...JSON_OTLP,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'fixture-content',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      });
      const spans = expectFixtureTelemetry(receiver, r, 'fixture-content');
      const chat = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
      expect(JSON.parse(chat.attributes['gen_ai.input.messages'] as string)).toEqual([
        { role: 'user', parts: [{ type: 'text', content: 'Capital of France? reply to [REDACTED_EMAIL]' }] },
      ]);
      expect(chat.attributes['gen_ai.output.messages']).toContain('Paris is the capital.');
      const claude = spans.find((s) => s.name === 'chat claude-sonnet-4-6')!;
      expect(claude.attributes['gen_ai.input.messages']).toContain('Same, cc [REDACTED_EMAIL]');
      expect(JSON.stringify(spans)).not.toMatch(/jane@example\.com|bob@example\.com/);
    } finally {
      await receiver.close();
    }
  });

  it('standard OTEL_* variables: headers, resource attributes, sampler', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run(['--import', '@ragscope/instrumentation/register', 'esm-app.mjs'], {
        ...JSON_OTLP,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k3n,x-tenant=acme',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource-attrs,deployment.environment.name=staging',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.answer).toBe('Paris is the capital. / Paris is the capital of France.');
      // Sampled out: no spans at all; the feedback log event is still exported, with headers and resource.
      expect(receiver.spans()).toHaveLength(0);
      const logs = receiver.logs();
      expect(logs).toHaveLength(1);
      expect(logs[0]!.resource).toMatchObject({ 'service.name': 'from-resource-attrs', 'deployment.environment.name': 'staging' });
      const req = receiver.received.find((x) => x.path === '/v1/logs')!;
      expect(req.headers.authorization).toBe('Bearer t0k3n');
      expect(req.headers['x-tenant']).toBe('acme');
    } finally {
      await receiver.close();
    }
  });

  it('default protocol is OTLP/HTTP protobuf', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run(['--import', '@ragscope/instrumentation/register', 'esm-app.mjs'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'fixture-proto' });
      expect(r.code, r.stderr).toBe(0);
      const traces = receiver.received.filter((x) => x.path === '/v1/traces');
      const logs = receiver.received.filter((x) => x.path === '/v1/logs');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.every((x) => x.contentType === 'application/x-protobuf')).toBe(true);
      const bytes = Buffer.concat(traces.map((x) => x.body)).toString('latin1');
      for (const name of ['invoke_workflow fixture-request', 'chat gpt-4o-mini', 'chat claude-sonnet-4-6', 'fixture-proto']) expect(bytes).toContain(name);
      expect(Buffer.concat(logs.map((x) => x.body)).toString('latin1')).toContain('user_feedback');
    } finally {
      await receiver.close();
    }
  });

  it('a dead endpoint costs the app nothing but dropped, counted telemetry', async () => {
    const dead = await startReceiver();
    const url = dead.url;
    await dead.close(); // nothing listens there any more
    const r = await run(['--import', '@ragscope/instrumentation/register', 'esm-app.mjs'], {
      ...JSON_OTLP,
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_SERVICE_NAME: 'fixture-dead',
      FIXTURE_SHUTDOWN: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.answer).toBe('Paris is the capital. / Paris is the capital of France.');
    expect(r.out.stats).toMatchObject({ spansExported: 0, logsExported: 0 });
    expect(r.out.stats!.spansDropped).toBe(4);
    expect(r.out.stats!.logsDropped).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
  });
});
