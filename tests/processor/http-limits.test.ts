import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';
import { waitFor } from '../helpers/spawn-processor.js';

// Bounded connections and bodies: what a client can hold open is set by configuration, not by client count.

let proc: TestProcessor;
let port: number;

beforeAll(async () => {
  proc = await startProcessor({
    RAGSCOPE_MAX_CONNECTIONS: '6',
    RAGSCOPE_MAX_CONCURRENT_BODIES: '2',
    // One request may wait for a slot, for longer than any test here takes: the queue is left by a slot or a refusal.
    RAGSCOPE_BODY_QUEUE_MAX: '1',
    RAGSCOPE_BODY_QUEUE_WAIT_MS: '60000',
    RAGSCOPE_HEADERS_TIMEOUT_SECONDS: '1',
  });
  port = Number(new URL(proc.url).port);
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

function openSocket(): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = new Promise<string>((r) => socket.once('close', () => r(received)));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** A raw request (no connection pool) that sends its headers and `firstBytes` of a body, then stalls. */
function stalledUpload(contentLength: number, firstBytes: number): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/traces',
    agent: false,
    headers: { 'content-type': 'application/x-protobuf', 'content-length': String(contentLength) },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  req.flushHeaders();
  if (firstBytes > 0) req.write(Buffer.alloc(firstBytes));
  return { req, response };
}

async function metric(name: string): Promise<number> {
  const res = await fetch(`${proc.url}/metrics`, { headers: { connection: 'close' } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

describe('connection limit', () => {
  it('closes sockets past RAGSCOPE_MAX_CONNECTIONS at once, and idle sockets after the headers time-out', async () => {
    const idle = await Promise.all(Array.from({ length: 6 }, () => openSocket()));
    const extra = await openSocket();
    // The server drops the 7th on accept, without a byte.
    expect(await extra.closed).toBe('');
    // Idle sockets that never send a request are closed by the server (headers time-out 1 s; generous wait).
    const closedWithin = await Promise.race([
      Promise.all(idle.map((s) => s.closed)).then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 30_000)),
    ]);
    expect(closedWithin).toBe('closed');
    // With the slots free again, a request gets through.
    const ok = await fetch(`${proc.url}/healthz`, { headers: { connection: 'close' } });
    expect(ok.status).toBe(200);
  });
});

describe('concurrent body limit', () => {
  it('queues a request (body unread) while RAGSCOPE_MAX_CONCURRENT_BODIES are in flight, and answers 503 with Retry-After past the queue', async () => {
    const MiB = 1024 * 1024;
    const stalled = [stalledUpload(MiB, 1024), stalledUpload(MiB, 1024)];
    await waitFor('two bodies in flight', async () => (await metric('ragscope_http_bodies_in_flight')) === 2, 30_000);

    // The third waits for a slot, its body not yet sent.
    const body = Buffer.from(JSON.stringify({ resourceSpans: [] }));
    const queued = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
    const queuedResponse = new Promise<IncomingMessage>((resolve, reject) => {
      queued.once('response', resolve);
      queued.once('error', reject);
    });
    queued.flushHeaders();
    await waitFor('one request queued', async () => (await metric('ragscope_http_bodies_queued')) === 1, 30_000);

    // The queue is full: headers announcing 38 MiB and not one byte of body get the answer at once.
    const fourth = stalledUpload(38 * MiB, 0);
    const res = await fourth.response;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.headers.connection).toBe('close');
    let text = '';
    for await (const chunk of res) text += chunk;
    expect(JSON.parse(text).error).toMatch(/RAGSCOPE_MAX_CONCURRENT_BODIES/);
    fourth.req.destroy();
    expect(await metric('ragscope_http_bodies_refused_total')).toBe(1);

    // A client that gives up frees its slot, and the queued request takes it: stored, not refused.
    stalled[0]!.response.catch(() => undefined);
    stalled[0]!.req.destroy();
    await waitFor('the queued request admitted', async () => (await metric('ragscope_http_bodies_queued')) === 0, 30_000);
    queued.end(body);
    expect((await queuedResponse).statusCode).toBe(200);
    expect(await metric('ragscope_http_bodies_refused_total')).toBe(1);

    stalled[1]!.response.catch(() => undefined);
    stalled[1]!.req.destroy();
    await waitFor('slots to be free', async () => (await metric('ragscope_http_bodies_in_flight')) === 0, 30_000);
    const accepted = await fetch(`${proc.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    expect(accepted.status).toBe(200);
  });
});
