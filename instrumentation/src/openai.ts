// OpenAI SDK (`openai` v4.19 - v7) instrumentation.
//
// Why a subclass of the official @opentelemetry/instrumentation-openai (pinned to 0.21.0) and not our own:
// the official one already does the hard parts well: wrapping `Chat.Completions#create`,
// `Embeddings#create` and `Responses#create` for CommonJS (require-in-the-middle) and ESM
// (import-in-the-middle), request attributes, the streamed-chunk bookkeeping including tool calls, span
// lifecycle on the APIPromise, and the GenAI metrics. Rewriting that would be rewriting what works.
//
// What it lacks, and what this subclass changes by overriding its (TS-private, runtime-ordinary) methods:
//  - It declares `openai` >=4.19 <7, so nothing is traced on v7. v7 keeps the same classes and methods
//    (checked: Chat.Completions/Embeddings/Responses prototypes, Stream#iterator, APIPromise), so we widen
//    the range to <8 in init() rather than fork the patching code.
//  - No cached or reasoning tokens (cost overstated): we read `prompt_tokens_details.cached_tokens` and
//    `completion_tokens_details.reasoning_tokens` (Responses: `input/output_tokens_details`) on results and
//    on streamed usage chunks.
//  - It writes the deprecated `gen_ai.system`, and on every chat call builds one deprecated log event per
//    prompt message and per choice (`gen_ai.user.message`, `gen_ai.choice`...), content-less with capture
//    off, which costs allocations per call whether or not anyone exports logs; for the Responses API it
//    converts the whole input for such an event and puts `instructions` on the span even with capture off.
//    So the span-start methods (chat, embeddings, Responses) and the chat result method are replaced by
//    lean equivalents with the same request/response attributes and `gen_ai.provider.name`; content, only
//    when opted in, goes on spans as `gen_ai.input.messages` / `gen_ai.output.messages`; the official
//    logger is replaced by a no-op one for what is left. RagscopeSpanProcessor strips or redacts content
//    attributes on every span.
//  - No time to first chunk, no `gen_ai.request.stream`, no HTTP status on errors, no retry count: added;
//    retries are counted by wrapping the client's `retryRequest` (not on the hot path: it only runs on a
//    retry), recorded as `http.request.resend_count` like the Anthropic SDK does.
//  - Span leaks on streams: a stream that fails mid-way, or that the app stops reading (`break`), never
//    ended its span; the Responses stream path also returned a plain Promise instead of the APIPromise (so
//    `.withResponse()` broke) and never ended the span on a failed request. Fixed here.
// Kept from the official code: the patching itself (CJS and ESM hooks), the `create` wrappers and span
// lifecycle on the APIPromise, streamed-chunk bookkeeping (ids, models, finish reasons, tool calls, usage),
// embeddings and Responses result handling, error handling, and the GenAI metrics.
//
// Overriding private methods of a 0.x package is fragile, so the version is pinned exactly and
// `RagscopeOpenAIInstrumentation` checks at construction that every method it extends exists; if one is
// missing it disables itself (with a diag warning) rather than half-work.

/* eslint-disable @typescript-eslint/no-explicit-any */

