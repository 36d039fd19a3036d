// Local HTTP stubs of the OpenAI and Anthropic APIs (loopback, ephemeral port by default) speaking the real
// wire formats: JSON and SSE responses, usage blocks (cached and reasoning tokens), provider error bodies
// and headers. Shared by the instrumentation tests and the demo app.
//
// Without options a stub answers with fixed content and usage (the constants below), which tests assert
// on. Scenario header `x-stub-scenario` (default fault handling):
//   rate-limit-once:<key>  first request with that key gets a 429 (retry-after-ms: 5), later ones succeed
//   rate-limit-always      every request gets a 429
//   slow-first-chunk       streamed responses wait 30 ms before the first content chunk (default 15 ms)
//
// The demo passes options (`fault`, `chat`, `embeddings`, `messages`) that compute answers, usage,
// latencies and errors from the request instead (demo/src/simulated-llm.ts). Only Node built-ins here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A request body: its parsed JSON, the raw text when it is not JSON, undefined when empty. Each handler (and
 * test) reads the fields its API defines, whatever a client sent.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped wire input, read field by field with optional chaining
export type RequestBody = any;

export interface StubRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: RequestBody;
}

export interface Stub {
  url: string;
  port: number;
  /** Every request received, in order (empty when started with `recordRequests: false`). */
  requests: StubRequest[];
  close(): Promise<void>;
}

/** One received API call, as handed to the option callbacks. */
export interface StubCall {
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: RequestBody;
  /** The `x-stub-scenario` header ('' when absent). */
  scenario: string;
}

/** An error answer: HTTP status, JSON body and headers, optionally after a delay. */
export interface StubFault {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface StubBaseOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (ephemeral). */
  port?: number;
  /** Keep every request in `Stub.requests` (default true; turn off for long-running use). */
  recordRequests?: boolean;
  /** Decides whether a call fails; default: the `x-stub-scenario` header (see the file comment). */
  fault?: (call: StubCall) => StubFault | undefined;
}

export interface OpenAIChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number; audio_tokens?: number };
  completion_tokens_details?: { reasoning_tokens: number; audio_tokens?: number; accepted_prediction_tokens?: number; rejected_prediction_tokens?: number };
}

/** What a chat completion answers. */
export interface ChatReply {
  id: string;
  /** The response model (providers answer with a dated snapshot). */
  model: string;
  /** Full text of a non-streamed answer. */
  content: string;
  /** Content deltas of a streamed answer (default: `[content]`). */
  chunks?: string[];
  finishReason?: string;
  usage: OpenAIChatUsage;
  /** Non-streamed: delay before the response. Streamed: delay before the first content chunk. */
  firstChunkDelayMs?: number;
  /** Streamed: delay between content chunks. */
  chunkDelayMs?: number;
  headers?: Record<string, string>;
}

export interface EmbeddingsReply {
  vectors: number[][];
  model: string;
  promptTokens: number;
  delayMs?: number;
}

export interface OpenAIStubOptions extends StubBaseOptions {
  chat?: (call: StubCall) => ChatReply;
  embeddings?: (call: StubCall) => EmbeddingsReply;
}

/** Anthropic native usage: input_tokens EXCLUDES the cache tokens. */
export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  service_tier?: string;
}

export interface MessageReply {
  id: string;
  model: string;
  content: string;
  chunks?: string[];
  stopReason?: string;
  usage: AnthropicUsage;
  firstChunkDelayMs?: number;
  chunkDelayMs?: number;
  headers?: Record<string, string>;
}

export interface AnthropicStubOptions extends StubBaseOptions {
  messages?: (call: StubCall) => MessageReply;
}

export const OPENAI_CHAT_USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
export const OPENAI_RESPONSES_USAGE = {
  input_tokens: 900,
  input_tokens_details: { cached_tokens: 512 },
  output_tokens: 220,
  output_tokens_details: { reasoning_tokens: 64 },
  total_tokens: 1120,
};
/** Anthropic native usage: input_tokens EXCLUDES the cache tokens. */
export const ANTHROPIC_USAGE = {
  input_tokens: 50,
  cache_creation_input_tokens: 1000,
  cache_read_input_tokens: 2000,
  output_tokens: 200,
  service_tier: 'standard',
};

// ---------------------------------------------------------------------------------------------------------
// Provider error bodies

export function openaiRateLimitFault(retryAfterMs = 5): StubFault {
  return {
    status: 429,
    body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    headers: { 'retry-after-ms': String(retryAfterMs), 'x-request-id': 'req_429' },
  };
}

export function openaiServerErrorFault(): StubFault {
  return {
    status: 500,
    body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
    headers: { 'x-request-id': 'req_500' },
  };
}

