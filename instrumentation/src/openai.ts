// OpenAI SDK (`openai` v4.19 - v7) instrumentation, owned by ragscope and built on the public API of
// @opentelemetry/instrumentation only (InstrumentationBase, InstrumentationNodeModuleDefinition, _wrap).
//
// Why our own and not @opentelemetry/instrumentation-openai: extending it meant overriding nine of its
// private methods (any release could break them), and what it does that we need is small: wrap
// `Chat.Completions#create`, `Embeddings#create` and `Responses#create` on the SDK's classes (the same
// objects for CommonJS and ES modules), put the GenAI attributes on a span and end it when the APIPromise
// settles or the stream ends. What we need and it lacked or did differently: `openai` v7 (its range
// stopped at <7), cached and reasoning tokens, `gen_ai.provider.name` instead of the deprecated
// `gen_ai.system`, no deprecated per-message log events (allocations on every call whether or not anyone
// exports logs), time to first chunk, `gen_ai.request.stream`, HTTP status on errors, retries, spans that
// end when a stream fails or the app stops reading it, the APIPromise returned untouched (its streamed
// Responses path returned a plain Promise, which broke `.withResponse()`). Being ours, the call path is
// also leaner: attributes in one object at span start and one setAttributes at the end, one promise
// reaction per call. GenAI client metrics are not recorded: the ragscope processor derives them from spans.
//
// Only the SDK's public surface is touched: the classes' `create` methods, the APIPromise's `then`, the
// returned Stream's `iterator`, and the client's `retryRequest` (to count retries; it only runs on a retry).

/* eslint-disable @typescript-eslint/no-explicit-any */

