// Spans with awkward values for the row text tests: quotes, backslashes, newlines, control characters,
// non-ASCII, huge and odd numbers, nested values, a `__proto__` key, events and links, empty attributes.
import type { Attributes, DecodedSpan } from '../../processor/src/model.js';

export function variedSpans(startNs: bigint): DecodedSpan[] {
  const resource: Attributes = { 'service.name': 'svc "q"', 'deployment.environment.name': 'prod\n€', 'host.id': 12345678901234 };
  const origin = { resource, scope: { name: 'scope\\name', version: '1.0 ü', attributes: {} } };
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'open"ai',
    'gen_ai.request.model': 'gpt-4o\\mini',
    'gen_ai.response.model': 'modèle-ünïcode-🚀',
    'gen_ai.usage.input_tokens': 9_007_199_254_740_991,
    'gen_ai.usage.output_tokens': 3,
    'gen_ai.response.finish_reasons': ['stop', 'tool_calls'],
    'user.id': 'line\nbreak\ttab\u0001ctl\u2028',
    'big.int': '-9223372036854775808',
    'big.double': 1e21,
    'tiny.double': 5e-324,
    'not.a.number': Number.NaN,
    'negative.zero': -0,
    flag: false,
    nothing: null,
    list: ['a', 1, true, null, ['nested'], { k: 'v' }],
    kv: { model: 'x', params: { temperature: 0.25 } },
    '': 'empty key',
    '7': 'integer-like key',
    'long.value': 'x'.repeat(300),
  };
  Object.defineProperty(attributes, '__proto__', { value: 'just a key', enumerable: true, writable: true, configurable: true });
  const base: DecodedSpan = {
    origin,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    traceState: 'k=v,"x"',
    name: 'chat «gpt-4o»',
    kind: 3,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + 1_234_567_891n,
    attributes,
    events: [
      { timeUnixNano: startNs + 5n, name: 'exception', attributes: { 'exception.message': 'boom\n"x"', 'exception.type': 'RateLimitError', n: 1.5 } },
      { timeUnixNano: startNs + 6n, name: 'gen_ai.content.chunk', attributes: {} },
    ],
    links: [{ traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', traceState: 'a=b', attributes: { 'link.kind': 'follows', x: 2 } }],
    statusCode: 2,
    statusMessage: 'upstream "timeout" ⏱',
  };
  return [
    base,
    { ...base, spanId: 'b7ad6b7169203332', kind: 99, statusCode: 7, events: [], links: [], endTimeUnixNano: startNs - 1n, attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.cost': 0.00000042 } },
    { ...base, spanId: 'b7ad6b7169203333', parentSpanId: 'b7ad6b7169203331', attributes: {} },
  ];
}
