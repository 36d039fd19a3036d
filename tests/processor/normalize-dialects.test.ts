// The same LLM call described in each supported dialect must normalize to the same canonical record
// (only `dialect` differs), and price to the same cost.
import { describe, expect, it } from 'vitest';
import type { Attributes, DecodedSpan, GenAiRecord, SpanEvent } from '../../processor/src/model.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';
import { computeCost, loadPriceBook } from '../../processor/src/derive/index.js';

let seq = 0;
function span(attributes: Attributes, opts: Partial<DecodedSpan> & { scopeName?: string } = {}): DecodedSpan {
  seq++;
  const { scopeName, ...rest } = opts;
  return {
    origin: { resource: { 'service.name': 'test' }, scope: { name: scopeName ?? 'test-scope', version: '1', attributes: {} } },
    traceId: 'a'.repeat(32),
    spanId: seq.toString(16).padStart(16, '0'),
    parentSpanId: 'f'.repeat(16),
    traceState: '',
    name: 'span',
    kind: 3,
    startTimeUnixNano: 1_750_000_000_000_000_000n,
    endTimeUnixNano: 1_750_000_001_000_000_000n,
    attributes,
    events: [] as SpanEvent[],
    links: [],
    statusCode: 0,
    statusMessage: '',
    ...rest,
  };
}

function norm(s: DecodedSpan): GenAiRecord {
  const r = normalizeSpan(s);
  expect(r).not.toBeNull();
  return r!;
}

