// Usage dedupe: wrapper spans repeat the usage of the model-call span below them.
import { describe, expect, it } from 'vitest';
import type { Attributes, DecodedSpan, GenAiRecord } from '../../processor/src/model.js';
import { normalizeSpan, UsageDeduplicator } from '../../processor/src/normalize/index.js';

const TRACE = 'c'.repeat(32);
function span(spanId: string, parentSpanId: string, attributes: Attributes, opts: Partial<DecodedSpan> = {}): DecodedSpan {
  return {
    origin: { resource: {}, scope: { name: 'test', version: '1', attributes: {} } },
    traceId: TRACE,
    spanId: spanId.padStart(16, '0'),
    parentSpanId: parentSpanId === '' ? '' : parentSpanId.padStart(16, '0'),
    traceState: '',
    name: 'span',
    kind: 1,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes,
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
    ...opts,
  };
}

type Pair = { span: DecodedSpan; record: GenAiRecord };
function pair(s: DecodedSpan): Pair {
  const record = normalizeSpan(s);
  expect(record).not.toBeNull();
  return { span: s, record: record! };
}

const vercelOuter = (id: string, parent: string) =>
  span(id, parent, {
    'ai.operationId': 'ai.generateText',
    'ai.model.id': 'gpt-4o-mini',
    'ai.model.provider': 'openai.chat',
    'ai.usage.inputTokens': 100,
    'ai.usage.outputTokens': 20,
  }, { name: 'ai.generateText' });
const vercelInner = (id: string, parent: string) =>
  span(id, parent, {
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.model.id': 'gpt-4o-mini',
    'ai.model.provider': 'openai.chat',
    'ai.usage.inputTokens': 100,
    'ai.usage.outputTokens': 20,
    'gen_ai.usage.input_tokens': 100,
    'gen_ai.usage.output_tokens': 20,
  }, { name: 'ai.generateText.doGenerate', kind: 3 });
const semconvChat = (id: string, parent: string) =>
  span(id, parent, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 100,
    'gen_ai.usage.output_tokens': 20,
  }, { kind: 3 });

