// Anthropic SDK (`@anthropic-ai/sdk`) instrumentation.
//
// Choice and why:
// - @anthropic-ai/sdk >= 0.134 traces itself: every client creates OpenTelemetry spans with the global
//   tracer provider (scope `com.anthropic.sdk.typescript`), including streaming (time to first chunk, usage
//   from `message_delta`), retries (`http.request.resend_count`), `error.type` from the API's error
//   envelope (`rate_limit_error` on a 429), and `gen_ai.usage.input_tokens` that already INCLUDES cache
//   reads and writes. That is the vendor's own, maintained instrumentation, correct for every method, and it
//   needs no monkey-patching (so it works the same for ESM and CommonJS apps, with or without hooks). Patching
//   on top of it would double every span. So for those versions ragscope patches nothing:
//   RagscopeSpanProcessor normalizes its spans (span name `chat {model}`, `gen_ai.usage.cache_creation.
//   input_tokens` next to its `cache_write` name, `gen_ai.response.finish_reasons`), register() sets the
//   content mode from ragscope's capture switch and turns off its trace-context propagation to
//   api.anthropic.com (baggage would carry user ids there), and the content policy/redaction applies.
// - Older SDKs (< 0.134, still common) have no tracing, and the existing third-party instrumentations
//   (OpenLLMetry's, OpenInference's) write their own dialects and count input tokens without cache tokens.
//   For them this InstrumentationBase wraps `Messages#create` (which `messages.stream()` also goes through)
//   and emits the same attributes the native spans have after normalization.

/* eslint-disable @typescript-eslint/no-explicit-any */

import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { performance } from 'node:perf_hooks';
import { GEN_AI, OTHER_ATTRIBUTES } from './attributes.js';
import { runtimeConfig } from './config.js';
import { endWithError, observed } from './stream.js';
import { PACKAGE_VERSION } from './version.js';

/** Versions patched by the fallback; newer versions trace themselves. */
export const ANTHROPIC_FALLBACK_VERSIONS = ['>=0.20.0 <0.134.0'];


