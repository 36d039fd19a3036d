// Retrieval, rerank and RAG-stage spans in each dialect; errors; non-GenAI spans.
import { describe, expect, it } from 'vitest';
import type { Attributes, DecodedSpan, GenAiRecord, SpanEvent } from '../../processor/src/model.js';
import { normalizeSpan } from '../../processor/src/normalize/index.js';

let seq = 0;
function span(attributes: Attributes, opts: Partial<DecodedSpan> = {}): DecodedSpan {
  seq++;
  return {
    origin: { resource: {}, scope: { name: 'test', version: '1', attributes: {} } },
    traceId: 'b'.repeat(32),
    spanId: seq.toString(16).padStart(16, '0'),
    parentSpanId: 'f'.repeat(16),
    traceState: '',
    name: 'span',
    kind: 1,
    startTimeUnixNano: 1_750_000_000_000_000_000n,
    endTimeUnixNano: 1_750_000_001_000_000_000n,
    attributes,
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
    ...opts,
  };
}
const ev = (name: string, attributes: Attributes): SpanEvent => ({ name, attributes, timeUnixNano: 1n });

function norm(s: DecodedSpan): GenAiRecord {
  const r = normalizeSpan(s);
  expect(r).not.toBeNull();
  return r!;
}

const expectedDocs = [
  { id: 'doc-1', score: 0.91 },
  { id: 'doc-7', score: 0.85 },
  { id: '42', score: null },
];

describe('retrieval spans', () => {
  it('ragscope / semconv retrieval span with JSON documents', () => {
    const r = norm(
      span({
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.data_source.id': 'kb-main',
        'gen_ai.request.top_k': 5,
        'gen_ai.retrieval.documents': JSON.stringify([{ id: 'doc-1', score: 0.91 }, { id: 'doc-7', score: '0.85' }, { id: 42 }]),
        'ragscope.rag.stage': 'retrieval',
        'ragscope.retrieval.document_count': 3,
        'ragscope.feature': 'support-chat',
        'ragscope.experiment': 'exp-1',
        'ragscope.variant': 'B',
        'user.id': 'u1',
        'session.id': 's1',
        'gen_ai.conversation.id': 'c1',
      }),
    );
    expect(r).toMatchObject({
      operation: 'retrieval',
      ragStage: 'retrieval',
      dialect: 'semconv',
      dataSourceId: 'kb-main',
      topK: 5,
      documents: expectedDocs,
      feature: 'support-chat',
      experiment: 'exp-1',
      variant: 'B',
      userId: 'u1',
      sessionId: 's1',
      conversationId: 'c1',
      inputTokens: null,
      usageCounted: true,
    });
  });

  it('newer semconv: gen_ai.retrieval.top_k, documents as an array of maps', () => {
    const r = norm(
      span({
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.retrieval.top_k': 3,
        'gen_ai.retrieval.documents': [{ id: 'doc-1', score: 0.91 }, { id: 'doc-7', score: 0.85 }, { id: '42', score: null }],
      }),
    );
    expect(r.topK).toBe(3);
    expect(r.documents).toEqual(expectedDocs);
    expect(r.ragStage).toBe('retrieval');
  });

  it('OpenInference RETRIEVER with flattened retrieval.documents.N', () => {
    const r = norm(
      span({
        'openinference.span.kind': 'RETRIEVER',
        'input.value': 'what is ragscope?',
        'retrieval.documents.0.document.id': 'doc-1',
        'retrieval.documents.0.document.score': 0.91,
        'retrieval.documents.0.document.content': '...',
        'retrieval.documents.1.document.id': 'doc-7',
        'retrieval.documents.1.document.score': 0.85,
        'retrieval.documents.2.document.id': 42,
        'session.id': 's1',
      }),
    );
    expect(r).toMatchObject({ operation: 'retrieval', ragStage: 'retrieval', dialect: 'openinference', documents: expectedDocs, sessionId: 's1' });
  });

  it('OpenInference RERANKER uses the output documents and reranker.top_k', () => {
    const r = norm(
      span({
        'openinference.span.kind': 'RERANKER',
        'reranker.model_name': 'rerank-v3.5',
        'reranker.top_k': 2,
        'reranker.input_documents.0.document.id': 'x',
        'reranker.output_documents.0.document.id': 'doc-7',
        'reranker.output_documents.0.document.score': 0.99,
        'reranker.output_documents.1.document.id': 'doc-1',
        'reranker.output_documents.1.document.score': 0.5,
      }),
    );
    expect(r).toMatchObject({
      operation: 'rerank',
      ragStage: 'rerank',
      topK: 2,
      requestModel: 'rerank-v3.5',
      provider: 'cohere',
      documents: [
        { id: 'doc-7', score: 0.99 },
        { id: 'doc-1', score: 0.5 },
      ],
    });
  });

  it('OpenLLMetry vector DB query: db.vector.query.top_k and db.query.result events', () => {
    const r = norm(
      span(
        { 'db.system': 'pinecone', 'db.operation': 'query', 'db.vector.query.top_k': 3, 'traceloop.workflow.name': 'rag' },
        {
          name: 'pinecone.query',
          kind: 3,
          events: [
            ev('db.query.result', { 'db.query.result.id': 'doc-1', 'db.query.result.score': 0.91 }),
            ev('db.query.result', { 'db.query.result.id': 'doc-7', 'db.query.result.score': 0.85 }),
            ev('db.query.result', { 'db.query.result.id': 42, 'db.query.result.distance': 0.3 }),
          ],
        },
      ),
    );
    expect(r).toMatchObject({ operation: 'retrieval', ragStage: 'retrieval', dialect: 'openllmetry', topK: 3, documents: expectedDocs });
  });

  it('OpenLLMetry vector DB query without top_k is still found through its result events', () => {
    const r = norm(span({ 'db.system': 'chroma' }, { events: [ev('db.query.result', { 'db.query.result.id': 'a', 'db.query.result.score': 1 })] }));
    expect(r).toMatchObject({ operation: 'retrieval', documents: [{ id: 'a', score: 1 }] });
  });

  it('gen_ai.request.top_k on a chat span is a sampling parameter, not a retrieval top-k', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gemini-2.0-flash', 'gen_ai.request.top_k': 40 }));
    expect(r.topK).toBeNull();
  });

  it('ragscope rerank stage span', () => {
    const r = norm(
      span({
        'gen_ai.operation.name': 'rerank',
        'ragscope.rag.stage': 'rerank',
        'gen_ai.retrieval.documents': '[{"id":"doc-7","score":0.99}]',
      }),
    );
    expect(r).toMatchObject({ operation: 'rerank', ragStage: 'rerank', documents: [{ id: 'doc-7', score: 0.99 }] });
  });
});

