// The real `openai` SDK, v5, v6 and v7, against a local stub of the OpenAI API, traced by ragscope's
// OpenAI instrumentation loaded through the require hook (as in a CommonJS app).
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPENAI_SCOPE } from '../../instrumentation/src/openai.js';
import { OwnSpan, OwnTracer } from '../../instrumentation/src/own-tracer.js';
import { PACKAGE_VERSION } from '../../instrumentation/src/version.js';
import { RagscopeOpenAIInstrumentation, configure, traceRag } from '../../instrumentation/src/index.js';
import { attr, parentId, requireFromCopy, setupPipeline } from './helpers/otel.js';
import { OPENAI_CHAT_USAGE, OPENAI_RESPONSES_USAGE, startOpenAIStub, type Stub } from '../../demo/src/provider-stub.js';

const instrumentation = new RagscopeOpenAIInstrumentation();
const pipeline = setupPipeline([instrumentation]);
let stub: Stub;

beforeAll(async () => {
  configure({ captureContent: false });
  stub = await startOpenAIStub();
});
afterAll(async () => {
  await stub?.close();
});
beforeEach(() => pipeline.reset());

const VERSIONS = [
  { tag: 'v5', source: 'openai-v5', major: 5 },
  { tag: 'v6', source: 'openai-v6', major: 6 },
  { tag: 'v7', source: 'openai', major: 7 },
];

function onlySpan(name: string) {
  const spans = pipeline.spans().filter((s) => s.name === name);
  expect(spans.map((s) => s.name)).toEqual([name]);
  return spans[0]!;
}

// Each case runs with both tracers of the instrumentation: the SDK's, and register()'s own (own-tracer.ts).
const TRACERS = [{ tracerKind: 'SDK tracer', own: false }, { tracerKind: 'own tracer', own: true }];
const CASES = VERSIONS.flatMap((v) => TRACERS.map((t) => ({ ...v, ...t })));

