// The request root of a RAG request (traceRag), with the request context every child span carries, and
// the request-level markers (response cache hit, query fingerprint, ids for feedback).

import { context, SpanKind, trace, createContextKey, isSpanContextValid, type Attributes, type Span } from '@opentelemetry/api';
import { GEN_AI, OTHER_ATTRIBUTES, RAGSCOPE_ATTRIBUTES as R } from './attributes.js';
import { runtimeConfig } from './config.js';
import { fingerprintQuery } from './fingerprint.js';
import { simHash64, sketchHex } from './sketch.js';
import { setRequestBaggage, setRequestContext } from './request-context.js';
import { noopSpan, ragTracer, runInSpan, safe } from './span-run.js';

const ROOT_SPAN_KEY = createContextKey('ragscope.request_root');

/** The request context: ids, product feature and experiment arm. Every child span carries these. */
export interface RagContext {
  userId?: string;
  sessionId?: string;
  conversationId?: string;
  /** Product feature, e.g. "support-chat". */
  feature?: string;
  experiment?: string;
  variant?: string;
  /** The user's query: recorded as a fingerprint (hash, length, estimated tokens) and a similarity sketch; as text only with content capture on. */
  query?: string;
  /** The app's topic/category label for the query (`ragscope.query.topic`), e.g. "billing": a label, not the text. */
  topic?: string;
  /** Extra attributes for the root span. */
  attributes?: Attributes;
}

const CONTEXT_FIELDS: [keyof RagContext, string][] = [
  ['userId', OTHER_ATTRIBUTES.USER_ID],
  ['sessionId', OTHER_ATTRIBUTES.SESSION_ID],
  ['conversationId', GEN_AI.CONVERSATION_ID],
  ['feature', R.FEATURE],
  ['experiment', R.EXPERIMENT],
  ['variant', R.VARIANT],
];

/** A handle on a request root span (traceRag's callback argument). */
export interface RagRequest {
  readonly span: Span;
  /** The W3C trace id: hand it to your front end so a later recordFeedback() can target this request. */
  readonly traceId: string;
  readonly spanId: string;
  /** Records the query fingerprint and sketch (and the text, with content capture on). */
  setQuery(query: string): void;
  /** Records the app's topic/category label of the query (`ragscope.query.topic`). */
  setTopic(topic: string): void;
  /** Records the final answer (only with content capture on). */
  setAnswer(answer: string): void;
  /** Marks the request as served from the app's response cache. */
  markCacheHit(hit?: boolean): void;
  setAttributes(attributes: Attributes): void;
}

export function recordQueryOn(span: Span, query: string, textAttribute: string | undefined): void {
  if (typeof query !== 'string' || !span.isRecording()) return;
  const fp = fingerprintQuery(query);
  span.setAttribute(R.QUERY_FINGERPRINT, fp.fingerprint);
  span.setAttribute(R.QUERY_CHARS, fp.chars);
  span.setAttribute(R.QUERY_TOKENS_ESTIMATE, fp.tokensEstimate);
  span.setAttribute(R.QUERY_SKETCH, sketchHex(simHash64(query, runtimeConfig().fingerprintSalt)));
  if (textAttribute !== undefined && runtimeConfig().captureContent) {
    span.setAttribute(
      textAttribute,
      textAttribute === GEN_AI.INPUT_MESSAGES ? JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: query }] }]) : query,
    );
  }
}

/**
 * Traces one RAG request: a root span `invoke_workflow {name}` (`gen_ai.operation.name = invoke_workflow`,
 * `ragscope.rag.stage = request`) around fn, with the request context in ragscope's own context key
 * (in W3C baggage too only with `propagateBaggage`: baggage leaves the process) so that every span
 * started inside (stage helpers, auto-instrumented LLM calls, HTTP calls) carries `user.id`, `session.id`,
 * `gen_ai.conversation.id`, `ragscope.feature`, `ragscope.experiment`, `ragscope.variant` (copied by
 * RagscopeSpanProcessor). Returns what fn returns (a promise stays a promise); errors pass through unchanged.
 */