import { context, SpanKind, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { performance } from 'node:perf_hooks';
import { GEN_AI, OTHER_ATTRIBUTES } from './attributes.js';
import { runtimeConfig } from './config.js';
import { chatInputMessages, chatOutputMessages, responsesInputMessages, responsesOutputMessages } from './content.js';
import { endWithError, observed } from './stream.js';
import { PACKAGE_VERSION } from './version.js';

/** The `openai` versions we trace. */
export const OPENAI_SUPPORTED_VERSIONS = ['>=4.19.0 <8'];

/** Instrumentation scope of the OpenAI spans. */
export const OPENAI_SCOPE = '@ragscope/instrumentation-openai';

type Kind = 'chat' | 'embeddings' | 'responses';

type Server = { readonly address: string; readonly port: number };
const serverCache = new Map<string, Server | null>();
/** Host and port of a client's base URL, null when it is not a URL (cached: parsing a URL on every call is not free). */
function server(baseURL: unknown): Server | null {
  if (typeof baseURL !== 'string') return null;
  const cached = serverCache.get(baseURL);
  if (cached !== undefined) return cached;
  let found: Server | null;
  try {
    const u = new URL(baseURL);
    found = { address: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
  } catch {
    found = null;
  }
  if (serverCache.size >= 100) serverCache.clear();
  serverCache.set(baseURL, found);
  return found;
}

/** Request attributes of a call, in one object handed to startSpan. */
function requestAttributes(kind: Kind, params: any, baseURL: unknown): Attributes {
  const attrs: Attributes = {
    [GEN_AI.OPERATION_NAME]: kind === 'embeddings' ? 'embeddings' : 'chat',
    [GEN_AI.PROVIDER_NAME]: 'openai',
    [GEN_AI.REQUEST_MODEL]: params.model,
  };
  const host = server(baseURL);
  if (host !== null) {
    attrs['server.address'] = host.address;
    attrs['server.port'] = host.port;
  }
  if (kind === 'embeddings') {
    if (params.encoding_format != null) attrs['gen_ai.request.encoding_formats'] = [params.encoding_format];
    if (typeof params.dimensions === 'number') attrs[GEN_AI.EMBEDDINGS_DIMENSION_COUNT] = params.dimensions;
    return attrs;
  }
  if (params.temperature != null) attrs['gen_ai.request.temperature'] = params.temperature;
  if (params.top_p != null) attrs['gen_ai.request.top_p'] = params.top_p;
  if (params.stream) attrs[GEN_AI.REQUEST_STREAM] = true;
  if (kind === 'responses') {
    if (params.max_output_tokens != null) attrs['gen_ai.request.max_tokens'] = params.max_output_tokens;
    return attrs;
  }
  if (typeof params.max_completion_tokens === 'number') attrs['gen_ai.request.max_tokens'] = params.max_completion_tokens;
  else if (typeof params.max_tokens === 'number') attrs['gen_ai.request.max_tokens'] = params.max_tokens;
  if (params.frequency_penalty != null) attrs['gen_ai.request.frequency_penalty'] = params.frequency_penalty;
  if (typeof params.presence_penalty === 'number') attrs['gen_ai.request.presence_penalty'] = params.presence_penalty;
  if (params.stop != null) attrs['gen_ai.request.stop_sequences'] = Array.isArray(params.stop) ? params.stop : [params.stop];
  if (typeof params.seed === 'number') attrs[GEN_AI.REQUEST_SEED] = params.seed;
  if (typeof params.n === 'number' && params.n !== 1) attrs['gen_ai.request.choice.count'] = params.n;
  return attrs;
}

/** The prompt as content attributes (capture on only). */
function inputContent(kind: Kind, params: any): Attributes | undefined {
  if (kind === 'chat') return { [GEN_AI.INPUT_MESSAGES]: JSON.stringify(chatInputMessages(params.messages)) };
  if (kind === 'responses') {
    const attrs: Attributes = { [GEN_AI.INPUT_MESSAGES]: JSON.stringify(responsesInputMessages(params.input)) };
    if (typeof params.instructions === 'string') attrs[GEN_AI.SYSTEM_INSTRUCTIONS] = JSON.stringify([{ type: 'text', content: params.instructions }]);
    return attrs;
  }
  return undefined;
}

/** Token usage in OTel semantics (input includes cached tokens, as OpenAI counts them). */
function addUsage(attrs: Attributes, usage: any): void {
  if (!usage || typeof usage !== 'object') return;
  const input = usage.prompt_tokens ?? usage.input_tokens;
  const output = usage.completion_tokens ?? usage.output_tokens;
  if (typeof input === 'number') attrs[GEN_AI.USAGE_INPUT_TOKENS] = input;
  if (typeof output === 'number') attrs[GEN_AI.USAGE_OUTPUT_TOKENS] = output;
  // Cached and reasoning tokens only when non-zero: OpenAI reports both (as 0) on every call, and absent
  // means none to the processor; two attributes fewer to set and serialize on most spans.
  const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens;
  if (typeof cached === 'number' && cached !== 0) attrs[GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS] = cached;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? usage.output_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number' && reasoning !== 0) attrs[GEN_AI.USAGE_REASONING_OUTPUT_TOKENS] = reasoning;
}

function responsesFinishReason(response: any): string | undefined {
  if (!response) return undefined;
  if (response.status === 'incomplete') return response.incomplete_details?.reason ?? 'incomplete';
  if (response.status === 'failed') return 'error';
  if (Array.isArray(response.output) && response.output.some((o: any) => o?.type === 'function_call')) return 'tool_calls';
  return response.status === 'completed' ? 'stop' : response.status;
}

/** Response attributes of a non-streamed result. */
function resultAttributes(kind: Kind, result: any, capture: boolean): Attributes {
  const attrs: Attributes = {};
  if (typeof result?.id === 'string') attrs[GEN_AI.RESPONSE_ID] = result.id;
  if (typeof result?.model === 'string') attrs[GEN_AI.RESPONSE_MODEL] = result.model;
  addUsage(attrs, result?.usage);
  if (kind === 'chat') {
    const choices: any[] = Array.isArray(result?.choices) ? result.choices : [];
    const finish: string[] = new Array(choices.length);
    for (let i = 0; i < choices.length; i++) finish[i] = choices[i]?.finish_reason ?? '';
    attrs[GEN_AI.RESPONSE_FINISH_REASONS] = finish;
    if (capture) attrs[GEN_AI.OUTPUT_MESSAGES] = JSON.stringify(chatOutputMessages(choices));
  } else if (kind === 'embeddings') {
    const emb = result?.data?.[0]?.embedding;
    if (Array.isArray(emb)) attrs[GEN_AI.EMBEDDINGS_DIMENSION_COUNT] = emb.length;
  } else {
    if (typeof result?.conversation?.id === 'string') attrs[GEN_AI.CONVERSATION_ID] = result.conversation.id;
    const reason = responsesFinishReason(result);
    if (reason !== undefined) attrs[GEN_AI.RESPONSE_FINISH_REASONS] = [reason];
    if (capture) attrs[GEN_AI.OUTPUT_MESSAGES] = JSON.stringify(responsesOutputMessages(result?.output, reason));
  }
  return attrs;
}

function chatChunkHasContent(chunk: any): boolean {
  const choices = chunk?.choices;
  if (!Array.isArray(choices)) return false;
  for (const c of choices) {
    const d = c?.delta;
    if (d && (d.content || d.refusal || d.tool_calls || d.reasoning_content || d.audio)) return true;
  }
  return false;
}

/** Observes a streamed chat completion: ids, finish reasons, usage chunk, time to first chunk, content. */
function observeChatStream(iterator: AsyncIterator<any>, span: Span, startNow: number, capture: boolean): AsyncGenerator<any> {
  const attrs: Attributes = {};
  const finish: string[] = [];
  const texts: string[] = [];
  let first = true;
  const observe = (chunk: any) => {
    if (first && chatChunkHasContent(chunk)) {
      first = false;
      attrs[GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK] = (performance.now() - startNow) / 1000;
    }
    if (attrs[GEN_AI.RESPONSE_ID] === undefined && typeof chunk?.id === 'string') attrs[GEN_AI.RESPONSE_ID] = chunk.id;
    if (attrs[GEN_AI.RESPONSE_MODEL] === undefined && typeof chunk?.model === 'string') attrs[GEN_AI.RESPONSE_MODEL] = chunk.model;
    if (chunk?.usage) addUsage(attrs, chunk.usage);
    if (Array.isArray(chunk?.choices)) {
      for (const c of chunk.choices) {
        const i = typeof c?.index === 'number' ? c.index : 0;
        if (c?.finish_reason) finish[i] = c.finish_reason;
        if (capture && c?.delta?.content) texts[i] = (texts[i] ?? '') + c.delta.content;
      }
    }
  };
  const onDone = () => {
    attrs[GEN_AI.RESPONSE_FINISH_REASONS] = finish.filter((f) => f !== undefined);
    if (capture) {
      const out = texts.map((t, i) => ({ role: 'assistant', parts: t ? [{ type: 'text', content: t }] : [], finish_reason: finish[i] }));
      attrs[GEN_AI.OUTPUT_MESSAGES] = JSON.stringify(out.filter(Boolean));
    }
    span.setAttributes(attrs);
    span.end();
  };
  return observed(iterator, span, observe, onDone, attrs);
}

/** Observes a streamed Responses call: ids, time to first delta, final usage and finish reason, content. */
function observeResponsesStream(iterator: AsyncIterator<any>, span: Span, startNow: number, capture: boolean): AsyncGenerator<any> {
  const attrs: Attributes = {};
  let first = true;
  const observe = (event: any) => {
    const type: unknown = event?.type;
    if (first && typeof type === 'string' && type.endsWith('.delta')) {
      first = false;
      attrs[GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK] = (performance.now() - startNow) / 1000;
    }
    if (type === 'response.created' || type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      Object.assign(attrs, resultAttributes('responses', event.response, capture && type !== 'response.created'));
      if (type === 'response.created') delete attrs[GEN_AI.RESPONSE_FINISH_REASONS];
    }
  };
  const onDone = () => {
    span.setAttributes(attrs);
    span.end();
  };
  return observed(iterator, span, observe, onDone, attrs);
}

/** `f.apply(self, args)` as a module-level function: context.with() would otherwise bind `this` per call. */
function applyTo(f: (...a: any[]) => any, self: unknown, args: any[]): any {
  return f.apply(self, args);
}

function isWrapped(f: unknown): boolean {
  return typeof f === 'function' && Boolean((f as { __wrapped?: boolean }).__wrapped);
}

function openaiClass(moduleExports: any): any {
  const mod = moduleExports?.[Symbol.toStringTag] === 'Module' ? (moduleExports.default ?? moduleExports) : moduleExports;
  return mod?.OpenAI ?? mod?.default?.OpenAI ?? mod;
}

export type RagscopeOpenAIInstrumentationConfig = InstrumentationConfig;

export class RagscopeOpenAIInstrumentation extends InstrumentationBase<RagscopeOpenAIInstrumentationConfig> {
  /** register()'s own tracer for these spans (own-tracer.ts); the SDK's tracer otherwise. */
  private ownTracer: Tracer | undefined;

  constructor(config: RagscopeOpenAIInstrumentationConfig = {}) {
    super(OPENAI_SCOPE, PACKAGE_VERSION, config);
  }

  /** Makes this instrumentation's spans with `tracer` (register() does, when it started the provider). */
  useOwnTracer(tracer: Tracer | undefined): void {
    this.ownTracer = tracer;
  }

  /** A tracer provider chosen explicitly wins over register()'s own tracer. */
  override setTracerProvider(tracerProvider: TracerProvider): void {
    this.ownTracer = undefined;
    super.setTracerProvider(tracerProvider);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'openai',
        OPENAI_SUPPORTED_VERSIONS,
        (moduleExports: any) => {
          this.patchModule(moduleExports);
          return moduleExports;
        },
        (moduleExports: any) => this.unpatchModule(moduleExports),
      ),
    ];
  }

  /**
   * Patches an `openai` module object, also one loaded without the require/import hooks (a bundled app, or
   * an ESM app whose static imports were linked before instrumentation started). Accepts the module
   * namespace, its default export, or the `OpenAI` class. Idempotent. Returns false when it is not openai.
   */
  patchModule(moduleExports: any): boolean {
    const cls = openaiClass(moduleExports);
    const chat = cls?.Chat?.Completions?.prototype;
    if (!chat || typeof chat.create !== 'function') return false;
    this._patchCreate(chat, 'chat');
    if (cls.Embeddings?.prototype) this._patchCreate(cls.Embeddings.prototype, 'embeddings');
    if (cls.Responses?.prototype) this._patchCreate(cls.Responses.prototype, 'responses');
    const client = cls.prototype;
    if (typeof client?.retryRequest === 'function' && !isWrapped(client.retryRequest)) {
      this._wrap(client, 'retryRequest', (original: (...a: unknown[]) => unknown) =>
        function retryRequest(this: unknown, ...args: unknown[]) {
          countRetry();
          return original.apply(this, args);
        },
      );
    }
    return true;
  }

  private unpatchModule(moduleExports: any): void {
    const cls = openaiClass(moduleExports);
    for (const proto of [cls?.Chat?.Completions?.prototype, cls?.Embeddings?.prototype, cls?.Responses?.prototype]) {
      if (proto && isWrapped(proto.create)) this._unwrap(proto, 'create');
    }
    if (cls?.prototype && isWrapped(cls.prototype.retryRequest)) this._unwrap(cls.prototype, 'retryRequest');
  }

  private _patchCreate(proto: any, kind: Kind): void {
    if (typeof proto.create !== 'function' || isWrapped(proto.create)) return;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this._wrap(proto, 'create', (original: (...args: any[]) => any) =>
      function create(this: any, ...args: any[]) {
        if (!self.isEnabled()) return original.apply(this, args);
        const params = args[0] ?? {};
        let span: Span;
        const startNow = params.stream ? performance.now() : 0;
        const capture = runtimeConfig().captureContent;
        // The active context, read once: the span's parent, and the context the call runs in with the span.
        const parent = context.active();
        try {
          span = (self.ownTracer ?? self.tracer).startSpan(
            `${kind === 'embeddings' ? 'embeddings' : 'chat'} ${params.model}`,
            { kind: SpanKind.CLIENT, attributes: requestAttributes(kind, params, this?._client?.baseURL) },
            parent,
          );
          if (capture && span.isRecording()) {
            const content = inputContent(kind, params);
            if (content !== undefined) span.setAttributes(content);
          }
        } catch (err) {
          self._diag.debug('could not start span', err);
          return original.apply(this, args);
        }
        const apiPromise = context.with(trace.setSpan(parent, span), applyTo, undefined, original, this, args);
        const onError = (err: unknown) => endWithError(span, err);
        if (params.stream) {
          apiPromise.then((stream: any) => {
            try {
              const observe = kind === 'responses' ? observeResponsesStream : observeChatStream;
              const own = typeof stream?.iterator === 'function' ? 'iterator' : Symbol.asyncIterator;
              const iterate = stream[own];
              // The SDK's Stream iterates through `iterator()` ([Symbol.asyncIterator], tee(), toReadableStream()).
              stream[own] = function (this: unknown) {
                return observe(iterate.call(stream), span, startNow, capture && span.isRecording());
              };
            } catch (err) {
              self._diag.debug('could not observe stream', err);
              span.end();
            }
          }, onError);
        } else {
          apiPromise.then((result: unknown) => {
            try {
              span.setAttributes(resultAttributes(kind, result, capture && span.isRecording()));
            } catch (err) {
              self._diag.debug('result attributes', err);
            }
            span.end();
          }, onError);
        }
        return apiPromise;
      },
    );
  }
}

/**
 * Counts a retry on the active span when it is one of this instrumentation's spans (identified by its
 * instrumentation scope; SDK spans expose it, other Span implementations are left alone). The count lives
 * in the span's own `http.request.resend_count` attribute: no per-call bookkeeping on the hot path.
 */
function countRetry(): void {
  try {
    const span = trace.getSpan(context.active()) as (Span & { instrumentationScope?: { name?: string }; attributes?: Attributes }) | undefined;
    if (!span || span.instrumentationScope?.name !== OPENAI_SCOPE || !span.isRecording()) return;
    const previous = span.attributes?.[OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT];
    span.setAttribute(OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT, (typeof previous === 'number' ? previous : 0) + 1);
  } catch {
    /* never break the retry */
  }
}
