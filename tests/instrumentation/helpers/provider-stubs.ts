// Local HTTP stubs of the OpenAI and Anthropic APIs (127.0.0.1, ephemeral port), with realistic JSON and
// SSE responses and usage blocks. Scenario header `x-stub-scenario`:
//   rate-limit-once:<key>  first request with that key gets a 429 (retry-after-ms: 5), later ones succeed
//   rate-limit-always      every request gets a 429
//   slow-first-chunk       streamed responses wait 30 ms before the first content chunk (default 15 ms)
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface Stub {
  url: string;
  port: number;
  requests: StubRequest[];
  close(): Promise<void>;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBody(req: http.IncomingMessage): Promise<any> {
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

async function listen(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: any) => Promise<void>): Promise<Stub> {
  const requests: StubRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    try {
      await handler(req, res, body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

function rateLimited(req: http.IncomingMessage, seen: Set<string>): boolean {
  const s = scenarioOf(req);
  if (s === 'rate-limit-always') return true;
  if (s.startsWith('rate-limit-once:')) {
    if (seen.has(s)) return false;
    seen.add(s);
    return true;
  }
  return false;
}

function sse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startOpenAIStub(): Promise<Stub> {
  const seen = new Set<string>();
  return listen(async (req, res, body) => {
    if (rateLimited(req, seen)) {
      json(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, {
        'retry-after-ms': '5',
        'x-request-id': 'req_429',
      });
      return;
    }
    const firstChunkDelay = scenarioOf(req) === 'slow-first-chunk' ? 30 : 15;
    const url = req.url ?? '';
    if (url.endsWith('/chat/completions')) {
      const model = body?.model ?? 'gpt-4o-mini';
      const id = 'chatcmpl-stub123';
      if (!body?.stream) {
        json(res, 200, {
          id,
          object: 'chat.completion',
          created: 1763800000,
          model: `${model}-2024-07-18`,
          system_fingerprint: 'fp_stub',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France [1].', refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: OPENAI_CHAT_USAGE,
          service_tier: 'default',
        }, { 'x-request-id': 'req_chat' });
        return;
      }
      sse(res);
      const base = { id, object: 'chat.completion.chunk', created: 1763800000, model: `${model}-2024-07-18`, system_fingerprint: 'fp_stub' };
      const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] });
      await sleep(firstChunkDelay);
      send({ ...base, choices: [{ index: 0, delta: { content: 'Paris is' }, logprobs: null, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: { content: ' the capital.' }, logprobs: null, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });
      if (body?.stream_options?.include_usage) send({ ...base, choices: [], usage: OPENAI_CHAT_USAGE });
      res.end('data: [DONE]\n\n');
      return;
    }
    if (url.endsWith('/embeddings')) {
      const vector = [0.0123, -0.0456, 0.0789, 0.1011, -0.1213, 0.1415, -0.1617, 0.1819];
      const inputs = Array.isArray(body?.input) ? body.input : [body?.input];
      const embedding = (v: number[]) => (body?.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
      json(res, 200, {
        object: 'list',
        data: inputs.map((_: unknown, index: number) => ({ object: 'embedding', index, embedding: embedding(vector) })),
        model: body?.model ?? 'text-embedding-3-small',
        usage: { prompt_tokens: 8, total_tokens: 8 },
      });
      return;
    }
    if (url.endsWith('/responses')) {
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
      return;
    }
    json(res, 404, { error: { message: `no stub for ${url}` } });
  });
}

export async function startAnthropicStub(): Promise<Stub> {
  const seen = new Set<string>();
  return listen(async (req, res, body) => {
    if (rateLimited(req, seen)) {
      json(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }, {
        'retry-after-ms': '5',
        'request-id': 'req_429',
      });
      return;
    }
    const firstChunkDelay = scenarioOf(req) === 'slow-first-chunk' ? 30 : 15;
    if (!(req.url ?? '').endsWith('/v1/messages')) {
      json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no stub' } });
      return;
    }
    const model = body?.model ?? 'claude-sonnet-4-6';
    const id = 'msg_01StubAnthropic';
    if (!body?.stream) {
      json(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: 'Paris is the capital of France.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: ANTHROPIC_USAGE,
      }, { 'request-id': 'req_msg' });
      return;
    }
    sse(res);
    const send = (type: string, o: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`);
    send('message_start', {
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...ANTHROPIC_USAGE, output_tokens: 1 } },
    });
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('ping', {});
    await sleep(firstChunkDelay);
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Paris is' } });
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' the capital.' } });
    send('content_block_stop', { index: 0 });
    send('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: ANTHROPIC_USAGE.output_tokens } });
    send('message_stop', {});
    res.end();
  });
}
