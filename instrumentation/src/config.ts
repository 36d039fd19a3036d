// Runtime settings shared by the instrumentations, the span processor and the helpers.
// Set once by register() (or by the app via configure()); read on the hot path without allocation.

import { diag } from '@opentelemetry/api';
import { Redactor, type RedactFn } from './redaction.js';

export interface ContentOptions {
  /**
   * Capture prompts, completions, retrieved text and queries. Default: from
   * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (`true`, `SPAN_ONLY`, `SPAN_AND_EVENT` turn it on),
   * otherwise off.
   */
  captureContent?: boolean;
  /** Called on every captured text after the default redaction. */
  redact?: RedactFn;
  /** Redact e-mails, phone and card numbers (default true). */
  defaultRedaction?: boolean;
  /**
   * Salt for the query fingerprint hash. Default: `RAGSCOPE_FINGERPRINT_SALT`, or none. A salt makes the
   * fingerprint useless to anyone holding a dictionary of likely questions, at the cost of fingerprints
   * being comparable only between processes that share it.
   */
  fingerprintSalt?: string;
  /**
   * Also put the request context of traceRag (user, session, conversation, feature, experiment, variant)
   * into W3C baggage. Default: `RAGSCOPE_PROPAGATE_BAGGAGE=true`, otherwise off. Baggage LEAVES the process:
   * every propagating HTTP client (OTel undici/http instrumentation with the default propagators) sends it
   * in a `baggage` header, to your services and to the LLM provider alike. Off, the context stays in a
   * context key of ragscope's own and is only stamped on spans.
   */
  propagateBaggage?: boolean;
}

export interface RuntimeConfig {
  captureContent: boolean;
  redactor: Redactor;
  fingerprintSalt: string;
  propagateBaggage: boolean;
}

export function captureContentFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase();
  return v === 'true' || v === '1' || v === 'span_only' || v === 'span_and_event';
}

export function propagateBaggageFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.RAGSCOPE_PROPAGATE_BAGGAGE?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  diag.warn(`@ragscope/instrumentation: RAGSCOPE_PROPAGATE_BAGGAGE must be true or false, got "${env.RAGSCOPE_PROPAGATE_BAGGAGE}"; baggage stays off`);
  return false;
}

function build(options: ContentOptions = {}): RuntimeConfig {
  return {
    captureContent: options.captureContent ?? captureContentFromEnv(),
    redactor: new Redactor(options.redact, options.defaultRedaction ?? true),
    fingerprintSalt: options.fingerprintSalt ?? process.env.RAGSCOPE_FINGERPRINT_SALT ?? '',
    propagateBaggage: options.propagateBaggage ?? propagateBaggageFromEnv(),
  };
}

let current: RuntimeConfig = build();

/** The current settings. */
export function runtimeConfig(): RuntimeConfig {
  return current;
}

/**
 * Sets the content and redaction settings (register() calls this with its options). Call it yourself when
 * you wire ragscope's instrumentations into your own NodeSDK and want other than the environment's settings.
 */
export function configure(options: ContentOptions = {}): RuntimeConfig {
  current = build(options);
  return current;
}
