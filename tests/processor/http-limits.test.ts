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
  it('answers 503 with Retry-After before reading a body when RAGSCOPE_MAX_CONCURRENT_BODIES are in flight', async () => {
    const MiB = 1024 * 1024;
    const stalled = [stalledUpload(MiB, 1024), stalledUpload(MiB, 1024)];
    await waitFor('two bodies in flight', async () => (await metric('ragscope_http_bodies_in_flight')) === 2, 30_000);

    // Headers announcing 38 MiB and not one byte of body: the answer comes anyway.
    const third = stalledUpload(38 * MiB, 0);
    const res = await third.response;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.headers.connection).toBe('close');
    let text = '';
    for await (const chunk of res) text += chunk;
    expect(JSON.parse(text).error).toMatch(/RAGSCOPE_MAX_CONCURRENT_BODIES/);
    third.req.destroy();
    expect(await metric('ragscope_http_bodies_refused_total')).toBe(1);

    // Clients that give up free their slots.
    for (const s of stalled) {
      s.response.catch(() => undefined);
      s.req.destroy();
    }
    await waitFor('slots to be free', async () => (await metric('ragscope_http_bodies_in_flight')) === 0, 30_000);
    const accepted = await fetch(`${proc.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    expect(accepted.status).toBe(200);
  });
});
