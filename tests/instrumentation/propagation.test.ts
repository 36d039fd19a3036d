// Privacy of the request context on the wire. The app registers the OTel undici (fetch) and http
// instrumentations with the default propagators (W3C trace context + baggage), as many Node apps do. The
// request context of traceRag (user, session...) must reach every span as attributes but never an
// outgoing request: not to the LLM provider, not to anything else. Baggage only when the app opts in.
import { SpanKind } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configure, traceRag } from '../../instrumentation/src/index.js';
import { ROOT, setupPipeline } from './helpers/otel.js';
import { startOpenAIStub, type Stub, type StubRequest } from '../../demo/src/provider-stub.js';

const pipeline = setupPipeline([new HttpInstrumentation(), new UndiciInstrumentation()]);
// Required after registration so the http instrumentation's require hook patches it, as in an app.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
const OpenAI = (createRequire(`${ROOT}/index.js`)('openai') as typeof import('openai')).OpenAI;

const USER = 'user-secret-4711';
const SESSION = 'session-secret-0815';
const CONVERSATION = 'conversation-secret-42';
let stub: Stub;

beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(async () => {
  configure({ captureContent: false });
  await stub?.close();
});
beforeEach(() => pipeline.reset());

function httpPost(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** One request of the app: the provider SDK (fetch), a bare fetch and an http.request, all inside traceRag. */
async function appRequest(): Promise<StubRequest[]> {
  const before = stub.requests.length;
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
  await traceRag('answer', { userId: USER, sessionId: SESSION, conversationId: CONVERSATION, feature: 'support-chat' }, async () => {
    await new OpenAI({ apiKey: 'sk-test', baseURL: stub.url, maxRetries: 0 }).chat.completions.create(chat as never);
    const res = await fetch(`${stub.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat) });
    await res.arrayBuffer();
    expect(await httpPost(`${stub.url}/chat/completions`, chat)).toBe(200);
  });
  return stub.requests.slice(before);
}

function headerText(r: StubRequest): string {
  return Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(',') : v}`)
    .join('\n');
}

describe('request context and propagation (undici + http instrumentations, default propagators)', () => {
  it('default: the provider stub receives trace context but no user, session or conversation id in any header', async () => {
    configure({ captureContent: false });
    const sent = await appRequest();
    expect(sent).toHaveLength(3);
    for (const r of sent) {
      // The propagators are active (so the check below is not vacuous) ...
      expect(r.headers.traceparent, headerText(r)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      // ... and nothing of the request context is on the wire.
      const text = headerText(r);
      for (const secret of [USER, SESSION, CONVERSATION, 'support-chat', 'user.id', 'session.id']) expect(text, text).not.toContain(secret);
      expect(r.headers.baggage).toBeUndefined();
    }
    // The context is still on every span, the undici and http client spans included.
    const clientSpans = pipeline.spans().filter((s) => s.kind === SpanKind.CLIENT);
    const scopes = new Set(clientSpans.map((s) => s.instrumentationScope.name));
    expect(scopes).toContain('@opentelemetry/instrumentation-undici');
    expect(scopes).toContain('@opentelemetry/instrumentation-http');
    const inApp = pipeline.spans().filter((s) => s.kind !== SpanKind.SERVER);
    expect(inApp.length).toBeGreaterThanOrEqual(4);
    for (const s of inApp) expect(s.attributes, s.name).toMatchObject({ 'user.id': USER, 'session.id': SESSION, 'gen_ai.conversation.id': CONVERSATION });
    // The stub runs in this process and is traced by the http instrumentation as the receiving side:
    // what arrived over the wire carries the trace, not the ids.
    const received = pipeline.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(received).toHaveLength(3);
    for (const s of received) {
      expect(s.spanContext().traceId).toBe(inApp[0]!.spanContext().traceId);
      expect(s.attributes['user.id']).toBeUndefined();
    }
  });

  it('opt-in (propagateBaggage): the ids are sent as W3C baggage, as documented', async () => {
    configure({ captureContent: false, propagateBaggage: true });
    const sent = await appRequest();
    expect(sent).toHaveLength(3);
    for (const r of sent) {
      const baggage = String(r.headers.baggage ?? '');
      expect(baggage).toContain(`user.id=${USER}`);
      expect(baggage).toContain(`session.id=${SESSION}`);
    }
    // The receiving side (the stub's server spans) now gets the ids through baggage.
    const received = pipeline.spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(received).toHaveLength(3);
    for (const s of received) expect(s.attributes['user.id']).toBe(USER);
  });
});
