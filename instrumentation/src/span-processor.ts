import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { CONTENT_ATTRIBUTES, GEN_AI } from './attributes.js';
import { runtimeConfig } from './config.js';
import { OPENAI_SCOPE } from './openai.js';
import { getRequestContext, requestContextFromBaggage } from './request-context.js';

/** The instrumentation scope of the Anthropic SDK's own spans (@anthropic-ai/sdk >= 0.134). */
export const ANTHROPIC_SDK_SCOPE = 'com.anthropic.sdk.typescript';

type MutableAttributes = Record<string, unknown>;

/**
 * ragscope's span processor. Add it to any tracer provider (register() does) before the exporting
 * processor:
 *
 * - onStart: stamps the request context of traceRag (`user.id`, `session.id`, `gen_ai.conversation.id`,
 *   `ragscope.feature`, `ragscope.experiment`, `ragscope.variant`), kept in ragscope's own context key,
 *   on every span, so auto-instrumented LLM and HTTP spans carry them too. An attribute the span already
 *   has wins. With `propagateBaggage` on, the same keys are also read from incoming W3C baggage.
 * - onEnding (before any exporter sees the span): enforces the content policy on every span (content
 *   attributes are removed when capture is off, redacted when on) and normalizes the Anthropic SDK's
 *   own spans to the names ragscope emits (see normalizeAnthropicSpan).
 */
export class RagscopeSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    try {
      const entries = getRequestContext(parentContext) ?? (runtimeConfig().propagateBaggage ? requestContextFromBaggage(parentContext) : undefined);
      if (entries === undefined) return;
      const attrs = span.attributes as MutableAttributes;
      for (const [key, value] of entries) if (attrs[key] === undefined) span.setAttribute(key, value);
    } catch {
      /* telemetry never throws into the app */
    }
  }

  onEnding(span: Span): void {
    try {
      const scope = span.instrumentationScope.name;
      // ragscope's own OpenAI spans carry content only when capture is on: nothing to remove otherwise.
      if (scope === OPENAI_SCOPE && !runtimeConfig().captureContent) return;
      if (scope.startsWith(ANTHROPIC_SDK_SCOPE)) normalizeAnthropicSpan(span);
      applyContentPolicy(span);
    } catch {
      /* ignore */
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Removes (capture off) or redacts (capture on) the content attributes of a span that is ending. */
export function applyContentPolicy(span: Span): void {
  const attrs = span.attributes as MutableAttributes;
  const { captureContent, redactor } = runtimeConfig();
  for (const key of CONTENT_ATTRIBUTES) {
    const value = attrs[key];
    if (value === undefined) continue;
    if (captureContent) span.setAttribute(key, redactor.value(value, key) as string);
    else delete attrs[key];
  }
  const docs = attrs[GEN_AI.RETRIEVAL_DOCUMENTS];
  if (captureContent && typeof docs === 'string' && docs.includes('"content"')) {
    span.setAttribute(GEN_AI.RETRIEVAL_DOCUMENTS, redactor.value(docs, GEN_AI.RETRIEVAL_DOCUMENTS) as string);
  }
}

/**
 * The Anthropic SDK (>= 0.134) traces its own calls (we use that rather than patching it: see
 * anthropic.ts). Its `messages.create` span follows the GenAI conventions with three differences this
 * fixes up, in place, before export:
 * - the span is named `anthropic.messages.create`: renamed `chat {model}` like every other inference span;
 * - cache writes are `gen_ai.usage.cache_write.input_tokens` (the newest name): also written as
 *   `gen_ai.usage.cache_creation.input_tokens`, the name the processor and semconv 1.41 use;
 * - the stop reason is `anthropic.message.stop_reason`: also written as `gen_ai.response.finish_reasons`.
 * Its `gen_ai.usage.input_tokens` already includes cache reads and writes (OTel semantics).
 */
export function normalizeAnthropicSpan(span: Span): void {
  const attrs = span.attributes as MutableAttributes;
  if (attrs[GEN_AI.OPERATION_NAME] !== 'chat') return;
  const model = attrs[GEN_AI.REQUEST_MODEL] ?? attrs[GEN_AI.RESPONSE_MODEL];
  if (span.name === 'anthropic.messages.create' && typeof model === 'string') span.updateName(`chat ${model}`);
  const write = attrs[GEN_AI.USAGE_CACHE_WRITE_INPUT_TOKENS];
  if (typeof write === 'number' && attrs[GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS] === undefined) {
    span.setAttribute(GEN_AI.USAGE_CACHE_CREATION_INPUT_TOKENS, write);
  }
  const stop = attrs['anthropic.message.stop_reason'];
  if (typeof stop === 'string' && attrs[GEN_AI.RESPONSE_FINISH_REASONS] === undefined) {
    span.setAttribute(GEN_AI.RESPONSE_FINISH_REASONS, [stop]);
  }
}