import { context, createNoopMeter, diag, SpanKind, trace, type Attributes, type Context, type Histogram, type Span, createNoopLogger, type Logger } from '@opentelemetry/api';
import { InstrumentationBase, type InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { OpenAIInstrumentation, type OpenAIInstrumentationConfig } from '@opentelemetry/instrumentation-openai';
import { performance } from 'node:perf_hooks';
import { GEN_AI, OTHER_ATTRIBUTES } from './attributes.js';
import { runtimeConfig } from './config.js';
import { chatInputMessages, chatOutputMessages, responsesInputMessages, responsesOutputMessages } from './content.js';
import { endWithError, observed } from './stream.js';

/** The `openai` versions we trace. */
export const OPENAI_SUPPORTED_VERSIONS = ['>=4.19.0 <8'];

type StartInfo = { span: Span; ctx: Context; commonAttrs: Attributes };

/** The methods of the official OpenAIInstrumentation 0.21.0 that we extend (private in its .d.ts). */
interface OfficialInternals {
  _startChatCompletionsSpan(params: any, config: any, baseURL: unknown): StartInfo;
  _onChatCompletionsStreamIterator(iterator: AsyncIterator<any>, span: Span, startNow: number, config: any, commonAttrs: Attributes, ctx: Context): AsyncGenerator<any>;
  _onChatCompletionsCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any, config: any, ctx: Context): void;
  _createAPIPromiseRejectionHandler(startNow: number, span: Span, commonAttrs: Attributes): (err: any) => void;
  _startEmbeddingsSpan(params: any, baseURL: unknown): StartInfo;
  _onEmbeddingsCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any): void;
  _startResponsesSpan(params: any, config: any, baseURL: unknown): StartInfo;
  _onResponsesStreamIterator(iterator: AsyncIterator<any>, span: Span, startNow: number, config: any, commonAttrs: Attributes, ctx: Context): AsyncGenerator<any>;
  _onResponsesCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any, config: any, ctx: Context): void;
}
const EXTENDED_METHODS: (keyof OfficialInternals | '_getPatchedResponsesCreate')[] = [
  '_startChatCompletionsSpan',
  '_onChatCompletionsStreamIterator',
  '_onChatCompletionsCreateResult',
  '_createAPIPromiseRejectionHandler',
  '_startEmbeddingsSpan',
  '_onEmbeddingsCreateResult',
  '_startResponsesSpan',
  '_onResponsesStreamIterator',
  '_onResponsesCreateResult',
  '_getPatchedResponsesCreate',
];

const Official = OpenAIInstrumentation as unknown as new (config?: OpenAIInstrumentationConfig) => InstrumentationBase<OpenAIInstrumentationConfig> & OfficialInternals;
const officialProto = OpenAIInstrumentation.prototype as unknown as OfficialInternals & { init(): InstrumentationNodeModuleDefinition[] };

/**
 * Counts a retry on the active span when it is one of this instrumentation's spans (identified by its
 * instrumentation scope; SDK spans expose it, other Span implementations are left alone). The count lives
 * in the span's own `http.request.resend_count` attribute: no per-call bookkeeping on the hot path.
 */
function countRetry(scopeName: string): void {
  const span = trace.getSpan(context.active()) as (Span & { instrumentationScope?: { name?: string }; attributes?: Attributes }) | undefined;
  if (!span || span.instrumentationScope?.name !== scopeName || !span.isRecording()) return;
  const previous = span.attributes?.[OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT];
  span.setAttribute(OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT, (typeof previous === 'number' ? previous : 0) + 1);
}

const NOOP_LOGGER = createNoopLogger();
const NOOP_METER = createNoopMeter();