function withoutDialect(r: GenAiRecord): Omit<GenAiRecord, 'dialect'> {
  const { dialect: _d, ...rest } = r;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// One OpenAI reasoning-model call: 1200 input tokens (1024 served from cache), 500 output tokens of
// which 320 are reasoning, finish reason "stop", non-streaming, session "sess-1", user "user-7".

const openaiCall = {
  semconv: () =>
    span({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'o4-mini',
      'gen_ai.response.model': 'o4-mini-2025-04-16',
      'gen_ai.request.stream': false,
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.cache_read.input_tokens': 1024,
      'gen_ai.usage.reasoning.output_tokens': 320,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': 'api.openai.com',
      'session.id': 'sess-1',
      'user.id': 'user-7',
    }, { name: 'chat o4-mini' }),
  semconv_deprecated: () =>
    span({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'OpenAI',
      'gen_ai.request.model': 'o4-mini',
      'gen_ai.response.model': 'o4-mini-2025-04-16',
      'gen_ai.request.stream': 'false',
      'gen_ai.usage.prompt_tokens': '1200',
      'gen_ai.usage.completion_tokens': 500,
      'gen_ai.usage.cache_read_input_tokens': 1024,
      'gen_ai.usage.reasoning_tokens': 320,
      'gen_ai.response.finish_reasons': '["stop"]',
      'session.id': 'sess-1',
      'user.id': 'user-7',
    }),
  openllmetry: () =>
    span({
      'llm.request.type': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'o4-mini',
      'gen_ai.response.model': 'o4-mini-2025-04-16',
      'gen_ai.usage.prompt_tokens': 1200,
      'gen_ai.usage.completion_tokens': 500,
      'llm.usage.total_tokens': 1700,
      'gen_ai.usage.cache_read_input_tokens': 1024,
      'gen_ai.usage.reasoning_tokens': 320,
      'gen_ai.completion.0.finish_reason': 'stop',
      'llm.is_streaming': false,
      'traceloop.workflow.name': 'answer_question',
      'traceloop.association.properties.session_id': 'sess-1',
      'traceloop.association.properties.user_id': 'user-7',
    }, { name: 'openai.chat', scopeName: '@traceloop/instrumentation-openai' }),
  openinference: () =>
    span({
      'openinference.span.kind': 'LLM',
      'llm.provider': 'openai',
      'llm.system': 'openai',
      'llm.model_name': 'o4-mini-2025-04-16',
      'llm.invocation_parameters': '{"model": "o4-mini", "reasoning_effort": "medium"}',
      'llm.token_count.prompt': 1200,
      'llm.token_count.completion': 500,
      'llm.token_count.total': 1700,
      'llm.token_count.prompt_details.cache_read': 1024,
      'llm.token_count.completion_details.reasoning': 320,
      'llm.finish_reason': 'stop',
      'session.id': 'sess-1',
      'user.id': 'user-7',
      'input.value': '{"messages": []}',
    }, { name: 'ChatCompletion', kind: 1 }),
  vercel_ai: () =>
    span({
      'operation.name': 'ai.generateText.doGenerate answer',
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'o4-mini',
      'ai.model.provider': 'openai.responses',
      'ai.response.model': 'o4-mini-2025-04-16',
      'ai.response.finishReason': 'stop',
      'ai.usage.inputTokens': 1200,
      'ai.usage.outputTokens': 500,
      'ai.usage.totalTokens': 1700,
      'ai.usage.cachedInputTokens': 1024,
      'ai.usage.reasoningTokens': 320,
      'ai.telemetry.functionId': 'answer',
      'ai.telemetry.metadata.sessionId': 'sess-1',
      'ai.telemetry.metadata.userId': 'user-7',
      'gen_ai.system': 'openai.responses',
      'gen_ai.request.model': 'o4-mini',
      'gen_ai.response.model': 'o4-mini-2025-04-16',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.response.finish_reasons': ['stop'],
    }, { name: 'ai.generateText.doGenerate' }),
};

const expectedOpenAi: Omit<GenAiRecord, 'dialect'> = {
  operation: 'chat',
  ragStage: 'generation',
  provider: 'openai',
  requestModel: 'o4-mini',
  responseModel: 'o4-mini-2025-04-16',
  inputTokens: 1200,
  outputTokens: 500,
  cacheReadTokens: 1024,
  cacheWriteTokens: null,
  reasoningTokens: 320,
  usageCounted: true,
  streaming: false,
  ttftMs: null,
  finishReasons: ['stop'],
  errorType: '',
  responseId: '',
  conversationId: '',
  sessionId: 'sess-1',
  userId: 'user-7',
  feature: '',
  experiment: '',
  variant: '',
  dataSourceId: '',
  topK: null,
  documents: [],
  reportedCostUsd: null,
  citedDocumentIds: [],
  citationCount: null,
  invalidCitationCount: null,
  responseCacheHit: null,
  queryFingerprint: '',
  queryChars: null,
  queryTokensEstimate: null,
  querySketch: null,
  queryTopic: '',
  contextChunks: null,
  contextChars: null,
  answerConfidence: null,
  answerConfidenceIgnored: null,
};

describe('the same OpenAI call in every dialect', () => {
  for (const [dialect, make] of Object.entries(openaiCall)) {
    it(`${dialect}: canonical record`, () => {
      const r = norm(make());
      expect(r.dialect).toBe(dialect);
      expect(withoutDialect(r)).toEqual(expectedOpenAi);
    });
  }

  it('all five records are identical except dialect, and cost the same', () => {
    const book = loadPriceBook();
    const t = Date.parse('2025-09-01');
    const records = Object.values(openaiCall).map((m) => norm(m()));
    const costs = records.map((r) => computeCost(r, t, book));
    for (const r of records) expect(withoutDialect(r)).toEqual(withoutDialect(records[0]));
    for (const c of costs) expect(c).toEqual(costs[0]);
    expect(costs[0].source).toBe('computed');
    expect(costs[0].priceId).toBe('openai/o4-mini');
  });
});

// ---------------------------------------------------------------------------------------------
// One Anthropic call with prompt caching: Anthropic's API reports input_tokens=3000 (uncached only),
// cache_read_input_tokens=2000, cache_creation_input_tokens=500, output_tokens=800.
// Canonical input = 5500. Each dialect reports it the way its instrumentations do.

const anthropicCall = {
  semconv: () =>
    span({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-20250514',
      'gen_ai.response.model': 'claude-sonnet-4-20250514',
      'gen_ai.usage.input_tokens': 5500,
      'gen_ai.usage.output_tokens': 800,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.cache_creation.input_tokens': 500,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.response.id': 'msg_01',
      'gen_ai.conversation.id': 'conv-9',
    }),
  semconv_newer_cache_write_name: () =>
    span({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-20250514',
      'gen_ai.response.model': 'claude-sonnet-4-20250514',
      'gen_ai.usage.input_tokens': 5500,
      'gen_ai.usage.output_tokens': 800,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.cache_write.input_tokens': 500,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.id': 'msg_01',
      'gen_ai.conversation.id': 'conv-9',
    }),
  semconv_deprecated: () =>
    span({
      'gen_ai.system': 'Anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-20250514',
      'gen_ai.response.model': 'claude-sonnet-4-20250514',
      'gen_ai.usage.prompt_tokens': 5500,
      'gen_ai.usage.completion_tokens': 800,
      'gen_ai.usage.cache_read_input_tokens': 2000,
      'gen_ai.usage.cache_creation_input_tokens': 500,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.response.id': 'msg_01',
      'gen_ai.conversation.id': 'conv-9',
    }),
  openllmetry: () =>
    span({
      'llm.request.type': 'chat',
      'gen_ai.system': 'Anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-20250514',
      'gen_ai.response.model': 'claude-sonnet-4-20250514',
      'gen_ai.usage.input_tokens': 5500,
      'gen_ai.usage.output_tokens': 800,
      'llm.usage.total_tokens': 6300,
      'gen_ai.usage.cache_read_input_tokens': 2000,
      'gen_ai.usage.cache_creation_input_tokens': 500,
      'gen_ai.completion.0.finish_reason': 'end_turn',
      'gen_ai.response.id': 'msg_01',
      'traceloop.association.properties.conversation_id': 'conv-9',
    }),
  vercel_ai_v5: () =>
    span({
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'claude-sonnet-4-20250514',
      'ai.model.provider': 'anthropic.messages',
      'ai.response.model': 'claude-sonnet-4-20250514',
      'ai.response.id': 'msg_01',
      'ai.response.finishReason': 'stop',
      // AI SDK v5 passes Anthropic's own numbers: input EXCLUDES cache; cache writes only in provider metadata.
      'ai.usage.inputTokens': 3000,
      'ai.usage.outputTokens': 800,
      'ai.usage.totalTokens': 3800,
      'ai.usage.cachedInputTokens': 2000,
      'ai.response.providerMetadata': '{"anthropic":{"cacheCreationInputTokens":500,"usage":{"input_tokens":3000}}}',
      'ai.telemetry.metadata.conversationId': 'conv-9',
      'gen_ai.system': 'anthropic.messages',
      'gen_ai.usage.input_tokens': 3000,
      'gen_ai.usage.output_tokens': 800,
    }),
  vercel_ai_v4: () =>
    span({
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'claude-sonnet-4-20250514',
      'ai.model.provider': 'anthropic.messages',
      'ai.response.model': 'claude-sonnet-4-20250514',
      'ai.response.id': 'msg_01',
      'ai.response.finishReason': 'stop',
      // AI SDK v4: promptTokens is Anthropic's uncached input; both cache counts only in provider metadata.
      'ai.usage.promptTokens': 3000,
      'ai.usage.completionTokens': 800,
      'ai.response.providerMetadata': '{"anthropic":{"cacheCreationInputTokens":500,"cacheReadInputTokens":2000}}',
      'ai.telemetry.metadata.conversationId': 'conv-9',
    }),
  vercel_ai_v6: () =>
    span({
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'claude-sonnet-4-20250514',
      'ai.model.provider': 'anthropic.messages',
      'ai.response.model': 'claude-sonnet-4-20250514',
      'ai.response.id': 'msg_01',
      'ai.response.finishReason': 'stop',
      'ai.usage.inputTokens': 5500,
      'ai.usage.outputTokens': 800,
      'ai.usage.inputTokenDetails.noCacheTokens': 3000,
      'ai.usage.inputTokenDetails.cacheReadTokens': 2000,
      'ai.usage.inputTokenDetails.cacheWriteTokens': 500,
      'ai.usage.outputTokenDetails.textTokens': 800,
      'ai.telemetry.metadata.conversationId': 'conv-9',
    }),
  openinference: () =>
    span({
      'openinference.span.kind': 'LLM',
      'llm.provider': 'anthropic',
      'llm.system': 'anthropic',
      'llm.model_name': 'claude-sonnet-4-20250514',
      'llm.invocation_parameters': '{"model":"claude-sonnet-4-20250514","max_tokens":1024,"stream":false}',
      // OpenInference folds Anthropic cache tokens back into the prompt count (spec: prompt_details are sub-counts).
      'llm.token_count.prompt': 5500,
      'llm.token_count.completion': 800,
      'llm.token_count.prompt_details.cache_read': 2000,
      'llm.token_count.prompt_details.cache_write': 500,
      'llm.finish_reason': 'end_turn',
      'gen_ai.response.id': 'msg_01',
      'gen_ai.conversation.id': 'conv-9',
    }),
};

describe('the same Anthropic prompt-caching call in every dialect', () => {
  it('yields identical records (input includes cache read + write) and identical costs', () => {
    const book = loadPriceBook();
    const t = Date.parse('2025-09-01');
    const records = Object.entries(anthropicCall).map(([name, make]) => ({ name, r: norm(make()) }));
    for (const { name, r } of records) {
      expect({ name, tokens: [r.inputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.outputTokens, r.reasoningTokens] }).toEqual({
        name,
        tokens: [5500, 2000, 500, 800, null],
      });
      expect(r.provider).toBe('anthropic');
      expect(r.finishReasons).toEqual(['stop']);
      expect(r.responseId).toBe('msg_01');
      expect(r.conversationId).toBe('conv-9');
      expect(withoutDialect(r)).toEqual({ ...withoutDialect(records[0].r), streaming: r.streaming });
    }
    const costs = records.map(({ r }) => computeCost(r, t, book));
    for (const c of costs) expect(c).toEqual(costs[0]);
    expect(costs[0]).toMatchObject({ source: 'computed', priceId: 'anthropic/claude-sonnet-4', totalUsd: '0.023475000000' });
    expect(records.map(({ r }) => r.dialect)).toEqual([
      'semconv',
      'semconv',
      'semconv_deprecated',
      'openllmetry',
      'vercel_ai',
      'vercel_ai',
      'vercel_ai',
      'openinference',
    ]);
  });

  it('safety rule: an input count below the cached tokens excluded them, so they are added', () => {
    const r = norm(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-3-5-haiku-20241022',
        'gen_ai.usage.input_tokens': 40, // Anthropic's native (uncached-only) number
        'gen_ai.usage.output_tokens': 10,
        'gen_ai.usage.cache_read.input_tokens': 2000,
        'gen_ai.usage.cache_creation.input_tokens': 0,
      }),
    );
    expect([r.inputTokens, r.cacheReadTokens, r.cacheWriteTokens]).toEqual([2040, 2000, 0]);
  });

  it('safety rule: a reported total that only adds up with exclusive input settles the ambiguous case', () => {
    const r = norm(
      span({
        'gen_ai.system': 'anthropic',
        'gen_ai.request.model': 'claude-3-5-haiku-20241022',
        'gen_ai.usage.input_tokens': 3000,
        'gen_ai.usage.output_tokens': 100,
        'gen_ai.usage.total_tokens': 5600, // 3000 + 2000 + 500 + 100
        'gen_ai.usage.cache_read_input_tokens': 2000,
        'gen_ai.usage.cache_creation_input_tokens': 500,
      }),
    );
    expect(r.inputTokens).toBe(5500);
  });

  it('AI SDK v5 Google: output excludes thinking tokens, so reasoning is added', () => {
    const r = norm(
      span({
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.model.id': 'gemini-2.5-flash',
        'ai.model.provider': 'google.generative-ai',
        'ai.usage.inputTokens': 100,
        'ai.usage.outputTokens': 50,
        'ai.usage.reasoningTokens': 200,
      }),
    );
    expect(r.provider).toBe('gcp.gemini');
    expect([r.inputTokens, r.outputTokens, r.reasoningTokens]).toEqual([100, 250, 200]);
  });
});