export function anthropicRateLimitFault(retryAfterMs = 5): StubFault {
  return {
    status: 429,
    body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } },
    headers: { 'retry-after-ms': String(retryAfterMs), 'request-id': 'req_429' },
  };
}

export function anthropicOverloadedFault(): StubFault {
  return { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, headers: { 'request-id': 'req_529' } };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

async function readBody(req: http.IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

function scenarioOf(req: http.IncomingMessage): string {
  const v = req.headers['x-stub-scenario'];
  return Array.isArray(v) ? v[0]! : (v ?? '');
}

type Handler = (call: StubCall, res: http.ServerResponse) => Promise<void>;

async function listen(options: StubBaseOptions, handler: Handler): Promise<Stub> {
  const requests: StubRequest[] = [];
  const record = options.recordRequests !== false;
  const server = http.createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (record) requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const call: StubCall = { path: (req.url ?? '').split('?')[0]!, headers: req.headers, body, scenario: scenarioOf(req) };
      const fault = options.fault?.(call);
      if (fault) {
        await sleep(fault.delayMs ?? 0);
        json(res, fault.status, fault.body, fault.headers);
        return;
      }
      await handler(call, res);
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      } else {
        res.destroy();
      }
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/** The scenario-header faults of the file comment; `make` builds the provider's 429. */
function scenarioFaults(make: (retryAfterMs: number) => StubFault): (call: StubCall) => StubFault | undefined {
  const seen = new Set<string>();
  return (call) => {
    const s = call.scenario;
    if (s === 'rate-limit-always') return make(5);
    if (s.startsWith('rate-limit-once:') && !seen.has(s)) {
      seen.add(s);
      return make(5);
    }
    return undefined;
  };
}

function sse(res: http.ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const firstChunkDelayOf = (call: StubCall) => (call.scenario === 'slow-first-chunk' ? 30 : 15);

// ---------------------------------------------------------------------------------------------------------
// OpenAI

function fixedChat(call: StubCall): ChatReply {
  const model = call.body?.model ?? 'gpt-4o-mini';
  return {
    id: 'chatcmpl-stub123',
    model: `${model}-2024-07-18`,
    content: 'Paris is the capital of France [1].',
    chunks: ['Paris is', ' the capital.'],
    finishReason: 'stop',
    usage: OPENAI_CHAT_USAGE,
    firstChunkDelayMs: call.body?.stream ? firstChunkDelayOf(call) : 0,
    headers: { 'x-request-id': 'req_chat' },
  };
}

function fixedEmbeddings(call: StubCall): EmbeddingsReply {
  const inputs = Array.isArray(call.body?.input) ? call.body.input : [call.body?.input];
  const vector = [0.0123, -0.0456, 0.0789, 0.1011, -0.1213, 0.1415, -0.1617, 0.1819];
  return { vectors: inputs.map(() => vector), model: call.body?.model ?? 'text-embedding-3-small', promptTokens: 8 };
}

export async function startOpenAIStub(options: OpenAIStubOptions = {}): Promise<Stub> {
  const chat = options.chat ?? fixedChat;
  const embeddings = options.embeddings ?? fixedEmbeddings;
  return listen({ ...options, fault: options.fault ?? scenarioFaults(openaiRateLimitFault) }, async (call, res) => {
    const body = call.body;
    if (call.path.endsWith('/chat/completions')) {
      const reply = chat(call);
      if (!body?.stream) {
        await sleep(reply.firstChunkDelayMs ?? 0);
        json(
          res,
          200,
          {
            id: reply.id,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: reply.model,
            system_fingerprint: 'fp_stub',
            choices: [{ index: 0, message: { role: 'assistant', content: reply.content, refusal: null }, logprobs: null, finish_reason: reply.finishReason ?? 'stop' }],
            usage: reply.usage,
            service_tier: 'default',
          },
          reply.headers,
        );
        return;
      }
      sse(res, reply.headers);
      const base = { id: reply.id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: reply.model, system_fingerprint: 'fp_stub' };
      const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] });
      await sleep(reply.firstChunkDelayMs ?? 0);
      const chunks = reply.chunks ?? [reply.content];
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0) await sleep(reply.chunkDelayMs ?? 0);
        send({ ...base, choices: [{ index: 0, delta: { content: chunks[i] }, logprobs: null, finish_reason: null }] });
      }
      send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reply.finishReason ?? 'stop' }] });
      if (body?.stream_options?.include_usage) send({ ...base, choices: [], usage: reply.usage });
      res.end('data: [DONE]\n\n');
      return;
    }
    if (call.path.endsWith('/embeddings')) {
      const reply = embeddings(call);
      await sleep(reply.delayMs ?? 0);
      const embedding = (v: number[]) => (body?.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
      json(res, 200, {
        object: 'list',
        data: reply.vectors.map((v, index) => ({ object: 'embedding', index, embedding: embedding(v) })),
        model: reply.model,
        usage: { prompt_tokens: reply.promptTokens, total_tokens: reply.promptTokens },
      });
      return;
    }
    if (call.path.endsWith('/responses')) {
      await responses(call, res);
      return;
    }
    json(res, 404, { error: { message: `no stub for ${call.path}` } });
  });
}