export function traceRag<T>(name: string, ragContext: RagContext, fn: (request: RagRequest) => T): T {
  let ctx = context.active();
  let span: Span;
  try {
    const attributes: Attributes = {
      [GEN_AI.OPERATION_NAME]: 'invoke_workflow',
      [R.RAG_STAGE]: 'request',
      ...ragContext?.attributes,
    };
    const entries: [string, string][] = [];
    for (const [field, key] of CONTEXT_FIELDS) {
      const value = ragContext?.[field];
      if (typeof value === 'string' && value !== '') {
        entries.push([key, value]);
        attributes[key] = value;
      }
    }
    if (entries.length > 0) {
      ctx = setRequestContext(ctx, Object.freeze(entries));
      if (runtimeConfig().propagateBaggage) ctx = setRequestBaggage(ctx, entries);
    }
    span = ragTracer().startSpan(`invoke_workflow ${name}`, { kind: SpanKind.INTERNAL, attributes }, ctx);
    if (typeof ragContext?.query === 'string') recordQueryOn(span, ragContext.query, GEN_AI.INPUT_MESSAGES);
    if (typeof ragContext?.topic === 'string' && ragContext.topic !== '') span.setAttribute(R.QUERY_TOPIC, ragContext.topic);
    ctx = trace.setSpan(ctx, span).setValue(ROOT_SPAN_KEY, span);
  } catch {
    // Telemetry failed to start: run the app's code untraced.
    return fn(noopRequest);
  }
  const s = span;
  const request: RagRequest = {
    span: s,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    setQuery: (q) => safe(() => recordQueryOn(s, q, GEN_AI.INPUT_MESSAGES)),
    setTopic: (topic) => safe(() => typeof topic === 'string' && topic !== '' && s.setAttribute(R.QUERY_TOPIC, topic)),
    setAnswer: (a) =>
      safe(() => {
        if (runtimeConfig().captureContent && typeof a === 'string') {
          s.setAttribute(GEN_AI.OUTPUT_MESSAGES, JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: a }] }]));
        }
      }),
    markCacheHit: (hit = true) => safe(() => s.setAttribute(R.RESPONSE_CACHE_HIT, hit)),
    setAttributes: (a) => safe(() => s.setAttributes(a)),
  };
  return runInSpan(s, ctx, fn, request);
}

const noopRequest: RagRequest = {
  span: noopSpan,
  traceId: '',
  spanId: '',
  setQuery() {},
  setTopic() {},
  setAnswer() {},
  markCacheHit() {},
  setAttributes() {},
};


function requestSpan(): Span | undefined {
  const ctx = context.active();
  return (ctx.getValue(ROOT_SPAN_KEY) as Span | undefined) ?? trace.getSpan(ctx);
}

/**
 * Marks the current request (the traceRag root, or else the active span) as served from the app's own
 * response cache (`ragscope.response_cache.hit`), so cache hit rate and savings can be measured. Call it
 * with false on a miss to make misses explicit.
 */
export function markResponseCacheHit(hit = true): void {
  safe(() => requestSpan()?.setAttribute(R.RESPONSE_CACHE_HIT, hit));
}

/**
 * Records the query fingerprint (normalized-query hash, length, estimated tokens) on the current request
 * (traceRag root, or the active span); the text only with content capture on. Returns the fingerprint.
 */
export function recordQuery(query: string): ReturnType<typeof fingerprintQuery> {
  const fp = fingerprintQuery(String(query ?? ''));
  safe(() => {
    const span = requestSpan();
    if (span) recordQueryOn(span, String(query ?? ''), GEN_AI.INPUT_MESSAGES);
  });
  return fp;
}

/** The trace id of the active span (32 hex chars), or undefined outside a trace. */
export function currentTraceId(): string | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/**
 * What a front end needs to send feedback on the current request later: the trace id and the span id of
 * the request root (traceRag), or of the active span outside traceRag.
 */
export function currentFeedbackTarget(): { traceId: string; spanId: string } | undefined {
  const span = requestSpan();
  const sc = span?.spanContext();
  return sc && isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
}
