// Shared helpers for wrapped provider calls.

/* eslint-disable @typescript-eslint/no-explicit-any */

import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { OTHER_ATTRIBUTES } from './attributes.js';

/** `error.type` of a provider SDK error: its class name (RateLimitError, APIConnectionError...). */
export function errorType(err: any): string {
  return err?.constructor?.name && err.constructor.name !== 'Object' ? String(err.constructor.name) : 'Error';
}

/** Records the error on the span and ends it. Never throws. */
export function endWithError(span: Span, err: any, type: string = errorType(err)): void {
  try {
    span.setAttribute(OTHER_ATTRIBUTES.ERROR_TYPE, type);
    if (typeof err?.status === 'number') span.setAttribute(OTHER_ATTRIBUTES.HTTP_RESPONSE_STATUS_CODE, err.status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err?.message ?? err).slice(0, 512) });
    span.end();
  } catch {
    /* never throw into the app */
  }
}

/**
 * Passes the items of `source` through unchanged, calling `observe` on each (errors in observers are
 * swallowed), and makes sure the span ends however the read ends: the official iterator ends the span only
 * when the stream completes. A stream that throws ends the span with the error; a stream the app stops
 * reading early (`break`, `return()`) ends it without an error status.
 */
export async function* observed(
  source: AsyncIterator<any>,
  span: Span,
  observe: (item: any) => void,
  onDone: (() => void) | undefined,
  /** Attributes gathered so far: set on the span when the stream fails or is abandoned (onDone sets them otherwise). */
  gathered?: Attributes,
): AsyncGenerator<any> {
  let completed = false;
  let failed = false;
  try {
    while (true) {
      let r: IteratorResult<any>;
      try {
        r = await source.next();
      } catch (err) {
        failed = true;
        if (gathered !== undefined) trySetAttributes(span, gathered);
        endWithError(span, err);
        throw err;
      }
      if (r.done) break;
      try {
        observe(r.value);
      } catch {
        /* never break the app's stream */
      }
      yield r.value;
    }
    completed = true;
    try {
      onDone?.();
    } catch {
      /* ignore */
    }
  } finally {
    if (!completed && !failed) {
      // The app stopped reading: close the source and end the span (the official code would not).
      try {
        await source.return?.();
      } catch {
        /* ignore */
      }
      try {
        if (gathered !== undefined) trySetAttributes(span, gathered);
        if (span.isRecording()) span.end();
      } catch {
        /* ignore */
      }
    }
  }
}

function trySetAttributes(span: Span, attributes: Attributes): void {
  try {
    if (span.isRecording()) span.setAttributes(attributes);
  } catch {
    /* ignore */
  }
}