function serverAttributes(baseURL: unknown): Attributes {
  try {
    const u = new URL(String(baseURL));
    return { 'server.address': u.hostname, 'server.port': u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
  } catch {
    return {};
  }
}

function anthropicErrorType(err: any): string {
  const envelope = err?.error?.error?.type ?? err?.error?.type;
  if (typeof envelope === 'string' && envelope) return envelope;
  if (typeof err?.status === 'number') return String(err.status);
  const name = err?.constructor?.name;
  if (name === 'APIConnectionTimeoutError') return 'client_timeout_error';
  if (name === 'APIConnectionError') return 'connection_error';
  return typeof name === 'string' && name !== 'Object' ? name : 'client_error';
}

/** Usage in OTel semantics: input INCLUDES cache reads and writes (Anthropic's `input_tokens` does not). */
function setUsage(span: Span, usage: any): void {
  if (!usage || typeof usage !== 'object') return;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  if (typeof usage.input_tokens === 'number') {
    span.setAttribute(GEN_AI.USAGE_INPUT_TOKENS, usage.input_tokens + n(usage.cache_read_input_tokens) + n(usage.cache_creation_input_tokens));
  }
  if (typeof usage.output_tokens === 'number') span.setAttribute(GEN_AI.USAGE_OUTPUT_TOKENS, usage.output_tokens);
  if (typeof usage.cache_read_input_tokens === 'number') span.setAttribute(GEN_AI.USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens);
  if (typeof usage.cache_creation_input_tokens === 'number') {
    span.setAttribute(GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_input_tokens);
    span.setAttribute(GEN_AI.USAGE_CACHE_WRITE_INPUT_TOKENS, usage.cache_creation_input_tokens);
  }
}

function parts(content: unknown): unknown[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return content.map((b: any) => {
    switch (b?.type) {
      case 'text':
        return { type: 'text', content: b.text };
      case 'thinking':
        return { type: 'reasoning', content: b.thinking };
      case 'tool_use':
        return { type: 'tool_call', id: b.id, name: b.name, arguments: b.input };
      case 'tool_result':
        return { type: 'tool_call_response', id: b.tool_use_id, response: b.content };
      default:
        return { type: String(b?.type ?? 'unknown') };
    }
  });
}

const ANTHROPIC_SCOPE = '@ragscope/instrumentation-anthropic';

export class AnthropicInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(config: InstrumentationConfig = {}) {
    super(ANTHROPIC_SCOPE, PACKAGE_VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        '@anthropic-ai/sdk',
        ANTHROPIC_FALLBACK_VERSIONS,
        (moduleExports: any) => {
          this.patchModule(moduleExports);
          return moduleExports;
        },
        (moduleExports: any) => {
          const cls = anthropicClass(moduleExports);
          if (cls?.Messages?.prototype) this._unwrap(cls.Messages.prototype, 'create');
          if (cls?.prototype?.retryRequest) this._unwrap(cls.prototype, 'retryRequest');
        },
      ),
    ];
  }

  /**
   * Patches an `@anthropic-ai/sdk` module loaded without hooks. Does nothing (returns false) for SDKs that
   * trace themselves (>= 0.134) or for anything that is not the SDK.
   */
  patchModule(moduleExports: any): boolean {
    const cls = anthropicClass(moduleExports);
    const proto = cls?.Messages?.prototype;
    if (!proto || typeof proto.create !== 'function') return false;
    if (hasNativeTracing(cls)) return false;
    if (!(proto.create as any).__wrapped) this._wrap(proto, 'create', (original: any) => this._patchedCreate(original));
    if (typeof cls.prototype?.retryRequest === 'function' && !(cls.prototype.retryRequest as any).__wrapped) {
      this._wrap(cls.prototype, 'retryRequest', (original: any) =>
        function retryRequest(this: unknown, ...args: unknown[]) {
          try {
            const span = trace.getSpan(context.active()) as (Span & { instrumentationScope?: { name?: string }; attributes?: Attributes }) | undefined;
            if (span && span.instrumentationScope?.name === ANTHROPIC_SCOPE && span.isRecording()) {
              const previous = span.attributes?.[OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT];
              span.setAttribute(OTHER_ATTRIBUTES.HTTP_REQUEST_RESEND_COUNT, (typeof previous === 'number' ? previous : 0) + 1);
            }
          } catch {
            /* never break the retry */
          }
          return original.apply(this, args);
        },
      );
    }
    return true;
  }

  private _patchedCreate(original: (...args: any[]) => any) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return function create(this: any, ...args: any[]) {
      if (!self.isEnabled()) return original.apply(this, args);
      const params = args[0] ?? {};
      let span: Span;
      const startNow = performance.now();
      try {
        const model = params.model;
        const attributes: Attributes = {
          [GEN_AI.OPERATION_NAME]: 'chat',
          [GEN_AI.PROVIDER_NAME]: 'anthropic',
          ...serverAttributes(this?._client?.baseURL),
        };
        if (typeof model === 'string') attributes[GEN_AI.REQUEST_MODEL] = model;
        if (typeof params.max_tokens === 'number') attributes['gen_ai.request.max_tokens'] = params.max_tokens;
        if (typeof params.temperature === 'number') attributes['gen_ai.request.temperature'] = params.temperature;
        if (typeof params.top_p === 'number') attributes['gen_ai.request.top_p'] = params.top_p;
        if (typeof params.top_k === 'number') attributes['gen_ai.request.top_k'] = params.top_k;
        if (Array.isArray(params.stop_sequences) && params.stop_sequences.length) attributes['gen_ai.request.stop_sequences'] = params.stop_sequences;
        if (params.stream) attributes[GEN_AI.REQUEST_STREAM] = true;
        span = self.tracer.startSpan(typeof model === 'string' ? `chat ${model}` : 'chat', { kind: SpanKind.CLIENT, attributes });
        if (runtimeConfig().captureContent && span.isRecording()) {
          if (params.system !== undefined) span.setAttribute(GEN_AI.SYSTEM_INSTRUCTIONS, JSON.stringify(parts(params.system)));
          if (Array.isArray(params.messages)) {
            span.setAttribute(GEN_AI.INPUT_MESSAGES, JSON.stringify(params.messages.map((m: any) => ({ role: m?.role, parts: parts(m?.content) }))));
          }
        }
      } catch (err) {
        self._diag.debug('could not start anthropic span', err);
        return original.apply(this, args);
      }
      const ctx = trace.setSpan(context.active(), span);
      const apiPromise = context.with(ctx, () => original.apply(this, args));
      const onError = (err: any) => endWithError(span, err, anthropicErrorType(err));
      if (params.stream) {
        apiPromise.then((stream: any) => {
          try {
            self._wrap(stream, 'iterator', (origIterator: any) => () => self._observeStream(origIterator(), span, startNow));
          } catch {
            span.end();
          }
        }, onError);
      } else {
        apiPromise.then((message: any) => self._onMessage(span, message), onError);
      }
      return apiPromise;
    };
  }

  private _onMessage(span: Span, message: any): void {
    try {
      if (typeof message?.id === 'string') span.setAttribute(GEN_AI.RESPONSE_ID, message.id);
      if (typeof message?.model === 'string') span.setAttribute(GEN_AI.RESPONSE_MODEL, message.model);
      if (typeof message?.stop_reason === 'string') span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [message.stop_reason]);
      setUsage(span, message?.usage);
      if (runtimeConfig().captureContent && span.isRecording()) {
        span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify([{ role: 'assistant', parts: parts(message?.content), finish_reason: message?.stop_reason ?? undefined }]));
      }
      span.setStatus({ code: SpanStatusCode.OK });
    } catch (err) {
      this._diag.debug('anthropic result attributes', err);
    }
    span.end();
  }

  private _observeStream(iterator: AsyncIterator<any>, span: Span, startNow: number): AsyncGenerator<any> {
    const capture = runtimeConfig().captureContent && span.isRecording();
    let usage: any = {};
    let stopReason: string | undefined;
    let sawDelta = false;
    const text: string[] = [];
    const observe = (event: any) => {
      switch (event?.type) {
        case 'message_start':
          if (typeof event.message?.id === 'string') span.setAttribute(GEN_AI.RESPONSE_ID, event.message.id);
          if (typeof event.message?.model === 'string') span.setAttribute(GEN_AI.RESPONSE_MODEL, event.message.model);
          usage = { ...event.message?.usage };
          break;
        case 'content_block_delta':
          if (!sawDelta) {
            sawDelta = true;
            span.setAttribute(GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK, (performance.now() - startNow) / 1000);
          }
          if (capture && event.delta?.type === 'text_delta') text.push(event.delta.text ?? '');
          break;
        case 'message_delta':
          if (event.delta?.stop_reason) stopReason = event.delta.stop_reason;
          for (const [k, v] of Object.entries(event.usage ?? {})) if (v != null) usage[k] = v;
          break;
      }
    };
    const onDone = () => {
      setUsage(span, usage);
      if (stopReason) span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [stopReason]);
      if (capture) span.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text.join('') }], finish_reason: stopReason }]));
      span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    };
    return observed(iterator, span, observe, onDone);
  }
}

function anthropicClass(moduleExports: any): any {
  const m = moduleExports?.[Symbol.toStringTag] === 'Module' ? (moduleExports.default ?? moduleExports) : moduleExports;
  return m?.Anthropic ?? m?.default?.Anthropic ?? m;
}

/** True for SDKs that create their own OpenTelemetry spans (>= 0.134: clients have an `openTelemetry` getter). */
function hasNativeTracing(cls: any): boolean {
  for (let p = cls?.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.getOwnPropertyDescriptor(p, 'openTelemetry')) return true;
  }
  return false;
}