describe.each(CASES)('openai $tag, $tracerKind', ({ tag, source, major, own }) => {
  beforeAll(() => instrumentation.useOwnTracer(own ? new OwnTracer(pipeline.settings, { name: OPENAI_SCOPE, version: PACKAGE_VERSION }) : undefined));
  afterAll(() => instrumentation.useOwnTracer(undefined));
  // Which tracer made the span: only the own tracer makes OwnSpan objects.
  afterEach(() => {
    for (const span of pipeline.spans()) if (span.instrumentationScope.name === OPENAI_SCOPE) expect(span instanceof OwnSpan).toBe(own);
  });
  const req = requireFromCopy('openai', source, tag);
  const mod = req('openai') as typeof import('openai');
  const OpenAI = mod.OpenAI;
  const client = (opts: Record<string, unknown> = {}) => new OpenAI({ apiKey: 'sk-test', baseURL: `${stub.url}/v1`, maxRetries: 2, ...opts });

  it('loads the expected major version through the require hook, patched', () => {
    const pkgJson = join(dirname(req.resolve('openai')), 'package.json');
    const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
    expect(Number(version.split('.')[0])).toBe(major);
    expect((OpenAI.Chat.Completions.prototype.create as unknown as { __wrapped?: boolean }).__wrapped).toBe(true);
  });

  it('chat completion: GenAI span with usage incl. cached and reasoning tokens, no deprecated gen_ai.system, no content', async () => {
    const res = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France? mail me at jane@example.com' }], temperature: 0.2 });
    expect(res.choices[0]!.message.content).toContain('Paris');
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.id': 'chatcmpl-stub123',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': OPENAI_CHAT_USAGE.prompt_tokens,
      'gen_ai.usage.output_tokens': OPENAI_CHAT_USAGE.completion_tokens,
      'gen_ai.usage.cache_read.input_tokens': 1024,
      'gen_ai.usage.reasoning.output_tokens': 128,
      'server.address': '127.0.0.1',
      'server.port': stub.port,
    });
    expect(attr(span, 'gen_ai.system')).toBeUndefined();
    expect(attr(span, 'gen_ai.input.messages')).toBeUndefined();
    expect(attr(span, 'gen_ai.output.messages')).toBeUndefined();
    expect(attr(span, 'http.request.resend_count')).toBeUndefined();
  });

  it('streamed chat: time to first chunk, cached/reasoning tokens from the usage chunk, finish reason', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Capital of France?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Paris is the capital.');
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'chatcmpl-stub123',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 300,
      'gen_ai.usage.cache_read.input_tokens': 1024,
      'gen_ai.usage.reasoning.output_tokens': 128,
    });
    const ttfc = attr(span, 'gen_ai.response.time_to_first_chunk') as number;
    // The stub waits 15 ms before the first content chunk.
    expect(ttfc).toBeGreaterThanOrEqual(0.01);
    expect(ttfc).toBeLessThan(5);
  });

  it('a stream the app stops reading still ends its span, without an error', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) break;
    }
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(attr(span, 'gen_ai.response.time_to_first_chunk')).toBeTypeOf('number');
  });

  it('embeddings: input tokens and dimension count', async () => {
    const res = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'what is ragscope' });
    expect(res.data[0]!.embedding).toHaveLength(8);
    const span = onlySpan('embeddings text-embedding-3-small');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 8,
      'gen_ai.embeddings.dimension.count': 8,
    });
    expect(attr(span, 'gen_ai.system')).toBeUndefined();
  });

  it('Responses API: usage with cached and reasoning tokens', async () => {
    const res = await client().responses.create({ model: 'gpt-4.1-mini', input: 'Capital of France?', instructions: 'Answer tersely. Call +1 415 555 0123.' });
    expect(res.output_text).toBe('Paris.');
    const span = onlySpan('chat gpt-4.1-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.id': 'resp_stub456',
      'gen_ai.response.model': 'gpt-4.1-mini-2025-04-14',
      'gen_ai.usage.input_tokens': OPENAI_RESPONSES_USAGE.input_tokens,
      'gen_ai.usage.output_tokens': OPENAI_RESPONSES_USAGE.output_tokens,
      'gen_ai.usage.cache_read.input_tokens': 512,
      'gen_ai.usage.reasoning.output_tokens': 64,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    // The official instrumentation puts `instructions` on the span even with capture off; ragscope strips it.
    expect(attr(span, 'gen_ai.system_instructions')).toBeUndefined();
  });

  it('streamed Responses API: time to first chunk, usage details, and .withResponse() still works', async () => {
    const { data: stream, response } = await client().responses.create({ model: 'gpt-4.1-mini', input: 'Capital?', stream: true }).withResponse();
    expect(response.status).toBe(200);
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('Paris.');
    const span = onlySpan('chat gpt-4.1-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'resp_stub456',
      'gen_ai.usage.input_tokens': 900,
      'gen_ai.usage.cache_read.input_tokens': 512,
      'gen_ai.usage.reasoning.output_tokens': 64,
    });
    expect(attr(span, 'gen_ai.response.time_to_first_chunk')).toBeGreaterThanOrEqual(0.01);
  });

  it('429 then success: one span, no error, retry counted', async () => {
    const scenario = `rate-limit-once:${tag}-${Date.now()}`;
    const res = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-stub-scenario': scenario } });
    expect(res.id).toBe('chatcmpl-stub123');
    expect(stub.requests.filter((r) => r.headers['x-stub-scenario'] === scenario)).toHaveLength(2);
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(attr(span, 'http.request.resend_count')).toBe(1);
    expect(attr(span, 'error.type')).toBeUndefined();
  });

  it('429 until retries run out: error span with error.type RateLimitError, status 429, retry count', async () => {
    await expect(
      client({ maxRetries: 1 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-stub-scenario': 'rate-limit-always' } }),
    ).rejects.toMatchObject({ status: 429 });
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'error.type': 'RateLimitError', 'http.response.status_code': 429, 'http.request.resend_count': 1 });
  });

  it('is a child of the active span and carries the request context of traceRag', async () => {
    let parent!: Span;
    await traceRag('answer', { userId: 'u-42', feature: 'support-chat' }, (request) => {
      parent = request.span;
      return client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    });
    const span = onlySpan('chat gpt-4o-mini');
    expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(parentId(span)).toBe(parent.spanContext().spanId);
    expect(span.attributes).toMatchObject({ 'user.id': 'u-42', 'ragscope.feature': 'support-chat' });
  });
});
