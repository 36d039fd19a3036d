// API keys → tenants: OTLP/HTTP (Bearer and x-api-key), OTLP/gRPC metadata and /v1/feedback take the tenant
// from the key, never from the payload; a missing or unknown key is refused (401 / UNAUTHENTICATED) and
// nothing is stored; a key revoked in the watched file is refused without a restart.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { hashKey } from '../../processor/src/auth/api-keys.js';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { testNow } from '../helpers/clock.js';
import { chatAttributes, spanIdOf, traceIdOf, tracesRequest } from '../helpers/otlp-json.js';
import { grpcTraceExporter, rawExport, sequentialIds, tracerProviderWith } from '../helpers/otel-grpc.js';

const KEY_A = 'key-for-team-a-0123456789';
const KEY_B = 'key-for-team-b-9876543210';
let proc: TestProcessor;
let keysFile: string;

function writeKeys(entries: { tenant: string; key: string }[]): void {
  const tmp = `${keysFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys: entries.map((e) => ({ tenant: e.tenant, key_sha256: hashKey(e.key), name: `${e.tenant} app` })) }));
  renameSync(tmp, keysFile);
}

beforeAll(async () => {
  keysFile = join(mkdtempSync(join(tmpdir(), 'ragscope-keys-')), 'keys.json');
  writeKeys([
    { tenant: 'team-a', key: KEY_A },
    { tenant: 'team-b', key: KEY_B },
  ]);
  proc = await startProcessor({ RAGSCOPE_API_KEYS_FILE: keysFile, RAGSCOPE_TENANT: 'should-never-appear' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

const chatSpan = (n: number, name: string) => ({ traceId: traceIdOf(n), spanId: spanIdOf(n), name, startMs: testNow() - 5_000, attributes: { ...chatAttributes(100, 10), 'ragscope.tenant': 'team-b' } });
const post = (body: string, headers: Record<string, string>) => fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const tenantsOf = (traceId: string) => proc.query<{ TenantId: string }>(`SELECT TenantId FROM genai_spans WHERE TraceId = '${traceId}' ORDER BY TenantId`);

describe('API keys → tenants', () => {
  it('stores spans under the tenant of the key (Bearer, x-api-key, gRPC metadata), whatever the payload says', async () => {
    expect((await post(tracesRequest([chatSpan(1, 'a via bearer')]), { authorization: `Bearer ${KEY_A}` })).status).toBe(200);
    expect((await post(tracesRequest([chatSpan(2, 'b via x-api-key')]), { 'x-api-key': KEY_B })).status).toBe(200);
    const provider = tracerProviderWith(grpcTraceExporter(proc.processor.grpcPort!, { metadata: { authorization: `Bearer ${KEY_A}` } }), sequentialIds(42));
    const span = provider.getTracer('t').startSpan('a via grpc', { startTime: testNow() - 4_000, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' } });
    const grpcTrace = span.spanContext().traceId;
    span.end(testNow() - 3_000);
    await provider.forceFlush();
    await provider.shutdown();

    expect(await tenantsOf(traceIdOf(1))).toEqual([{ TenantId: 'team-a' }]);
    expect(await tenantsOf(traceIdOf(2))).toEqual([{ TenantId: 'team-b' }]);
    expect(await tenantsOf(grpcTrace)).toEqual([{ TenantId: 'team-a' }]);
    const defaults = await proc.query<{ n: string }>(`SELECT count() AS n FROM genai_spans WHERE TenantId = 'should-never-appear'`);
    expect(Number(defaults[0].n)).toBe(0);
  });

  it('the same span ids sent by two tenants are two spans (the duplicate memory is per tenant)', async () => {
    const body = tracesRequest([chatSpan(3, 'same ids')]);
    expect((await post(body, { 'x-api-key': KEY_A })).status).toBe(200);
    expect((await post(body, { 'x-api-key': KEY_B })).status).toBe(200);
    expect((await post(body, { 'x-api-key': KEY_B })).status).toBe(200); // a retry: dropped
    expect(await tenantsOf(traceIdOf(3))).toEqual([{ TenantId: 'team-a' }, { TenantId: 'team-b' }]);
  });

  it('refuses a missing or unknown key with 401 / UNAUTHENTICATED and stores nothing', async () => {
    const missing = await post(tracesRequest([chatSpan(4, 'no key')]), {});
    expect(missing.status).toBe(401);
    expect((await missing.json()).message).toMatch(/missing API key/);
    const wrong = await post(tracesRequest([chatSpan(4, 'wrong key')]), { authorization: 'Bearer not-a-key' });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).message).toMatch(/invalid API key/);
    const body = ProtobufTraceSerializer.serializeRequest([])!;
    const grpcMissing = await rawExport(proc.processor.grpcPort!, 'traces', body);
    expect(grpcMissing.error?.code).toBe(16);
    expect(grpcMissing.error?.details).toMatch(/missing API key/);
    const grpcWrong = await rawExport(proc.processor.grpcPort!, 'traces', body, { metadata: { 'x-api-key': 'nope' } });
    expect(grpcWrong.error?.code).toBe(16);
    const feedback = await fetch(`${proc.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trace_id: traceIdOf(1), thumbs: 'up' }) });
    expect(feedback.status).toBe(401);
    const stored = await proc.query<{ n: string }>(`SELECT count() AS n FROM otel_traces WHERE TraceId = '${traceIdOf(4)}'`);
    expect(Number(stored[0].n)).toBe(0);
  });

  it('/v1/feedback is stored under the tenant of its key', async () => {
    const res = await fetch(`${proc.url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY_B },
      body: JSON.stringify({ trace_id: traceIdOf(2), thumbs: 'down', feedback_id: 'fb-tenant-b' }),
    });
    expect(res.status).toBe(201);
    const rows = await proc.query<{ TenantId: string }>(`SELECT TenantId FROM feedback WHERE FeedbackId = 'fb-tenant-b'`);
    expect(rows).toEqual([{ TenantId: 'team-b' }]);
  });

  it('a key revoked in the file is refused without a restart; a key added is accepted', async () => {
    const KEY_C = 'key-for-team-c-added-later';
    writeKeys([
      { tenant: 'team-a', key: KEY_A },
      { tenant: 'team-c', key: KEY_C },
    ]);
    // The file is polled: wait for the change to take effect (no fixed sleep).
    const deadline = Date.now() + 15_000;
    let status = 200;
    while (Date.now() < deadline && status !== 401) {
      status = (await post(tracesRequest([]), { 'x-api-key': KEY_B })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    expect((await post(tracesRequest([chatSpan(5, 'c')]), { 'x-api-key': KEY_C })).status).toBe(200);
    expect((await post(tracesRequest([chatSpan(6, 'a still')]), { 'x-api-key': KEY_A })).status).toBe(200);
    expect(await tenantsOf(traceIdOf(5))).toEqual([{ TenantId: 'team-c' }]);
    const grpcRevoked = await rawExport(proc.processor.grpcPort!, 'traces', ProtobufTraceSerializer.serializeRequest([])!, { metadata: { 'x-api-key': KEY_B } });
    expect(grpcRevoked.error?.code).toBe(16);
  });
});
