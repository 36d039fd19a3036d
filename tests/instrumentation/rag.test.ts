// RAG helpers: the request root, request context stamped on every child (including an auto-instrumented
// OpenAI span), stage spans, citations, response cache, query fingerprint, and the content policy
// (off by default; on with default + custom redaction).
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RagscopeOpenAIInstrumentation,
  configure,
  currentFeedbackTarget,
  currentTraceId,
  fingerprintQuery,
  simHash64,
  sketchHex,
  markResponseCacheHit,
  recordAnswerConfidence,
  recordCitations,
  traceContextAssembly,
  traceEmbedding,
  traceGeneration,
  tracePostProcessing,
  traceRag,
  traceRerank,
  traceRetrieval,
} from '../../instrumentation/src/index.js';
import { attr, parentId, requireFromCopy, setupPipeline } from './helpers/otel.js';
import { OPENAI_SCOPE } from '../../instrumentation/src/openai.js';
import { OwnSpan, OwnTracer } from '../../instrumentation/src/own-tracer.js';
import { useOwnRagTracer } from '../../instrumentation/src/span-run.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../../instrumentation/src/version.js';
import { startOpenAIStub, type Stub } from '../../demo/src/provider-stub.js';

const instrumentation = new RagscopeOpenAIInstrumentation();
const pipeline = setupPipeline([instrumentation]);
const { OpenAI } = requireFromCopy('openai', 'openai', 'v7')('openai') as typeof import('openai');
let stub: Stub;
let openai: InstanceType<typeof OpenAI>;

beforeAll(async () => {
  stub = await startOpenAIStub();
  openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${stub.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await stub?.close();
});
beforeEach(() => {
  pipeline.reset();
  configure({ captureContent: false });
});
afterEach(() => configure({ captureContent: false }));

const CONTEXT = { userId: 'user-1', sessionId: 'sess-1', conversationId: 'conv-1', feature: 'support-chat', experiment: 'reranker-ab', variant: 'B' };
const CONTEXT_ATTRS = {
  'user.id': 'user-1',
  'session.id': 'sess-1',
  'gen_ai.conversation.id': 'conv-1',
  'ragscope.feature': 'support-chat',
  'ragscope.experiment': 'reranker-ab',
  'ragscope.variant': 'B',
};

/** A complete RAG request through every helper. */
async function answer(question: string) {
  return traceRag('support-answer', { ...CONTEXT, query: question }, async (request) => {
    const vector = await traceEmbedding({ model: 'text-embedding-3-small', provider: 'openai' }, async () => {
      const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: question });
      return r.data[0]!.embedding;
    });
    expect(vector).toHaveLength(8);
    const docs = await traceRetrieval({ dataSourceId: 'kb-articles', topK: 3, query: question }, async (stage) => {
      const hits = [
        { id: 'doc-1', score: 0.91, content: 'Paris is the capital. Contact paris@example.com' },
        { id: 'doc-2', score: 0.72, content: 'France is in Europe.' },
        { id: 'doc-3', score: 0.35, content: 'Unrelated.' },
      ];
      stage.setDocuments(hits);
      return hits;
    });
    const ranked = await traceRerank({ model: 'rerank-v3', topN: 2 }, async (stage) => {
      const r = [docs[0]!, docs[1]!].map((d, i) => ({ ...d, score: [0.98, 0.4][i]! }));
      stage.setDocuments(r);
      return r;
    });
    const prompt = traceContextAssembly(undefined, (stage) => {
      stage.setChunks(ranked.map((d) => d.content));
      return ranked.map((d, i) => `[${i + 1}] ${d.content}`).join('\n');
    });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: `Answer with citations.\n${prompt}` },
        { role: 'user', content: question },
      ],
    });
    const text = completion.choices[0]!.message.content!;
    const citations = tracePostProcessing({ name: 'citations' }, (stage) => stage.recordCitations(`${text} See also [2] and [7].`, ranked));
    request.setAnswer(text);
    return { text, citations, traceId: request.traceId, target: currentFeedbackTarget(), inner: currentTraceId() };
  });
}

