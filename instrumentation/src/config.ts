// Runtime settings shared by the instrumentations, the span processor and the helpers.
// Set once by register() (or by the app via configure()); read on the hot path without allocation.

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
}

export interface RuntimeConfig {
  captureContent: boolean;
  redactor: Redactor;
  fingerprintSalt: string;
}

export function captureContentFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase();
  return v === 'true' || v === '1' || v === 'span_only' || v === 'span_and_event';
}

function build(options: ContentOptions = {}): RuntimeConfig {
  return {
    captureContent: options.captureContent ?? captureContentFromEnv(),
    redactor: new Redactor(options.redact, options.defaultRedaction ?? true),
    fingerprintSalt: options.fingerprintSalt ?? process.env.RAGSCOPE_FINGERPRINT_SALT ?? '',
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