describe('streaming call: TTFT and response id where the dialect carries them', () => {
  it('semconv seconds and Vercel milliseconds give the same ttftMs', () => {
    const semconv = norm(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.request.stream': true,
        'gen_ai.response.time_to_first_chunk': 0.123,
        'gen_ai.response.id': 'chatcmpl-1',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.response.finish_reasons': ['length'],
      }),
    );
    const vercel = norm(
      span({
        'ai.operationId': 'ai.streamText.doStream',
        'ai.model.id': 'gpt-4o-mini',
        'ai.model.provider': 'openai.chat',
        'ai.response.model': 'gpt-4o-mini-2024-07-18',
        'ai.response.msToFirstChunk': 123,
        'ai.response.id': 'chatcmpl-1',
        'ai.usage.inputTokens': 10,
        'ai.usage.outputTokens': 20,
        'ai.response.finishReason': 'length',
      }),
    );
    expect(semconv.ttftMs).toBe(123);
    expect(withoutDialect(vercel)).toEqual(withoutDialect(semconv));
    expect(vercel.streaming).toBe(true);
  });
});

describe('provider names', () => {
  it.each([
    ['OpenAI', 'openai'],
    ['openai.chat', 'openai'],
    ['openai.responses', 'openai'],
    ['Anthropic', 'anthropic'],
    ['anthropic.messages', 'anthropic'],
    ['google.generative-ai', 'gcp.gemini'],
    ['gemini', 'gcp.gemini'],
    ['vertexai', 'gcp.vertex_ai'],
    ['google.vertex.chat', 'gcp.vertex_ai'],
    ['aws', 'aws.bedrock'],
    ['amazon-bedrock', 'aws.bedrock'],
    ['azure', 'azure.ai.openai'],
    ['azure-openai.chat', 'azure.ai.openai'],
    ['mistralai', 'mistral_ai'],
    ['mistral.chat', 'mistral_ai'],
    ['xai', 'x_ai'],
    ['Groq', 'groq'],
    ['ollama', 'ollama'],
  ])('%s → %s', async (raw, expected) => {
    const { normalizeProvider } = await import('../../processor/src/normalize/index.js');
    expect(normalizeProvider(raw)).toBe(expected);
  });

  it('infers the provider from the model when no provider attribute is present', () => {
    const r = norm(span({ 'openinference.span.kind': 'EMBEDDING', 'embedding.model_name': 'text-embedding-3-small', 'llm.token_count.prompt': 8 }));
    expect(r).toMatchObject({ operation: 'embeddings', ragStage: 'embedding', provider: 'openai', requestModel: 'text-embedding-3-small', inputTokens: 8, outputTokens: null });
  });
});
