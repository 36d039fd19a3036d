// RAGSCOPE_MAX_CONCURRENT_BODIES bounds requests in process over both transports together: while an OTLP/HTTP
// request holds the only slot (its body not yet sent), an OTLP/gRPC export is refused with RESOURCE_EXHAUSTED
// and RetryInfo, and accepted once the slot is free.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { rawExport, statusDetails } from '../helpers/otel-grpc.js';
import { tracesRequest, spanIdOf, traceIdOf, chatAttributes } from '../helpers/otlp-json.js';
import { encodeTraces } from '../../tools/synthetic/otlp.js';
import { generateDataset, orderedSpans } from '../../tools/synthetic/index.js';

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_MAX_CONCURRENT_BODIES: '1', RAGSCOPE_RETRY_AFTER_SECONDS: '2' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const inFlight = async () => Number(/ragscope_http_bodies_in_flight (\d+)/.exec(await (await fetch(`${proc.url}/metrics`)).text())?.[1] ?? -1);

describe('body slots shared by OTLP/HTTP and OTLP/gRPC', () => {
  it('a gRPC export waits for a free slot: RESOURCE_EXHAUSTED with RetryInfo while HTTP holds it, accepted after', async () => {
    const body = tracesRequest([{ traceId: traceIdOf(5150), spanId: spanIdOf(5150), name: 'slow http', startMs: testNow() - 1000, attributes: chatAttributes(10, 1) }]);
    const url = new URL(`${proc.url}/v1/traces`);
    const held = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const answered = new Promise<number>((resolve, reject) => {
      held.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      held.on('error', reject);
    });
    held.write(body.slice(0, 10)); // headers and a few bytes: the slot is taken, the body is not complete
    await waitFor('the HTTP request to take the slot', async () => (await inFlight()) === 1);

    const ds = generateDataset({ seed: 'grpc-slots', requests: 2, days: 1, endMs: testNow(), withFeedback: false });
    const payload = encodeTraces(orderedSpans(ds));
    const refused = await rawExport(proc.processor.grpcPort!, 'traces', payload);
    expect(refused.error?.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(refused.error?.details).toMatch(/RAGSCOPE_MAX_CONCURRENT_BODIES/);
    expect(statusDetails(refused.error!)).toMatchObject({ code: 8, retryDelaySeconds: 2 });

    held.end(body.slice(10));
    expect(await answered).toBe(200);
    await waitFor('the slot to be free', async () => (await inFlight()) === 0);
    const accepted = await rawExport(proc.processor.grpcPort!, 'traces', payload);
    expect(accepted.error ?? null).toBeNull();
    const rows = await proc.query<{ n: string }>(`SELECT count() AS n FROM otel_traces`);
    expect(Number(rows[0].n)).toBe(1 + ds.requests.reduce((n, r) => n + r.spans.length, 0));
    expect(await (await fetch(`${proc.url}/metrics`)).text()).toMatch(/ragscope_http_bodies_refused_total 1\b/);
  });
});
