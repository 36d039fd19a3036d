// OTLP/JSON export requests built by hand, for tests that need exact ids, times and sizes (and no SDK).
export interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  durationMs?: number;
  attributes?: Record<string, string | number | boolean>;
}

function attr(key: string, value: string | number | boolean) {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return Number.isSafeInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}

export function tracesRequest(spans: JsonSpan[], service = 'test-service'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', service)] },
        scopeSpans: [
          {
            scope: { name: 'ragscope-tests' },
            spans: spans.map((s) => {
              const startNs = BigInt(Math.round(s.startMs)) * 1_000_000n;
              return {
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: 3,
                startTimeUnixNano: String(startNs),
                endTimeUnixNano: String(startNs + BigInt(Math.round((s.durationMs ?? 10) * 1e6))),
                attributes: Object.entries(s.attributes ?? {}).map(([k, v]) => attr(k, v)),
              };
            }),
          },
        ],
      },
    ],
  });
}

export function postTraces(baseUrl: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${baseUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
}

/** 32 / 16 hex digits from a number: readable, distinct ids. */
export const traceIdOf = (n: number) => n.toString(16).padStart(32, '0').replace(/^0/, 'a');
export const spanIdOf = (n: number) => n.toString(16).padStart(16, '0').replace(/^0/, 'b');

export const chatAttributes = (inputTokens: number, outputTokens: number, model = 'gpt-4o-mini') => ({
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': model,
  'gen_ai.usage.input_tokens': inputTokens,
  'gen_ai.usage.output_tokens': outputTokens,
});
