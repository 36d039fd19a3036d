import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOtlpBody } from '../../processor/src/receive/body.js';
import { HttpError } from '../../processor/src/receive/http-error.js';

// readOtlpBody behind a real node:http server on an ephemeral loopback port.

interface ServerOutcome {
  status: number;
  format?: string;
  size?: number;
  sha256?: string;
  message?: string;
  /** Time readOtlpBody took, ms. */
  ms: number;
  /** Growth of ArrayBuffer memory (Buffers) between the start of reading and the result, bytes. */
  bufferGrowth: number;
}

let server: Server;
let baseUrl: string;
const outcomes: ServerOutcome[] = [];
let nextOutcome: ((outcome: ServerOutcome) => void) | undefined;
let nextRequest: (() => void) | undefined;

function numberParam(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  return value === null ? undefined : Number(value);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  nextRequest?.();
  const url = new URL(req.url ?? '/', 'http://localhost');
  const limits = { maxBytes: numberParam(url, 'max'), maxCompressedBytes: numberParam(url, 'maxCompressed') };
  const bufferBefore = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  let outcome: ServerOutcome;
  try {
    const { format, body } = await readOtlpBody(req, limits);
    outcome = {
      status: 200,
      format,
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      ms: performance.now() - started,
      bufferGrowth: process.memoryUsage().arrayBuffers - bufferBefore,
    };
  } catch (err) {
    outcome = {
      status: err instanceof HttpError ? err.status : 500,
      message: (err as Error).message,
      ms: performance.now() - started,
      bufferGrowth: process.memoryUsage().arrayBuffers - bufferBefore,
    };
  }
  outcomes.push(outcome);
  nextOutcome?.(outcome);
  if (!res.destroyed) res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(JSON.stringify(outcome));
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function post(body: Uint8Array | ReadableStream<Uint8Array> | string, headers: Record<string, string>, query = ''): Promise<ServerOutcome> {
  const init = { method: 'POST', headers, body, duplex: 'half' } as RequestInit;
  const res = await fetch(`${baseUrl}/v1/traces${query}`, init);
  const outcome = (await res.json()) as ServerOutcome;
  expect(res.status).toBe(outcome.status);
  return outcome;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const payload = randomBytes(200_000);

/** A body delivered in chunks without a Content-Length (chunked transfer encoding). */
function streamed(data: Uint8Array, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.subarray(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** 1 GiB of zeros as a ~1 MB gzip body: 64 gzip members of 16 MiB each (multi-member gzip is valid, RFC 1952). */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: 64 }, () => member));
}