describe('RAG stage spans (ragscope instrumentation)', () => {
  it('request root: invoke_workflow → workflow / request', () => {
    const r = norm(
      span(
        { 'gen_ai.operation.name': 'invoke_workflow', 'ragscope.rag.stage': 'request', 'ragscope.feature': 'search', 'ragscope.response_cache.hit': false, 'ragscope.query.fingerprint': 'fp1', 'ragscope.query.chars': 42, 'ragscope.query.tokens_estimate': '11' },
        { parentSpanId: '' },
      ),
    );
    expect(r).toMatchObject({
      operation: 'workflow',
      ragStage: 'request',
      feature: 'search',
      responseCacheHit: false,
      queryFingerprint: 'fp1',
      queryChars: 42,
      queryTokensEstimate: 11,
    });
  });

  it('a root span with only ragscope.rag.stage is a request root', () => {
    const r = norm(span({ 'ragscope.rag.stage': 'request' }, { parentSpanId: '' }));
    expect(r).toMatchObject({ operation: 'workflow', ragStage: 'request' });
  });

  it('a workflow that is not a root has no request stage unless marked', () => {
    const r = norm(span({ 'traceloop.span.kind': 'workflow', 'traceloop.workflow.name': 'rag' }));
    expect(r).toMatchObject({ operation: 'workflow', ragStage: '', dialect: 'openllmetry' });
    const root = norm(span({ 'traceloop.span.kind': 'workflow' }, { parentSpanId: '' }));
    expect(root.ragStage).toBe('request');
  });

  it('context assembly', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'context_assembly', 'ragscope.rag.stage': 'context_assembly', 'ragscope.context.chunks': 4, 'ragscope.context.chars': '5120', 'ragscope.context.tokens_estimate': 1280 }));
    expect(r).toMatchObject({ operation: 'context_assembly', ragStage: 'context_assembly', contextChunks: 4, contextChars: 5120 });
  });

  it('post-processing with citations (list or JSON string)', () => {
    const a = norm(span({ 'gen_ai.operation.name': 'post_processing', 'ragscope.citation.cited_ids': ['doc-1', 'doc-7'], 'ragscope.citation.count': 2, 'ragscope.citation.invalid_count': 1 }));
    expect(a).toMatchObject({ operation: 'post_processing', ragStage: 'post_processing', citedDocumentIds: ['doc-1', 'doc-7'], citationCount: 2, invalidCitationCount: 1 });
    const b = norm(span({ 'gen_ai.operation.name': 'post_processing', 'ragscope.citation.cited_ids': '["doc-1","doc-7"]' }));
    expect(b.citedDocumentIds).toEqual(['doc-1', 'doc-7']);
  });

  it('an LLM call inside the rerank stage keeps the stage from the attribute', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'ragscope.rag.stage': 'rerank' }));
    expect(r).toMatchObject({ operation: 'chat', ragStage: 'rerank' });
  });

  it('a "request" stage inherited through baggage by a non-root model call falls back to the operation', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'ragscope.rag.stage': 'request' }));
    expect(r).toMatchObject({ operation: 'chat', ragStage: 'generation' });
  });

  it('embeddings → embedding stage (semconv and Vercel)', () => {
    const a = norm(span({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'text-embedding-3-small', 'gen_ai.usage.input_tokens': 9, 'gen_ai.embeddings.dimension.count': 1536 }));
    const b = norm(span({ 'ai.operationId': 'ai.embed.doEmbed', 'ai.model.id': 'text-embedding-3-small', 'ai.model.provider': 'openai.embedding', 'ai.usage.tokens': 9 }));
    for (const r of [a, b]) expect(r).toMatchObject({ operation: 'embeddings', ragStage: 'embedding', provider: 'openai', requestModel: 'text-embedding-3-small', inputTokens: 9, outputTokens: null });
  });

  it('tools and agents', () => {
    expect(norm(span({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' })).operation).toBe('execute_tool');
    expect(norm(span({ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'search' })).operation).toBe('execute_tool');
    expect(norm(span({ 'openinference.span.kind': 'AGENT' })).operation).toBe('invoke_agent');
    expect(norm(span({ 'openinference.span.kind': 'CHAIN' })).operation).toBe('other');
    expect(norm(span({ 'openinference.span.kind': 'CHAIN' }, { parentSpanId: '' })).operation).toBe('workflow');
    expect(norm(span({ 'traceloop.span.kind': 'task' })).operation).toBe('other');
    expect(norm(span({ 'gen_ai.operation.name': 'create_agent' })).operation).toBe('create_agent');
    expect(norm(span({ 'gen_ai.operation.name': 'image_generation', 'gen_ai.provider.name': 'openai' })).operation).toBe('other');
  });
});

describe('errors', () => {
  it('error.type attribute wins', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'error.type': 'timeout' }, { statusCode: 2 }));
    expect(r.errorType).toBe('timeout');
  });

  it('exception event type when the status is ERROR', () => {
    const r = norm(
      span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }, {
        statusCode: 2,
        events: [ev('exception', { 'exception.type': 'RateLimitError', 'exception.message': '429 You exceeded your current quota' })],
      }),
    );
    expect(r.errorType).toBe('RateLimitError');
  });

  it('a generic error whose message says 429 / rate limit is recognised as RateLimitError', () => {
    const r = norm(
      span({ 'ai.operationId': 'ai.generateText.doGenerate', 'ai.model.id': 'claude-3-5-haiku-latest' }, {
        statusCode: 2,
        events: [ev('exception', { 'exception.type': 'AI_APICallError', 'exception.message': 'Too Many Requests' })],
      }),
    );
    expect(r.errorType).toBe('RateLimitError');
    const h = norm(span({ 'gen_ai.operation.name': 'chat', 'http.response.status_code': 429 }, { statusCode: 2 }));
    expect(h.errorType).toBe('RateLimitError');
  });

  it('provider spellings of a rate limit become one value', () => {
    for (const t of ['rate_limit_error', 'openai.RateLimitError', 'ThrottlingException', 'RESOURCE_EXHAUSTED', '429', 'RateLimitError']) {
      expect(norm(span({ 'gen_ai.operation.name': 'chat', 'error.type': t }, { statusCode: 2 })).errorType).toBe('RateLimitError');
    }
    expect(norm(span({ 'gen_ai.operation.name': 'chat', 'error.type': 'overloaded_error' }, { statusCode: 2 })).errorType).toBe('overloaded_error');
  });

  it('status ERROR without any detail → _OTHER; no error → empty', () => {
    expect(norm(span({ 'gen_ai.operation.name': 'chat' }, { statusCode: 2 })).errorType).toBe('_OTHER');
    expect(norm(span({ 'gen_ai.operation.name': 'chat' }, { events: [ev('exception', { 'exception.type': 'X' })] })).errorType).toBe('');
  });

  it('finish reasons are mapped to the semconv value set', () => {
    const r = norm(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.response.finish_reasons': ['tool_calls', 'MAX_TOKENS', 'SAFETY', 'weird'] }));
    expect(r.finishReasons).toEqual(['tool_call', 'length', 'content_filter', 'weird']);
  });
});

describe('non-GenAI spans', () => {
  it('returns null for spans without GenAI attributes, even with propagated context', () => {
    const http = span({
      'http.request.method': 'POST',
      'url.full': 'https://api.openai.com/v1/chat/completions',
      'user.id': 'u1',
      'session.id': 's1',
      'gen_ai.conversation.id': 'c1',
      'ragscope.feature': 'support-chat',
      'ragscope.rag.stage': 'generation',
      'traceloop.workflow.name': 'rag',
      'traceloop.association.properties.user_id': 'u1',
    });
    expect(normalizeSpan(http)).toBeNull();
    expect(normalizeSpan(span({}))).toBeNull();
    expect(normalizeSpan(span({ 'db.system': 'postgresql', 'db.statement': 'select 1' }))).toBeNull();
  });
});