const serverCache = new Map<string, Attributes | undefined>();
/** `server.address` / `server.port` of a client's base URL (cached: parsing a URL on every call is not free). */
function serverAttributes(baseURL: unknown): Attributes | undefined {
  if (typeof baseURL !== 'string') return undefined;
  if (serverCache.has(baseURL)) return serverCache.get(baseURL);
  let attrs: Attributes | undefined;
  try {
    const u = new URL(baseURL);
    attrs = { 'server.address': u.hostname, 'server.port': u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
  } catch {
    attrs = undefined;
  }
  if (serverCache.size >= 100) serverCache.clear();
  serverCache.set(baseURL, attrs);
  return attrs;
}

function usageDetails(span: Span, usage: any): void {
  if (!usage || typeof usage !== 'object') return;
  // Chat Completions / Embeddings
  const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens;
  if (typeof cached === 'number') span.setAttribute(GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS, cached);
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? usage.output_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') span.setAttribute(GEN_AI.USAGE_REASONING_OUTPUT_TOKENS, reasoning);
}

function setTimeToFirstChunk(span: Span, startNow: number): void {
  span.setAttribute(GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK, (performance.now() - startNow) / 1000);
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

export interface RagscopeOpenAIInstrumentationConfig extends OpenAIInstrumentationConfig {}

export class RagscopeOpenAIInstrumentation extends Official {
  declare private _ragscopeMetrics: boolean | undefined;
  declare private _genaiClientOperationDuration: Histogram;
  declare private _genaiClientTokenUsage: Histogram;

  constructor(config: RagscopeOpenAIInstrumentationConfig = {}) {
    // Content goes on spans via our overrides; the official log-event content path stays off.
    super({ ...config, captureMessageContent: false });
    (this.getConfig() as OpenAIInstrumentationConfig).captureMessageContent = false;
    const missing = EXTENDED_METHODS.filter((m) => typeof (officialProto as any)[m] !== 'function');
    if (missing.length > 0) {
      diag.warn(`@ragscope/instrumentation: @opentelemetry/instrumentation-openai changed (missing ${missing.join(', ')}); OpenAI tracing disabled`);
      this.disable();
      this.enable = () => {};
    }
  }

  override setConfig(config: OpenAIInstrumentationConfig = {}): void {
    super.setConfig({ ...config, captureMessageContent: false });
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const defs = officialProto.init.call(this);
    for (const def of defs) {
      def.supportedVersions = OPENAI_SUPPORTED_VERSIONS;
      const patch = def.patch;
      const unpatch = def.unpatch;
      def.patch = (moduleExports: any, version?: string) => {
        // Idempotent: the same classes can be reached twice (ESM preload, then the loader hook).
        const mod = moduleExports?.[Symbol.toStringTag] === 'Module' ? moduleExports.default : moduleExports;
        if ((mod?.OpenAI?.Chat?.Completions?.prototype?.create as any)?.__wrapped) return moduleExports;
        const result = patch ? patch(moduleExports, version) : moduleExports;
        this._patchRetries(moduleExports, true);
        return result;
      };
      def.unpatch = (moduleExports: any, version?: string) => {
        unpatch?.(moduleExports, version);
        this._patchRetries(moduleExports, false);
      };
    }
    return defs;
  }

  /**
   * Patches an `openai` module object that was loaded without the require/import hooks (a bundled app, or
   * an ESM app whose static imports were linked before instrumentation started). Accepts the module
   * namespace, its default export, or the `OpenAI` class. Returns false when it is not an openai module.
   */
  patchModule(moduleExports: any): boolean {
    const cls = moduleExports?.OpenAI ?? moduleExports?.default?.OpenAI ?? moduleExports;
    const proto = cls?.Chat?.Completions?.prototype;
    if (!proto || typeof proto.create !== 'function') return false;
    if ((proto.create as any).__wrapped) return true;
    const defs = this.getModuleDefinitions() as InstrumentationNodeModuleDefinition[];
    defs[0]?.patch?.({ OpenAI: cls }, undefined);
    return true;
  }

  private _patchRetries(moduleExports: any, on: boolean): void {
    try {
      const mod = moduleExports?.[Symbol.toStringTag] === 'Module' ? moduleExports.default : moduleExports;
      const proto = mod?.OpenAI?.prototype;
      if (!proto || typeof proto.retryRequest !== 'function') return;
      if (!on) {
        this._unwrap(proto, 'retryRequest');
        return;
      }
      if ((proto.retryRequest as any).__wrapped) return;
      const scopeName = this.instrumentationName;
      this._wrap(proto, 'retryRequest', (original: (...a: unknown[]) => unknown) =>
        function retryRequest(this: unknown, ...args: unknown[]) {
          try {
            countRetry(scopeName);
          } catch {
            /* never break the retry */
          }
          return original.apply(this, args);
        },
      );
    } catch (err) {
      this._diag.debug('could not patch retryRequest', err);
    }
  }

  protected override get logger(): Logger {
    return NOOP_LOGGER;
  }

  // ---- chat completions ----

  /**
   * Replaces the official `_startChatCompletionsSpan`, which also builds one deprecated log event per
   * prompt message on every call (work and allocations for events we drop) and writes `gen_ai.system`.
   * Same request attributes otherwise, plus `gen_ai.request.stream`, `gen_ai.request.seed`,
   * `gen_ai.request.choice.count`, and the prompt as `gen_ai.input.messages` when capture is on.
   */
  _startChatCompletionsSpan(params: any, _config: any, baseURL: unknown): StartInfo {
    const commonAttrs: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'chat',
      [GEN_AI.REQUEST_MODEL]: params.model,
      [GEN_AI.PROVIDER_NAME]: 'openai',
    };
    const server = serverAttributes(baseURL);
    if (server !== undefined) Object.assign(commonAttrs, server);
    const attrs: Attributes = { ...commonAttrs };
    if (params.frequency_penalty != null) attrs['gen_ai.request.frequency_penalty'] = params.frequency_penalty;
    if (typeof params.max_completion_tokens === 'number') attrs['gen_ai.request.max_tokens'] = params.max_completion_tokens;
    else if (typeof params.max_tokens === 'number') attrs['gen_ai.request.max_tokens'] = params.max_tokens;
    if (typeof params.presence_penalty === 'number') attrs['gen_ai.request.presence_penalty'] = params.presence_penalty;
    if (params.stop != null) attrs['gen_ai.request.stop_sequences'] = Array.isArray(params.stop) ? params.stop : [params.stop];
    if (params.temperature != null) attrs['gen_ai.request.temperature'] = params.temperature;
    if (params.top_p != null) attrs['gen_ai.request.top_p'] = params.top_p;
    if (typeof params.seed === 'number') attrs[GEN_AI.REQUEST_SEED] = params.seed;
    if (typeof params.n === 'number' && params.n !== 1) attrs['gen_ai.request.choice.count'] = params.n;
    if (params.stream) attrs[GEN_AI.REQUEST_STREAM] = true;
    const span = this.tracer.startSpan(`chat ${params.model}`, { kind: SpanKind.CLIENT, attributes: attrs });
    if (runtimeConfig().captureContent && span.isRecording()) {
      try {
        span.setAttribute(GEN_AI.INPUT_MESSAGES, JSON.stringify(chatInputMessages(params.messages)));
      } catch (err) {
        this._diag.debug('ragscope: chat input content', err);
      }
    }
    return { span, ctx: trace.setSpan(context.active(), span), commonAttrs };
  }

  /** Replaces the official `_onChatCompletionsCreateResult` (which emits a deprecated `gen_ai.choice` event per choice). */
  _onChatCompletionsCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any, _config: any, _ctx: Context): void {
    try {
      const choices: any[] = Array.isArray(result?.choices) ? result.choices : [];
      const finish: string[] = new Array(choices.length);
      for (let i = 0; i < choices.length; i++) finish[i] = choices[i]?.finish_reason ?? '';
      span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, finish);
      if (result?.id) span.setAttribute(GEN_AI.RESPONSE_ID, result.id);
      if (result?.model) span.setAttribute(GEN_AI.RESPONSE_MODEL, result.model);
      const usage = result?.usage;
      if (usage) {
        span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, usage.prompt_tokens);
        span.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, usage.completion_tokens);
        usageDetails(span, usage);
      }
      if (runtimeConfig().captureContent && span.isRecording()) {
        span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify(chatOutputMessages(choices)));
      }
      this._recordMetrics(startNow, commonAttrs, result?.model, usage?.prompt_tokens, usage?.completion_tokens);
    } catch (err) {
      this._diag.debug('ragscope: chat result attributes', err);
    }
    span.end();
  }

  /** GenAI client metrics as the official instrumentation records them; skipped while no meter provider is set. */
  private _recordMetrics(startNow: number, commonAttrs: Attributes, responseModel: unknown, input: unknown, output: unknown): void {
    if (this._ragscopeMetrics !== true) return;
    const attrs: Attributes = { ...commonAttrs, [GEN_AI.RESPONSE_MODEL]: responseModel as string };
    this._genaiClientOperationDuration?.record((performance.now() - startNow) / 1000, attrs);
    if (typeof input === 'number') this._genaiClientTokenUsage?.record(input, { ...attrs, 'gen_ai.token.type': 'input' });
    if (typeof output === 'number') this._genaiClientTokenUsage?.record(output, { ...attrs, 'gen_ai.token.type': 'output' });
  }

  override _updateMetricInstruments(): void {
    super._updateMetricInstruments();
    this._ragscopeMetrics = this.meter !== NOOP_METER;
  }

  _onChatCompletionsStreamIterator(iterator: AsyncIterator<any>, span: Span, startNow: number, config: any, commonAttrs: Attributes, ctx: Context): AsyncGenerator<any> {
    const capture = runtimeConfig().captureContent && span.isRecording();
    const texts: string[] = [];
    const finish: string[] = [];
    let first = true;
    const observe = (chunk: any) => {
      if (first && chatChunkHasContent(chunk)) {
        first = false;
        setTimeToFirstChunk(span, startNow);
      }
      if (chunk?.usage) usageDetails(span, chunk.usage);
      if (capture && Array.isArray(chunk?.choices)) {
        for (const c of chunk.choices) {
          const i = typeof c?.index === 'number' ? c.index : 0;
          if (c?.delta?.content) texts[i] = (texts[i] ?? '') + c.delta.content;
          if (c?.finish_reason) finish[i] = c.finish_reason;
        }
      }
    };
    const onDone = () => {
      if (capture) {
        const out = texts.map((t, i) => ({ role: 'assistant', parts: t ? [{ type: 'text', content: t }] : [], finish_reason: finish[i] }));
        span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify(out.filter(Boolean)));
      }
    };
    return super._onChatCompletionsStreamIterator(observed(iterator, span, observe, onDone), span, startNow, config, commonAttrs, ctx);
  }

  _createAPIPromiseRejectionHandler(startNow: number, span: Span, commonAttrs: Attributes): (err: any) => void {
    const handler = super._createAPIPromiseRejectionHandler(startNow, span, commonAttrs);
    return (err: any) => {
      try {
        if (typeof err?.status === 'number') span.setAttribute(OTHER_ATTRIBUTES.HTTP_RESPONSE_STATUS_CODE, err.status);
      } catch {
        /* ignore */
      }
      try {
        handler(err);
      } catch {
        endWithError(span, err);
      }
    };
  }

  // ---- embeddings ----

  /** Replaces the official `_startEmbeddingsSpan`: same attributes, `gen_ai.provider.name` instead of `gen_ai.system`. */
  _startEmbeddingsSpan(params: any, baseURL: unknown): StartInfo {
    const commonAttrs: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'embeddings',
      [GEN_AI.REQUEST_MODEL]: params.model,
      [GEN_AI.PROVIDER_NAME]: 'openai',
    };
    const server = serverAttributes(baseURL);
    if (server !== undefined) Object.assign(commonAttrs, server);
    const attrs: Attributes = { ...commonAttrs };
    if (params.encoding_format != null) attrs['gen_ai.request.encoding_formats'] = [params.encoding_format];
    if (typeof params.dimensions === 'number') attrs[GEN_AI.EMBEDDINGS_DIMENSION_COUNT] = params.dimensions;
    const span = this.tracer.startSpan(`embeddings ${params.model}`, { kind: SpanKind.CLIENT, attributes: attrs });
    return { span, ctx: trace.setSpan(context.active(), span), commonAttrs };
  }

  _onEmbeddingsCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any): void {
    try {
      const emb = result?.data?.[0]?.embedding;
      if (Array.isArray(emb)) span.setAttribute(GEN_AI.EMBEDDINGS_DIMENSION_COUNT, emb.length);
    } catch {
      /* ignore */
    }
    super._onEmbeddingsCreateResult(span, startNow, commonAttrs, result);
  }

  // ---- responses ----

  /**
   * Replaces the official `_startResponsesSpan`, which converts the whole input to messages on every call
   * (for a log event we drop) and puts `instructions` on the span even with capture off.
   */
  _startResponsesSpan(params: any, _config: any, baseURL: unknown): StartInfo {
    const commonAttrs: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'chat',
      [GEN_AI.REQUEST_MODEL]: params.model,
      [GEN_AI.PROVIDER_NAME]: 'openai',
    };
    const server = serverAttributes(baseURL);
    if (server !== undefined) Object.assign(commonAttrs, server);
    const attrs: Attributes = { ...commonAttrs };
    if (params.max_output_tokens != null) attrs['gen_ai.request.max_tokens'] = params.max_output_tokens;
    if (params.temperature != null) attrs['gen_ai.request.temperature'] = params.temperature;
    if (params.top_p != null) attrs['gen_ai.request.top_p'] = params.top_p;
    if (params.stream) attrs[GEN_AI.REQUEST_STREAM] = true;
    const span = this.tracer.startSpan(`chat ${params.model}`, { kind: SpanKind.CLIENT, attributes: attrs });
    if (runtimeConfig().captureContent && span.isRecording()) {
      try {
        if (typeof params.instructions === 'string') span.setAttribute(GEN_AI.SYSTEM_INSTRUCTIONS, JSON.stringify([{ type: 'text', content: params.instructions }]));
        span.setAttribute(GEN_AI.INPUT_MESSAGES, JSON.stringify(responsesInputMessages(params.input)));
      } catch (err) {
        this._diag.debug('ragscope: responses input content', err);
      }
    }
    return { span, ctx: trace.setSpan(context.active(), span), commonAttrs };
  }

  _onResponsesCreateResult(span: Span, startNow: number, commonAttrs: Attributes, result: any, config: any, ctx: Context): void {
    try {
      usageDetails(span, result?.usage);
      if (runtimeConfig().captureContent && span.isRecording()) {
        span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify(responsesOutputMessages(result?.output, responsesFinishReason(result))));
      }
    } catch (err) {
      this._diag.debug('ragscope: responses result attributes', err);
    }
    super._onResponsesCreateResult(span, startNow, commonAttrs, result, config, ctx);
  }

  _onResponsesStreamIterator(iterator: AsyncIterator<any>, span: Span, startNow: number, config: any, commonAttrs: Attributes, ctx: Context): AsyncGenerator<any> {
    const capture = runtimeConfig().captureContent && span.isRecording();
    let first = true;
    const observe = (event: any) => {
      const type: unknown = event?.type;
      if (first && typeof type === 'string' && type.endsWith('.delta')) {
        first = false;
        setTimeToFirstChunk(span, startNow);
      }
      if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
        const response = event.response;
        usageDetails(span, response?.usage);
        if (type !== 'response.completed' && response?.usage) {
          // The official instrumentation reads usage only from `response.completed`.
          span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, response.usage.input_tokens);
          span.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, response.usage.output_tokens);
        }
        if (capture) {
          span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify(responsesOutputMessages(response?.output, responsesFinishReason(response))));
        }
      }
    };
    return super._onResponsesStreamIterator(observed(iterator, span, observe, undefined), span, startNow, config, commonAttrs, ctx);
  }

  /**
   * Replaces the official `_getPatchedResponsesCreate`: the same span logic, but the streaming path returns
   * the original APIPromise (the official one returned `apiPromise.then(...)`, a plain Promise, which broke
   * `.withResponse()`), and a failed streaming request ends its span with the error.
   */
  _getPatchedResponsesCreate(): (original: (...args: any[]) => any) => (...args: any[]) => any {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return (original) =>
      function patchedCreate(this: any, ...args: any[]) {
        if (!self.isEnabled()) return original.apply(this, args);
        const params = args[0];
        const config = self.getConfig();
        const startNow = performance.now();
        let startInfo: StartInfo;
        try {
          startInfo = self._startResponsesSpan(params, config, this?._client?.baseURL);
        } catch (err) {
          self._diag.error('unexpected error starting span:', err);
          return original.apply(this, args);
        }
        const { span, ctx, commonAttrs } = startInfo;
        const apiPromise = context.with(ctx, () => original.apply(this, args));
        const onError = self._createAPIPromiseRejectionHandler(startNow, span, commonAttrs);
        if (params?.stream) {
          apiPromise.then((stream: any) => {
            try {
              self._wrap(stream, Symbol.asyncIterator as any, (origIterator: any) =>
                function (this: unknown) {
                  return self._onResponsesStreamIterator(origIterator.call(stream), span, startNow, config, commonAttrs, ctx);
                },
              );
            } catch (err) {
              self._diag.debug('could not wrap responses stream', err);
              span.end();
            }
          }, onError);
          return apiPromise;
        }
        apiPromise.then((result: any) => self._onResponsesCreateResult(span, startNow, commonAttrs, result, config, ctx), onError);
        return apiPromise;
      };
  }
}

function responsesFinishReason(response: any): string | undefined {
  if (!response) return undefined;
  if (response.status === 'incomplete') return response.incomplete_details?.reason ?? 'incomplete';
  if (response.status === 'failed') return 'error';
  if (Array.isArray(response.output) && response.output.some((o: any) => o?.type === 'function_call')) return 'tool_calls';
  return response.status === 'completed' ? 'stop' : response.status;
}