describe('readOtlpBody', () => {
  it('reads a protobuf body unchanged', async () => {
    const outcome = await post(payload, PROTOBUF);
    expect(outcome).toMatchObject({ status: 200, format: 'protobuf', size: payload.length, sha256: sha256(payload) });
  });

  it('reads an empty body', async () => {
    expect(await post(new Uint8Array(0), PROTOBUF)).toMatchObject({ status: 200, size: 0 });
  });

  it('parses Content-Type with parameters and any case', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      expect(await post('{}', { 'content-type': contentType })).toMatchObject({ status: 200, format: 'json', size: 2 });
    }
    expect(await post(payload, { 'content-type': 'application/x-protobuf; proto=opentelemetry' })).toMatchObject({ status: 200, format: 'protobuf' });
  });

  it('answers 415 for other content types and for JSON in another charset', async () => {
    for (const contentType of ['text/plain', 'application/octet-stream', 'application/json; charset=iso-8859-1', 'application/x-protobufs']) {
      const outcome = await post('hello', { 'content-type': contentType });
      expect(outcome.status, contentType).toBe(415);
    }
    const missing = await fetch(`${baseUrl}/v1/traces`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    expect(missing.status).toBe(415);
    expect(((await missing.json()) as ServerOutcome).message).toMatch(/Content-Type/);
  });

  it('decompresses gzip, x-gzip, deflate (zlib and raw) and identity', async () => {
    const encodings: [string, Uint8Array][] = [
      ['gzip', gzipSync(payload)],
      ['x-gzip', gzipSync(payload)],
      ['GZIP', gzipSync(payload)],
      ['deflate', deflateSync(payload)],
      ['deflate', deflateRawSync(payload)],
      ['identity', payload],
    ];
    for (const [encoding, body] of encodings) {
      const outcome = await post(body, { ...PROTOBUF, 'content-encoding': encoding });
      expect(outcome, encoding).toMatchObject({ status: 200, size: payload.length, sha256: sha256(payload) });
    }
    const chunkedGzip = await post(streamed(gzipSync(payload), 1000), { ...PROTOBUF, 'content-encoding': 'gzip' });
    expect(chunkedGzip).toMatchObject({ status: 200, sha256: sha256(payload) });
  });

  it('answers 415 for other content encodings', async () => {
    for (const encoding of ['br', 'zstd', 'gzip, br', 'compress']) {
      const outcome = await post(payload, { ...PROTOBUF, 'content-encoding': encoding });
      expect(outcome.status, encoding).toBe(415);
      expect(outcome.message).toMatch(/Content-Encoding/);
    }
  });

  it('answers 413 for a body over the limit, with or without Content-Length', async () => {
    const declared = await post(payload, PROTOBUF, '?max=100000');
    expect(declared.status).toBe(413);
    expect(declared.message).toMatch(/exceeds the limit of 100000 bytes/);
    const chunked = await post(streamed(payload), PROTOBUF, '?max=100000');
    expect(chunked.status).toBe(413);
    expect(await post(payload, PROTOBUF, `?max=${payload.length}`)).toMatchObject({ status: 200, size: payload.length });
  });

  it('stops a gzip bomb (1 GiB of zeros in ~1 MB) early: 413, quickly, with bounded memory', async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(1.5 * 1024 * 1024);
    const started = performance.now();
    const outcome = await post(bomb, { ...PROTOBUF, 'content-encoding': 'gzip' });
    expect(outcome.status).toBe(413);
    expect(outcome.message).toMatch(/after decompression/);
    // A guard against inflating the whole GiB (or hanging), not a speed measurement: generous for a loaded
    // 2-core machine. The early stop itself is asserted by the memory growth below.
    expect(performance.now() - started).toBeLessThan(30_000);
    // Default limit: 64 MiB after decompression. Inflating the whole bomb would need 1 GiB.
    expect(outcome.bufferGrowth).toBeLessThan(160 * 1024 * 1024);
    const small = await post(bomb, { ...PROTOBUF, 'content-encoding': 'gzip' }, '?max=1048576');
    expect(small.status).toBe(413);
    expect(small.bufferGrowth).toBeLessThan(32 * 1024 * 1024);
  });

  it('enforces the compressed size limit separately', async () => {
    const compressed = gzipSync(payload); // random bytes: ~the same size compressed
    const outcome = await post(compressed, { ...PROTOBUF, 'content-encoding': 'gzip' }, '?max=1000000&maxCompressed=50000');
    expect(outcome.status).toBe(413);
    const chunked = await post(streamed(compressed), { ...PROTOBUF, 'content-encoding': 'gzip' }, '?max=1000000&maxCompressed=50000');
    expect(chunked.status).toBe(413);
  });

  it('answers 400 for corrupt or truncated compressed bodies', async () => {
    const good = gzipSync(payload);
    const corrupt = Buffer.from(good);
    corrupt.fill(0xa5, 20, 400);
    const cases: [string, Uint8Array][] = [
      ['gzip', corrupt],
      ['gzip', good.subarray(0, good.length - 100)],
      ['gzip', Buffer.from('definitely not gzip')],
      ['gzip', new Uint8Array(0)],
      ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff])],
    ];
    for (const [encoding, body] of cases) {
      const outcome = await post(body, { ...PROTOBUF, 'content-encoding': encoding });
      expect(outcome.status).toBe(400);
      expect(outcome.message).toMatch(new RegExp(`invalid ${encoding} request body`));
    }
  });

  it('keeps serving (and keeps connections usable) after errors', async () => {
    const bomb = gzipBomb();
    for (let i = 0; i < 3; i++) {
      expect((await post(bomb, { ...PROTOBUF, 'content-encoding': 'gzip' }, '?max=100000')).status).toBe(413);
      expect((await post(payload, PROTOBUF, '?max=1000')).status).toBe(413);
      expect((await post(payload, PROTOBUF)).status).toBe(200);
    }
  });

  it('rejects with 400 when the client disconnects mid-body', async () => {
    const outcome = new Promise<ServerOutcome>((resolve) => (nextOutcome = resolve));
    const arrived = new Promise<void>((resolve) => (nextRequest = resolve));
    const { port } = server.address() as AddressInfo;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', headers: { ...PROTOBUF, 'content-length': '100000' } });
    req.on('error', () => {});
    req.write(payload.subarray(0, 1000));
    // Disconnect once the server is reading this request (not after a fixed delay, which could come first).
    await arrived;
    nextRequest = undefined;
    req.destroy();
    const result = await outcome;
    nextOutcome = undefined;
    expect(result.status).toBe(400);
    expect(result.message).toMatch(/aborted|could not be read/);
    expect((await post(payload, PROTOBUF)).status).toBe(200);
  });
});
