// The request context (user, session, conversation, feature, experiment, variant) of a traceRag request.
//
// It lives in a context key of ragscope's own, not in W3C baggage: baggage is what propagators put on the
// wire, so with the default propagators any HTTP instrumentation of the app (undici, http) would send the
// user and session ids to the LLM provider with every request. A context key never leaves the process.
// RagscopeSpanProcessor stamps these values on every span started under the request. Baggage is written
// too only when the app opts in (`propagateBaggage`), for a request context that must reach downstream
// services.

import { createContextKey, propagation, type Context } from '@opentelemetry/api';
import { CONTEXT_BAGGAGE_KEYS } from './attributes.js';

/** Attribute name → value pairs, ready to stamp on spans. Frozen and shared by every span of the request. */
export type RequestContextEntries = readonly (readonly [string, string])[];

const REQUEST_CONTEXT_KEY = createContextKey('@ragscope/instrumentation request context');

export function getRequestContext(ctx: Context): RequestContextEntries | undefined {
  return ctx.getValue(REQUEST_CONTEXT_KEY) as RequestContextEntries | undefined;
}

/** ctx with `entries` merged over the request context it already carries (a nested traceRag inherits). */
export function setRequestContext(ctx: Context, entries: RequestContextEntries): Context {
  const parent = getRequestContext(ctx);
  if (parent === undefined || parent.length === 0) return ctx.setValue(REQUEST_CONTEXT_KEY, entries);
  const merged = new Map<string, string>(parent as [string, string][]);
  for (const [k, v] of entries) merged.set(k, v);
  return ctx.setValue(REQUEST_CONTEXT_KEY, Object.freeze([...merged]));
}

/** ctx with the entries also in W3C baggage (opt-in: baggage leaves the process with every propagated request). */
export function setRequestBaggage(ctx: Context, entries: RequestContextEntries): Context {
  let baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  for (const [key, value] of entries) baggage = baggage.setEntry(key, { value });
  return propagation.setBaggage(ctx, baggage);
}

/** The request-context entries found in baggage (an upstream service that propagates them, opt-in). */
export function requestContextFromBaggage(ctx: Context): RequestContextEntries | undefined {
  const baggage = propagation.getBaggage(ctx);
  if (baggage === undefined) return undefined;
  const out: [string, string][] = [];
  for (const key of CONTEXT_BAGGAGE_KEYS) {
    const entry = baggage.getEntry(key);
    if (entry !== undefined && entry.value !== '') out.push([key, entry.value]);
  }
  return out;
}
