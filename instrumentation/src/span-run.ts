// What the RAG helpers share: their tracer, running a callback inside a span (sync or async) and ending
// the span however the callback ends, and the never-throw guard.

import { context, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTHER_ATTRIBUTES } from './attributes.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const sdkTracer = trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
let ownTracer: Tracer | undefined;

/** The RAG helpers' tracer: register()'s own tracer (own-tracer.ts) over the provider it started, else the SDK's. */
export function ragTracer(): Tracer {
  return ownTracer ?? sdkTracer;
}

/** Makes the RAG helpers' spans with `tracer` (register() does, when it started the provider); undefined: the SDK's. */
export function useOwnRagTracer(tracer: Tracer | undefined): void {
  ownTracer = tracer;
}

/** A non-recording span for handles created when telemetry failed to start. */
export const noopSpan = trace.wrapSpanContext({ traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 });

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';
}

function endWithError(span: Span, err: unknown): void {
  try {
    const e = err as { name?: unknown; constructor?: { name?: unknown }; message?: unknown } | undefined;
    const type = (typeof e?.constructor?.name === 'string' && e.constructor.name !== 'Object' ? e.constructor.name : undefined) ?? (typeof e?.name === 'string' ? e.name : 'Error');
    span.setAttribute(OTHER_ATTRIBUTES.ERROR_TYPE, type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message.slice(0, 256) : undefined });
    span.end();
  } catch {
    /* never throw from telemetry */
  }
}

/** Runs fn inside ctx and ends span when fn returns or its promise settles; rethrows fn's errors unchanged. */
export function runInSpan<A, T>(span: Span, ctx: Context, fn: (arg: A) => T, arg: A): T {
  let result: T;
  try {
    result = context.with(ctx, fn, undefined, arg);
  } catch (err) {
    endWithError(span, err);
    throw err;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (v) => {
        span.end();
        return v;
      },
      (err: unknown) => {
        endWithError(span, err);
        throw err;
      },
    ) as T;
  }
  span.end();
  return result;
}

export function safe(f: () => void): void {
  try {
    f();
  } catch {
    /* ignore */
  }
}
