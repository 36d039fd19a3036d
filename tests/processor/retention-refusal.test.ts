// Spans older than the raw retention would be dropped by the table TTL on insert: the processor refuses them
// openly. Its own processor (one store per process) with the default 30-day retention, at the suite's instant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_RAW_TTL_DAYS: '30' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

function otlpJsonSpan(name: string, spanId: string, startMs: number) {
  const startNs = BigInt(startMs) * 1_000_000n;
  return {
    traceId: '5b8aa5a2d2c872e8321cf37308d69df2',
    spanId,
    name,
    kind: 3,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + 1_000_000n),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '10' } },
    ],
  };
}

describe('retention', () => {
  it('refuses spans older than the raw retention with a partial success that says so', async () => {
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'retention-test' } }] },
          scopeSpans: [{ scope: { name: 't' }, spans: [otlpJsonSpan('fresh', '051581bf3cb55c13', testNow() - 1000), otlpJsonSpan('ancient', '051581bf3cb55c14', testNow() - 365 * 86_400_000)] }],
        },
      ],
    };
    const res = await fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/"ancient".*older than the 30-day retention/);
    expect(body.partialSuccess.errorMessage).not.toMatch(/"fresh"/);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).toMatch(/ragscope_spans_rejected_total\{reason="expired"\} 1/);
    expect(metrics).toMatch(/ragscope_spans_received_total 2/);
    // The fresh span of the same request is stored, the ancient one is not.
    const stored = await proc.query<{ SpanName: string }>("SELECT SpanName FROM genai_spans WHERE SpanName IN ('fresh', 'ancient')");
    expect(stored).toEqual([{ SpanName: 'fresh' }]);
  });
});
