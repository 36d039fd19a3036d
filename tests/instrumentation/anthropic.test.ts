// The real `@anthropic-ai/sdk` against a local stub of the Anthropic API:
// - 1.12 (traces itself; ragscope normalizes its spans in RagscopeSpanProcessor and patches nothing),
// - 0.133 (no native tracing; ragscope's fallback InstrumentationBase wraps Messages#create),
// both must produce the same attributes, with OTel token semantics (input INCLUDES cache read + write).
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicInstrumentation, applyEnvironmentDefaults, configure, traceRag } from '../../instrumentation/src/index.js';
import { attr, parentId, requireFromCopy, ROOT, setupPipeline } from './helpers/otel.js';
import { ANTHROPIC_USAGE, startAnthropicStub, type Stub } from '../../demo/src/provider-stub.js';

applyEnvironmentDefaults(false);
const instrumentation = new AnthropicInstrumentation();
const pipeline = setupPipeline([instrumentation]);
let stub: Stub;

beforeAll(async () => {
  configure({ captureContent: false });
  stub = await startAnthropicStub();
});
afterAll(async () => {
  await stub?.close();
});
beforeEach(() => pipeline.reset());

const MODES = [
  { mode: 'native spans (1.12)', load: () => createRequire(`${ROOT}/index.js`)('@anthropic-ai/sdk'), patched: false },
  { mode: 'fallback instrumentation (0.133)', load: () => requireFromCopy('@anthropic-ai/sdk', 'anthropic-v0', 'anthropic-v0')('@anthropic-ai/sdk'), patched: true },
];

const MODEL = 'claude-sonnet-4-6';
const EXPECTED_INPUT = ANTHROPIC_USAGE.input_tokens + ANTHROPIC_USAGE.cache_read_input_tokens + ANTHROPIC_USAGE.cache_creation_input_tokens;

function onlySpan() {
  const spans = pipeline.spans();
  expect(spans.map((s) => s.name)).toEqual([`chat ${MODEL}`]);
  return spans[0]!;
}

describe.each(MODES)('@anthropic-ai/sdk, $mode', ({ load, patched }) => {
  const mod = load() as typeof import('@anthropic-ai/sdk');
  const Anthropic = mod.Anthropic;
  const client = (opts: Record<string, unknown> = {}) => new Anthropic({ apiKey: 'sk-ant-test', baseURL: stub.url, maxRetries: 2, ...opts });

  it(patched ? 'Messages#create is patched by the fallback' : 'Messages#create is left alone (the SDK traces itself)', () => {
    expect(Boolean((Anthropic.Messages.prototype.create as unknown as { __wrapped?: boolean }).__wrapped)).toBe(patched);
  });

  it('message: chat span, input tokens include cache read and write, cache attributes, finish reason, no content', async () => {
    const msg = await client().messages.create({ model: MODEL, max_tokens: 512, messages: [{ role: 'user', content: 'Capital of France? I am jane@example.com' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text' });
    const span = onlySpan();
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': MODEL,
      'gen_ai.request.max_tokens': 512,
      'gen_ai.response.id': 'msg_01StubAnthropic',
      'gen_ai.response.model': MODEL,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': EXPECTED_INPUT,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.cache_creation.input_tokens': 1000,
      'server.address': '127.0.0.1',
      'server.port': stub.port,
    });
    expect(attr(span, 'gen_ai.system')).toBeUndefined();
    expect(attr(span, 'gen_ai.input.messages')).toBeUndefined();
    expect(attr(span, 'gen_ai.output.messages')).toBeUndefined();
  });

  it('streamed message (create with stream: true): time to first chunk and the final usage', async () => {
    const stream = await client().messages.create({ model: MODEL, max_tokens: 512, messages: [{ role: 'user', content: 'Capital?' }], stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe('Paris is the capital.');
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'msg_01StubAnthropic',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': EXPECTED_INPUT,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.cache_creation.input_tokens': 1000,
    });
    expect(attr(span, 'gen_ai.response.time_to_first_chunk')).toBeGreaterThanOrEqual(0.01);
  });

  it('messages.stream() helper: one span with usage', async () => {
    const final = await client().messages.stream({ model: MODEL, max_tokens: 512, messages: [{ role: 'user', content: 'Capital?' }] }).finalMessage();
    expect(final.usage.output_tokens).toBe(200);
    const span = onlySpan();
    expect(span.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': EXPECTED_INPUT, 'gen_ai.usage.cache_read.input_tokens': 2000, 'gen_ai.response.finish_reasons': ['end_turn'] });
  });

  it('429 then success: no error, retry counted', async () => {
    const scenario = `rate-limit-once:${patched}-${Date.now()}`;
    await client().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-stub-scenario': scenario } });
    expect(stub.requests.filter((r) => r.headers['x-stub-scenario'] === scenario)).toHaveLength(2);
    const span = onlySpan();
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(attr(span, 'http.request.resend_count')).toBe(1);
  });

  it('429 until retries run out: error.type rate_limit_error, status 429', async () => {
    await expect(
      client({ maxRetries: 0 }).messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-stub-scenario': 'rate-limit-always' } }),
    ).rejects.toMatchObject({ status: 429 });
    const span = onlySpan();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'error.type': 'rate_limit_error', 'http.response.status_code': 429 });
  });

  it('child of the active span, request context of traceRag, and no trace context sent to the API', async () => {
    let parent!: Span;
    const before = stub.requests.length;
    await traceRag('answer', { userId: 'u-7', sessionId: 's-9' }, (request) => {
      parent = request.span;
      return client().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    });
    const span = pipeline.spans().find((s) => s.name === `chat ${MODEL}`)!;
    expect(parentId(span)).toBe(parent.spanContext().spanId);
    expect(span.attributes).toMatchObject({ 'user.id': 'u-7', 'session.id': 's-9' });
    const sent = stub.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.baggage).toBeUndefined();
    expect(sent[0]!.headers.traceparent).toBeUndefined();
  });
});