/** The Responses API, fixed content only. */
async function responses(call: StubCall, res: http.ServerResponse): Promise<void> {
  const body = call.body;
  const firstChunkDelay = firstChunkDelayOf(call);
  const model = body?.model ?? 'gpt-4.1-mini';
  const id = 'resp_stub456';
  const message = {
    id: 'msg_stub789',
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: 'Paris.', annotations: [] }],
  };
  const response = (status: string, extra: object) => ({
    id,
    object: 'response',
    created_at: 1763800000,
    status,
    model: `${model}-2025-04-14`,
    output: [],
    usage: null,
    error: null,
    incomplete_details: null,
    instructions: body?.instructions ?? null,
    ...extra,
  });
  if (!body?.stream) {
    json(res, 200, response('completed', { output: [message], usage: OPENAI_RESPONSES_USAGE }));
    return;
  }
  sse(res);
  let seq = 0;
  const send = (type: string, o: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...o })}\n\n`);
  send('response.created', { response: response('in_progress', {}) });
  send('response.in_progress', { response: response('in_progress', {}) });
  send('response.output_item.added', { output_index: 0, item: { ...message, status: 'in_progress', content: [] } });
  send('response.content_part.added', { item_id: message.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
  await sleep(firstChunkDelay);
  send('response.output_text.delta', { item_id: message.id, output_index: 0, content_index: 0, delta: 'Par' });
  send('response.output_text.delta', { item_id: message.id, output_index: 0, content_index: 0, delta: 'is.' });
  send('response.output_text.done', { item_id: message.id, output_index: 0, content_index: 0, text: 'Paris.' });
  send('response.content_part.done', { item_id: message.id, output_index: 0, content_index: 0, part: message.content[0] });
  send('response.output_item.done', { output_index: 0, item: message });
  send('response.completed', { response: response('completed', { output: [message], usage: OPENAI_RESPONSES_USAGE }) });
  res.end();
}

// ---------------------------------------------------------------------------------------------------------
// Anthropic

function fixedMessage(call: StubCall): MessageReply {
  return {
    id: 'msg_01StubAnthropic',
    model: call.body?.model ?? 'claude-sonnet-4-6',
    content: 'Paris is the capital of France.',
    chunks: ['Paris is', ' the capital.'],
    stopReason: 'end_turn',
    usage: ANTHROPIC_USAGE,
    firstChunkDelayMs: call.body?.stream ? firstChunkDelayOf(call) : 0,
    headers: { 'request-id': 'req_msg' },
  };
}

export async function startAnthropicStub(options: AnthropicStubOptions = {}): Promise<Stub> {
  const messages = options.messages ?? fixedMessage;
  return listen({ ...options, fault: options.fault ?? scenarioFaults(anthropicRateLimitFault) }, async (call, res) => {
    if (!call.path.endsWith('/v1/messages')) {
      json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no stub' } });
      return;
    }
    const reply = messages(call);
    if (!call.body?.stream) {
      await sleep(reply.firstChunkDelayMs ?? 0);
      json(
        res,
        200,
        {
          id: reply.id,
          type: 'message',
          role: 'assistant',
          model: reply.model,
          content: [{ type: 'text', text: reply.content }],
          stop_reason: reply.stopReason ?? 'end_turn',
          stop_sequence: null,
          usage: reply.usage,
        },
        reply.headers,
      );
      return;
    }
    sse(res, reply.headers);
    const send = (type: string, o: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`);
    send('message_start', {
      message: { id: reply.id, type: 'message', role: 'assistant', model: reply.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...reply.usage, output_tokens: 1 } },
    });
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('ping', {});
    await sleep(reply.firstChunkDelayMs ?? 0);
    const chunks = reply.chunks ?? [reply.content];
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0) await sleep(reply.chunkDelayMs ?? 0);
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: chunks[i] } });
    }
    send('content_block_stop', { index: 0 });
    send('message_delta', { delta: { stop_reason: reply.stopReason ?? 'end_turn', stop_sequence: null }, usage: { output_tokens: reply.usage.output_tokens } });
    send('message_stop', {});
    res.end();
  });
}