describe('UsageDeduplicator', () => {
  it('Vercel: the outer ai.generateText is not counted, ai.generateText.doGenerate is (same batch, any order)', () => {
    for (const order of [0, 1]) {
      const outer = pair(vercelOuter('1', ''));
      const inner = pair(vercelInner('2', '1'));
      expect(outer.record.operation).toBe('workflow');
      expect(inner.record.operation).toBe('chat');
      new UsageDeduplicator(100).markBatch(order ? [inner, outer] : [outer, inner]);
      expect(outer.record.usageCounted).toBe(false);
      expect(inner.record.usageCounted).toBe(true);
    }
  });

  it('Vercel: multi-step call — two doGenerate children both count, the wrapper does not', () => {
    const outer = pair(vercelOuter('1', ''));
    const a = pair(vercelInner('2', '1'));
    const b = pair(vercelInner('3', '1'));
    new UsageDeduplicator().markBatch([a, b, outer]);
    expect([outer.record.usageCounted, a.record.usageCounted, b.record.usageCounted]).toEqual([false, true, true]);
  });

  it('across batches: the child arrives first, the parent later', () => {
    const d = new UsageDeduplicator(100);
    const inner = pair(vercelInner('2', '1'));
    d.markBatch([inner]);
    const outer = pair(vercelOuter('1', ''));
    d.markBatch([outer]);
    expect(inner.record.usageCounted).toBe(true);
    expect(outer.record.usageCounted).toBe(false);
  });

  it('structural rule: a chat span over another chat span (framework over SDK) — only the lower one counts', () => {
    const upper = pair(semconvChat('1', ''));
    const lower = pair(semconvChat('2', '1'));
    expect(upper.record.usageCounted).toBe(true); // a model call on its own
    new UsageDeduplicator().markBatch([upper, lower]);
    expect([upper.record.usageCounted, lower.record.usageCounted]).toEqual([false, true]);
  });

  it('structural rule across batches, through an intermediate span without usage', () => {
    const d = new UsageDeduplicator(100);
    const lower = pair(semconvChat('3', '2'));
    d.markBatch([lower]);
    const middle = pair(span('2', '1', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'summarize' }));
    d.markBatch([middle]);
    const upper = pair(semconvChat('1', ''));
    d.markBatch([upper]);
    expect([upper.record.usageCounted, lower.record.usageCounted]).toEqual([false, true]);
  });

  it('sees through non-GenAI spans passed with record null', () => {
    const upper = pair(semconvChat('1', ''));
    const http = { span: span('2', '1', { 'http.request.method': 'POST' }), record: null };
    const lower = pair(semconvChat('3', '2'));
    new UsageDeduplicator().markBatch([lower, http, upper]);
    expect([upper.record.usageCounted, lower.record.usageCounted]).toEqual([false, true]);
  });

  it('reverse order across batches: a late child under an already-counted parent is counted out instead', () => {
    const d = new UsageDeduplicator(100);
    const upper = pair(semconvChat('1', ''));
    d.markBatch([upper]);
    expect(upper.record.usageCounted).toBe(true); // already stored: cannot be changed any more
    const a = pair(semconvChat('2', '1'));
    const b = pair(semconvChat('3', '1'));
    d.markBatch([a, b]);
    // Sum over UsageCounted = 1 still counts the call once.
    expect([a.record.usageCounted, b.record.usageCounted]).toEqual([false, false]);
  });

  it('OpenInference: a CHAIN carrying usage over an LLM span', () => {
    const chain = pair(span('1', 'e', { 'openinference.span.kind': 'CHAIN', 'llm.token_count.prompt': 50, 'llm.token_count.completion': 5, 'llm.token_count.total': 55 }));
    const llm = pair(span('2', '1', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 50, 'llm.token_count.completion': 5 }));
    const rootChain = pair(span('e', '', { 'openinference.span.kind': 'CHAIN', 'llm.token_count.prompt': 50, 'llm.token_count.completion': 5 }));
    expect([chain.record.operation, rootChain.record.operation]).toEqual(['other', 'workflow']);
    new UsageDeduplicator().markBatch([llm, chain, rootChain]);
    expect([rootChain.record.usageCounted, chain.record.usageCounted, llm.record.usageCounted]).toEqual([false, false, true]);
  });

  it('OpenInference: LangChain LLM span over an OpenAI-SDK LLM span', () => {
    const langchain = pair(span('1', '', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 50, 'llm.token_count.completion': 5 }));
    const sdk = pair(span('2', '1', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 50, 'llm.token_count.completion': 5 }));
    new UsageDeduplicator().markBatch([langchain, sdk]);
    expect([langchain.record.usageCounted, sdk.record.usageCounted]).toEqual([false, true]);
  });

  it('wrapper rule without children: Traceloop workflow/task spans carrying usage are not counted', () => {
    const wf = pair(span('1', '', { 'traceloop.span.kind': 'workflow', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 1 }));
    const task = pair(span('2', '1', { 'traceloop.span.kind': 'task', 'gen_ai.usage.prompt_tokens': 10, 'gen_ai.usage.completion_tokens': 1, 'llm.usage.total_tokens': 11 }));
    expect([wf.record.usageCounted, task.record.usageCounted]).toEqual([false, false]); // already from normalizeSpan
    new UsageDeduplicator().markBatch([wf, task]);
    expect([wf.record.usageCounted, task.record.usageCounted]).toEqual([false, false]);
  });

  it('a remote agent (invoke_agent, kind CLIENT) with usage and no model spans below counts', () => {
    const agent = pair(span('1', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 1 }, { kind: 3 }));
    const local = pair(span('2', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.usage.input_tokens': 10 }, { kind: 1 }));
    new UsageDeduplicator().markBatch([agent, local]);
    expect([agent.record.usageCounted, local.record.usageCounted]).toEqual([true, false]);
  });

  it('different traces never dedupe each other', () => {
    const upper = pair(semconvChat('1', ''));
    const lowerOtherTrace = pair({ ...semconvChat('2', '1'), traceId: 'd'.repeat(32) });
    new UsageDeduplicator().markBatch([upper, lowerOtherTrace]);
    expect([upper.record.usageCounted, lowerOtherTrace.record.usageCounted]).toEqual([true, true]);
  });

  it('cache size 0 disables cross-batch memory; the LRU stays bounded', () => {
    const off = new UsageDeduplicator(0);
    off.markBatch([pair(semconvChat('2', '1'))]);
    const upper = pair(semconvChat('1', ''));
    off.markBatch([upper]);
    expect(upper.record.usageCounted).toBe(true);
    expect(off.memorySize).toBe(0);

    const small = new UsageDeduplicator(10);
    for (let i = 0; i < 100; i++) small.markBatch([pair(semconvChat(String(1000 + i), String(5000 + i)))]);
    expect(small.memorySize).toBeLessThanOrEqual(20);
  });

  it('malformed input: parent cycles and empty batches do not hang or throw', () => {
    const a = pair(semconvChat('1', '2'));
    const b = pair(semconvChat('2', '1'));
    const d = new UsageDeduplicator();
    expect(() => d.markBatch([a, b])).not.toThrow();
    expect(() => d.markBatch([])).not.toThrow();
    const self = pair(semconvChat('3', '3'));
    expect(() => d.markBatch([self])).not.toThrow();
    expect(self.record.usageCounted).toBe(true);
  });
});