// Every case runs with both tracers: the SDK's, and register()'s own (own-tracer.ts) for ragscope's spans.
describe.each([
  { tracerKind: 'SDK tracer', own: false },
  { tracerKind: 'own tracer', own: true },
])('$tracerKind', ({ own }) => {
  beforeAll(() => {
    useOwnRagTracer(own ? new OwnTracer(pipeline.settings, { name: PACKAGE_NAME, version: PACKAGE_VERSION }) : undefined);
    instrumentation.useOwnTracer(own ? new OwnTracer(pipeline.settings, { name: OPENAI_SCOPE, version: PACKAGE_VERSION }) : undefined);
  });
  afterAll(() => {
    useOwnRagTracer(undefined);
    instrumentation.useOwnTracer(undefined);
  });
  // Which tracer made the spans: only the own tracer makes OwnSpan objects.
  afterEach(() => {
    for (const span of pipeline.spans()) expect(span instanceof OwnSpan).toBe(own);
  });

  describe('traceRag and stage helpers', () => {
    it('builds the span tree: root, stages, auto-instrumented LLM calls as children; context on every span', async () => {
      const out = await answer('What is the capital of France?');
      const spans = pipeline.spans();
      const names = spans.map((s) => s.name).sort();
      expect(names).toEqual(
        [
          'invoke_workflow support-answer',
          'embeddings text-embedding-3-small', // stage
          'embeddings text-embedding-3-small', // auto-instrumented call inside it
          'retrieval kb-articles',
          'rerank rerank-v3',
          'context_assembly',
          'chat gpt-4o-mini',
          'post_processing citations',
        ].sort(),
      );
      const root = spans.find((s) => s.name === 'invoke_workflow support-answer')!;
      expect(parentId(root)).toBeUndefined();
      expect(root.kind).toBe(SpanKind.INTERNAL);
      expect(root.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_workflow', 'ragscope.rag.stage': 'request', ...CONTEXT_ATTRS });
      expect(out.traceId).toBe(root.spanContext().traceId);
      expect(out.inner).toBe(root.spanContext().traceId);
      expect(out.target).toEqual({ traceId: root.spanContext().traceId, spanId: root.spanContext().spanId });

      for (const s of spans) {
        expect(s.spanContext().traceId).toBe(root.spanContext().traceId);
        // Request context → attributes on every span, the auto-instrumented OpenAI spans included.
        expect(s.attributes, s.name).toMatchObject(CONTEXT_ATTRS);
      }
      const [stageEmb, callEmb] = spans
        .filter((s) => s.name === 'embeddings text-embedding-3-small')
        .sort((a, b) => (a.attributes['ragscope.rag.stage'] ? -1 : b.attributes['ragscope.rag.stage'] ? 1 : 0));
      expect(stageEmb!.attributes['ragscope.rag.stage']).toBe('embedding');
      expect(parentId(stageEmb!)).toBe(root.spanContext().spanId);
      expect(parentId(callEmb!)).toBe(stageEmb!.spanContext().spanId);
      expect(callEmb!.kind).toBe(SpanKind.CLIENT);
      const chat = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
      expect(parentId(chat)).toBe(root.spanContext().spanId);
      expect(chat.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(1024);
    });

    it('retrieval and rerank: documents (ids, scores, no content), count and relevance min/max/avg; context assembly figures', async () => {
      await answer('What is the capital of France?');
      const spans = pipeline.spans();
      const retrieval = spans.find((s) => s.name === 'retrieval kb-articles')!;
      expect(retrieval.attributes).toMatchObject({
        'gen_ai.operation.name': 'retrieval',
        'ragscope.rag.stage': 'retrieval',
        'gen_ai.data_source.id': 'kb-articles',
        'gen_ai.request.top_k': 3,
        'ragscope.retrieval.document_count': 3,
        'ragscope.retrieval.relevance.min': 0.35,
        'ragscope.retrieval.relevance.max': 0.91,
      });
      expect(retrieval.attributes['ragscope.retrieval.relevance.avg']).toBeCloseTo((0.91 + 0.72 + 0.35) / 3, 10);
      expect(JSON.parse(retrieval.attributes['gen_ai.retrieval.documents'] as string)).toEqual([
        { id: 'doc-1', score: 0.91 },
        { id: 'doc-2', score: 0.72 },
        { id: 'doc-3', score: 0.35 },
      ]);
      expect(retrieval.attributes['gen_ai.retrieval.query.text']).toBeUndefined();
      expect(retrieval.attributes['ragscope.query.fingerprint']).toBe(fingerprintQuery('What is the capital of France?').fingerprint);

      const rerank = spans.find((s) => s.name === 'rerank rerank-v3')!;
      expect(rerank.attributes).toMatchObject({ 'gen_ai.operation.name': 'rerank', 'ragscope.rag.stage': 'rerank', 'ragscope.retrieval.document_count': 2, 'ragscope.retrieval.relevance.max': 0.98, 'ragscope.retrieval.relevance.min': 0.4 });

      const ctx = spans.find((s) => s.name === 'context_assembly')!;
      const chars = 'Paris is the capital. Contact paris@example.com'.length + 'France is in Europe.'.length;
      expect(ctx.attributes).toMatchObject({ 'gen_ai.operation.name': 'context_assembly', 'ragscope.rag.stage': 'context_assembly', 'ragscope.context.chunks': 2, 'ragscope.context.chars': chars });
      expect(ctx.attributes['ragscope.context.tokens_estimate']).toBe(Math.ceil(47 / 4) + Math.ceil(20 / 4));
    });

    it('citations: cited ids, count, usage rate and invalid references on the post-processing span', async () => {
      const out = await answer('What is the capital of France?');
      // Answer text cites [1]; the test appends [2] and [7]; two sources.
      expect(out.citations).toMatchObject({ citedIds: ['doc-1', 'doc-2'], count: 2, invalidRefs: [7], invalidCount: 1, usageRate: 1 });
      const post = pipeline.spans().find((s) => s.name === 'post_processing citations')!;
      expect(post.attributes).toMatchObject({
        'gen_ai.operation.name': 'post_processing',
        'ragscope.rag.stage': 'post_processing',
        'ragscope.citation.cited_ids': ['doc-1', 'doc-2'],
        'ragscope.citation.count': 2,
        'ragscope.citation.invalid_count': 1,
        'ragscope.citation.usage_rate': 1,
      });
    });

    it('recordCitations outside a post-processing stage creates its own post_processing span under the active one', async () => {
      await traceRag('q', { userId: 'u' }, () => {
        const r = recordCitations('Per [1] and [3].', ['a', 'b', 'c', 'd']);
        expect(r).toMatchObject({ citedIds: ['a', 'c'], count: 2, usageRate: 0.5, invalidCount: 0 });
      });
      const spans = pipeline.spans();
      const root = spans.find((s) => s.name === 'invoke_workflow q')!;
      const post = spans.find((s) => s.name === 'post_processing citations')!;
      expect(parentId(post)).toBe(root.spanContext().spanId);
      expect(post.attributes).toMatchObject({ 'ragscope.citation.usage_rate': 0.5, 'user.id': 'u' });
    });

    it('response cache hit marks the request root, from anywhere inside it', async () => {
      await traceRag('cached', { feature: 'faq' }, async () => {
        await traceRetrieval({ dataSourceId: 'cache' }, async () => {
          markResponseCacheHit();
        });
      });
      const root = pipeline.spans().find((s) => s.name === 'invoke_workflow cached')!;
      expect(root.attributes['ragscope.response_cache.hit']).toBe(true);
      expect(pipeline.spans().find((s) => s.name === 'retrieval cache')!.attributes['ragscope.response_cache.hit']).toBeUndefined();
    });

    it('query fingerprint with content capture off: hash, chars, estimated tokens; no text anywhere', async () => {
      const q = '  What is   the capital of FRANCE?? ';
      await traceRag('fp', { query: q, topic: 'geography' }, () => undefined);
      const root = pipeline.spans()[0]!;
      expect(root.attributes).toMatchObject({
        'ragscope.query.fingerprint': fingerprintQuery('what is the capital of france').fingerprint,
        'ragscope.query.chars': q.length,
        'ragscope.query.tokens_estimate': Math.ceil(q.length / 4),
        'ragscope.query.sketch': sketchHex(simHash64('what is the capital of france')),
        'ragscope.query.topic': 'geography',
      });
      expect(JSON.stringify(root.attributes)).not.toContain('FRANCE');
    });

    it('errors pass through unchanged and mark the span; sync functions work too', async () => {
      await expect(traceRag('boom', {}, async () => traceRetrieval({ dataSourceId: 'kb' }, async () => Promise.reject(new RangeError('index down'))))).rejects.toThrow('index down');
      expect(traceGeneration({ model: 'local-llama', provider: 'ollama' }, (g) => {
        g.setUsage({ inputTokens: 10, outputTokens: 5 });
        return 42;
      })).toBe(42);
      const spans = pipeline.spans();
      const retrieval = spans.find((s) => s.name === 'retrieval kb')!;
      expect(retrieval.status.code).toBe(SpanStatusCode.ERROR);
      expect(retrieval.attributes['error.type']).toBe('RangeError');
      expect(spans.find((s) => s.name === 'invoke_workflow boom')!.status.code).toBe(SpanStatusCode.ERROR);
      const gen = spans.find((s) => s.name === 'chat local-llama')!;
      expect(gen.kind).toBe(SpanKind.CLIENT);
      expect(gen.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'ragscope.rag.stage': 'generation', 'gen_ai.usage.input_tokens': 10 });
    });
  });

  describe('answer confidence (ragscope.answer.confidence)', () => {
    it('is recorded from the traceGeneration option, stage.setConfidence and recordAnswerConfidence; values outside [0, 1] are not', async () => {
      await traceRag('confident', {}, async () => {
        traceGeneration({ model: 'local-llama', confidence: 0.83 }, () => undefined);
        traceGeneration({ model: 'second-llama' }, (g) => {
          expect(g.setConfidence(0.4)).toBe(true);
          expect(g.setConfidence(1.5)).toBe(false); // refused: the 0.4 stays
          expect(g.setConfidence(Number.NaN)).toBe(false);
        });
        expect(recordAnswerConfidence(0.91)).toBe(true); // on the active span: the request root here
        expect(recordAnswerConfidence(-0.1)).toBe(false);
      });
      const spans = pipeline.spans();
      expect(spans.find((s) => s.name === 'chat local-llama')!.attributes['ragscope.answer.confidence']).toBe(0.83);
      expect(spans.find((s) => s.name === 'chat second-llama')!.attributes['ragscope.answer.confidence']).toBe(0.4);
      expect(spans.find((s) => s.name === 'invoke_workflow confident')!.attributes['ragscope.answer.confidence']).toBe(0.91);
      // an invalid option is not recorded either, and outside a request there is nothing to record on
      traceGeneration({ model: 'third-llama', confidence: 2 }, () => undefined);
      expect(pipeline.spans().find((s) => s.name === 'chat third-llama')!.attributes['ragscope.answer.confidence']).toBeUndefined();
      expect(recordAnswerConfidence(0.5)).toBe(false);
    });
  });

  describe('content capture', () => {
    it('is off by default: no prompts, completions, retrieved text or query text on any span', async () => {
      await answer('What is the capital of France? My email is jane.doe@example.com');
      for (const s of pipeline.spans()) {
        for (const key of ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.retrieval.query.text']) {
          expect(s.attributes[key], `${s.name} ${key}`).toBeUndefined();
        }
        expect(JSON.stringify(s.attributes)).not.toContain('jane.doe');
        expect(JSON.stringify(s.attributes)).not.toContain('Paris is the capital');
      }
    });

    it('when opted in: recorded, with e-mails, phone and card numbers redacted by default, plus the app hook', async () => {
      configure({ captureContent: true, redact: (text) => text.replace(/ACME-\d+/g, '[ACCOUNT]') });
      await answer('Capital of France? jane.doe@example.com, +1 (415) 555-0123, card 4111 1111 1111 1111, account ACME-991');
      const spans = pipeline.spans();
      const chat = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
      const input = JSON.parse(attr(chat, 'gen_ai.input.messages') as string);
      expect(input[1]).toEqual({ role: 'user', parts: [{ type: 'text', content: 'Capital of France? [REDACTED_EMAIL], [REDACTED_PHONE], card [REDACTED_CARD], account [ACCOUNT]' }] });
      expect(input[0].role).toBe('system');
      expect(JSON.parse(attr(chat, 'gen_ai.output.messages') as string)).toEqual([
        { role: 'assistant', parts: [{ type: 'text', content: 'Paris is the capital of France [1].' }], finish_reason: 'stop' },
      ]);
      const retrieval = spans.find((s) => s.name === 'retrieval kb-articles')!;
      expect(attr(retrieval, 'gen_ai.retrieval.query.text')).toContain('[REDACTED_EMAIL]');
      expect(JSON.parse(attr(retrieval, 'gen_ai.retrieval.documents') as string)[0]).toEqual({ id: 'doc-1', score: 0.91, content: 'Paris is the capital. Contact [REDACTED_EMAIL]' });
      const root = spans.find((s) => s.name === 'invoke_workflow support-answer')!;
      expect(attr(root, 'gen_ai.output.messages')).toContain('Paris is the capital of France');
      for (const s of spans) {
        const all = JSON.stringify(s.attributes);
        expect(all).not.toContain('jane.doe@example.com');
        expect(all).not.toContain('4111 1111 1111 1111');
        expect(all).not.toContain('555-0123');
        expect(all).not.toContain('ACME-991');
      }
    });
  });
});
