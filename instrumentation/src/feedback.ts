// User feedback and automated evaluations, as `gen_ai.evaluation.result` log events over OTLP logs.
//
// Error handling decision: feedback values usually come straight from an HTTP request body (a thumbs
// click, a star rating), so a bad value is bad *data*, not a programming error. recordFeedback and
// recordEvaluation therefore never throw: they return `{ ok: false, error }` with a message saying what
// was wrong (and log it through the OTel diag logger), and `{ ok: true, ... }` once the event is handed to
// the OTLP log pipeline. An app that wants exceptions can `if (!r.ok) throw new Error(r.error)`.

import { context, diag, isSpanContextValid, trace, TraceFlags, type Attributes, type Context, logs, SeverityNumber } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { randomUUID } from 'node:crypto';
import { EVALUATION_EVENT_NAME, GEN_AI, OTHER_ATTRIBUTES, RAGSCOPE_ATTRIBUTES as R, USER_FEEDBACK_EVALUATION_NAME } from './attributes.js';
import { runtimeConfig } from './config.js';
import { getRequestContext, requestContextFromBaggage } from './request-context.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/**
 * Span id put on an event that targets a trace without a span id. The OTel JS logs SDK links a record to a
 * trace only through a valid span context, so a placeholder carries the trace id through `emit()`;
 * RagscopeLogRecordProcessor (first in the pipeline register() builds) blanks it, so the exported record
 * has the trace id and no span id.
 */
export const PLACEHOLDER_SPAN_ID = 'ffffffffffffffff';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const MAX_COMMENT = 4000;
const MAX_TAGS = 32;
const MAX_TAG = 100;

/** Which evaluated request/response the event is about. At least one of traceId / responseId. */
export interface EvaluationTarget {
  /** W3C trace id (32 hex chars), e.g. from currentTraceId() handed to the front end. */
  traceId?: string;
  /** Span id (16 hex chars) of the evaluated span, when known (currentFeedbackTarget()). */
  spanId?: string;
  /** The provider's response id (`gen_ai.response.id`, e.g. `chatcmpl-...`, `msg_...`). */
  responseId?: string;
}

export interface FeedbackInput extends EvaluationTarget {
  /** Thumbs up/down: 'up' | 'down' or true (up) / false (down). Score 1 / 0. */
  thumbs?: 'up' | 'down' | boolean;
  /** Star rating, an integer 1-5. */
  rating?: number;
  /** A score in [0, 1]. */
  score?: number;
  /** Free text. Default redaction (e-mails, phone and card numbers) applies. Truncated at 4000 chars. */
  comment?: string;
  tags?: string[];
  /** Default: `user.id` from the current request context (traceRag), if any. */
  userId?: string;
  /** Resubmitting the same id updates the feedback (latest wins). Default: a random UUID. */
  feedbackId?: string;
  /** When the user gave the feedback. Default: now. */
  timestamp?: Date | number;
  attributes?: Attributes;
}

export interface EvaluationInput extends EvaluationTarget {
  /** `gen_ai.evaluation.name`, e.g. "relevance", "faithfulness", "answer_correct". */
  name: string;
  /** `gen_ai.evaluation.score.value`: a finite number. */
  value?: number;
  /** `gen_ai.evaluation.score.label`, e.g. "relevant". At least one of value / label. */
  label?: string;
  /** Judge explanation (`gen_ai.evaluation.explanation`). */
  explanation?: string;
  /** Prediction-outcome tracking: what the model predicted and what actually happened. */
  predicted?: string;
  actual?: string;
  timestamp?: Date | number;
  attributes?: Attributes;
}

export type RecordResult =
  | { ok: true; feedbackId?: string; traceId?: string; spanId?: string; responseId?: string }
  | { ok: false; error: string };

function fail(error: string): RecordResult {
  diag.warn(`@ragscope/instrumentation: ${error}`);
  return { ok: false, error };
}

const logger = () => logs.getLogger(PACKAGE_NAME, PACKAGE_VERSION);

interface ResolvedTarget {
  ctx: Context;
  traceId?: string;
  spanId?: string;
  responseId?: string;
}

/** Validates the target; with none given, falls back to the active span when `useActive`. */
function resolveTarget(input: EvaluationTarget, useActive: boolean): ResolvedTarget | string {
  const traceId = typeof input.traceId === 'string' ? input.traceId.trim().toLowerCase() : input.traceId;
  const spanId = typeof input.spanId === 'string' ? input.spanId.trim().toLowerCase() : input.spanId;
  const responseId = input.responseId;
  if (traceId !== undefined && (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || /^0+$/.test(traceId))) {
    return `traceId must be 32 lowercase hex characters (not all zero), got ${JSON.stringify(input.traceId)}`;
  }
  if (spanId !== undefined && (typeof spanId !== 'string' || !SPAN_ID.test(spanId) || /^0+$/.test(spanId))) {
    return `spanId must be 16 hex characters (not all zero), got ${JSON.stringify(input.spanId)}`;
  }
  if (spanId !== undefined && traceId === undefined) return 'spanId given without traceId';
  if (responseId !== undefined && (typeof responseId !== 'string' || responseId.trim() === '')) {
    return `responseId must be a non-empty string, got ${JSON.stringify(responseId)}`;
  }
  const root = context.active();
  if (traceId !== undefined) {
    const sc = { traceId, spanId: spanId ?? PLACEHOLDER_SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    return { ctx: trace.setSpanContext(root, sc), traceId, spanId, responseId };
  }
  if (responseId !== undefined) {
    // Linked by response id only: do not attach the caller's unrelated active trace.
    return { ctx: trace.deleteSpan(root), responseId };
  }
  if (useActive) {
    const sc = trace.getSpan(root)?.spanContext();
    if (sc && isSpanContextValid(sc)) return { ctx: root, traceId: sc.traceId, spanId: sc.spanId };
  }
  return 'a target is required: traceId (from currentTraceId()) or responseId';
}

function timestampOf(t: Date | number | undefined): number | Date | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date ? Number.isNaN(t.getTime()) : !Number.isFinite(t)) return undefined;
  return t;
}

function emit(target: ResolvedTarget, attributes: Attributes, timestamp: Date | number | undefined): void {
  if (target.responseId !== undefined) attributes[GEN_AI.RESPONSE_ID] = target.responseId;
  attributes[OTHER_ATTRIBUTES.EVENT_NAME] = EVALUATION_EVENT_NAME;
  logger().emit({
    eventName: EVALUATION_EVENT_NAME,
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    timestamp: timestampOf(timestamp),
    context: target.ctx,
    attributes,
  });
}

function cleanAttributes(extra: Attributes | undefined, into: Attributes): void {
  if (!extra || typeof extra !== 'object') return;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && into[k] === undefined) into[k] = v as Attributes[string];
}

/**
 * Records user feedback on a traced request or a provider response: a `gen_ai.evaluation.result` log event
 * with `gen_ai.evaluation.name = user_feedback`, linked by trace id (and span id if given) and/or
 * `gen_ai.response.id`. Exactly one of thumbs / rating / score. Never throws; see RecordResult.
 */
export function recordFeedback(input: FeedbackInput): RecordResult {
  try {
    if (!input || typeof input !== 'object') return fail('recordFeedback: expected an object');
    const target = resolveTarget(input, false);
    if (typeof target === 'string') return fail(`recordFeedback: ${target}`);
    const given = (['thumbs', 'rating', 'score'] as const).filter((k) => input[k] !== undefined && input[k] !== null);
    if (given.length !== 1) {
      return fail(`recordFeedback: give exactly one of thumbs, rating (1-5) or score (0-1); got ${given.length === 0 ? 'none' : given.join(', ')}`);
    }
    let value: number;
    let label: string;
    const kind = given[0]!;
    if (kind === 'thumbs') {
      const t = input.thumbs;
      if (t === 'up' || t === true) [value, label] = [1, 'up'];
      else if (t === 'down' || t === false) [value, label] = [0, 'down'];
      else return fail(`recordFeedback: thumbs must be 'up', 'down', true or false, got ${JSON.stringify(t)}`);
    } else if (kind === 'rating') {
      const r = input.rating;
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > 5) return fail(`recordFeedback: rating must be an integer from 1 to 5, got ${JSON.stringify(r)}`);
      [value, label] = [r, String(r)];
    } else {
      const s = input.score;
      if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 1) return fail(`recordFeedback: score must be a number from 0 to 1, got ${JSON.stringify(s)}`);
      [value, label] = [s, String(s)];
    }
    if (input.comment !== undefined && typeof input.comment !== 'string') return fail('recordFeedback: comment must be a string');
    if (input.tags !== undefined && (!Array.isArray(input.tags) || input.tags.some((t) => typeof t !== 'string'))) return fail('recordFeedback: tags must be an array of strings');
    if (input.feedbackId !== undefined && (typeof input.feedbackId !== 'string' || input.feedbackId === '')) return fail('recordFeedback: feedbackId must be a non-empty string');

    const feedbackId = input.feedbackId ?? randomUUID();
    const attributes: Attributes = {
      [GEN_AI.EVALUATION_NAME]: USER_FEEDBACK_EVALUATION_NAME,
      [GEN_AI.EVALUATION_SCORE_VALUE]: value,
      [GEN_AI.EVALUATION_SCORE_LABEL]: label,
      [R.FEEDBACK_ID]: feedbackId,
      [R.FEEDBACK_KIND]: kind,
    };
    if (input.comment) attributes[R.FEEDBACK_COMMENT] = runtimeConfig().redactor.text(input.comment.slice(0, MAX_COMMENT), R.FEEDBACK_COMMENT);
    if (input.tags && input.tags.length > 0) attributes[R.FEEDBACK_TAGS] = input.tags.slice(0, MAX_TAGS).map((t) => t.slice(0, MAX_TAG));
    const userId = input.userId ?? currentRequestContextValue(OTHER_ATTRIBUTES.USER_ID);
    if (userId) attributes[OTHER_ATTRIBUTES.USER_ID] = userId;
    cleanAttributes(input.attributes, attributes);
    emit(target, attributes, input.timestamp);
    return { ok: true, feedbackId, traceId: target.traceId, spanId: target.spanId, responseId: target.responseId };
  } catch (err) {
    return fail(`recordFeedback: ${String((err as Error)?.message ?? err)}`);
  }
}

/**
 * Records an automated evaluation (relevance judge, faithfulness check, prediction vs outcome) as a
 * `gen_ai.evaluation.result` log event. Target: traceId/spanId and/or responseId, or by default the active
 * span (evaluate inside the traced request). Never throws; see RecordResult.
 */
export function recordEvaluation(input: EvaluationInput): RecordResult {
  try {
    if (!input || typeof input !== 'object') return fail('recordEvaluation: expected an object');
    if (typeof input.name !== 'string' || input.name.trim() === '') return fail('recordEvaluation: name is required');
    if (input.value !== undefined && (typeof input.value !== 'number' || !Number.isFinite(input.value))) return fail(`recordEvaluation: value must be a finite number, got ${JSON.stringify(input.value)}`);
    if (input.label !== undefined && typeof input.label !== 'string') return fail('recordEvaluation: label must be a string');
    if (input.value === undefined && !input.label && input.predicted === undefined) return fail('recordEvaluation: give a value, a label, or predicted/actual');
    const target = resolveTarget(input, true);
    if (typeof target === 'string') return fail(`recordEvaluation: ${target}`);
    const attributes: Attributes = { [GEN_AI.EVALUATION_NAME]: input.name };
    if (input.value !== undefined) attributes[GEN_AI.EVALUATION_SCORE_VALUE] = input.value;
    if (input.label) attributes[GEN_AI.EVALUATION_SCORE_LABEL] = input.label;
    if (typeof input.explanation === 'string' && input.explanation) attributes[GEN_AI.EVALUATION_EXPLANATION] = input.explanation.slice(0, MAX_COMMENT);
    if (input.predicted !== undefined) attributes[R.EVALUATION_PREDICTED] = String(input.predicted);
    if (input.actual !== undefined) attributes[R.EVALUATION_ACTUAL] = String(input.actual);
    if (input.value === undefined && input.predicted !== undefined && input.actual !== undefined) {
      // Prediction-outcome check without an explicit score: 1 when they match.
      attributes[GEN_AI.EVALUATION_SCORE_VALUE] = String(input.predicted) === String(input.actual) ? 1 : 0;
    }
    cleanAttributes(input.attributes, attributes);
    emit(target, attributes, input.timestamp);
    return { ok: true, traceId: target.traceId, spanId: target.spanId, responseId: target.responseId };
  } catch (err) {
    return fail(`recordEvaluation: ${String((err as Error)?.message ?? err)}`);
  }
}

function currentRequestContextValue(key: string): string | undefined {
  try {
    const ctx = context.active();
    const entries = getRequestContext(ctx) ?? (runtimeConfig().propagateBaggage ? requestContextFromBaggage(ctx) : undefined);
    return entries?.find(([k]) => k === key)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Log record processor that removes the placeholder span id of events that target a trace without a span
 * (see PLACEHOLDER_SPAN_ID). Put it first in the logger provider's processors.
 */
export class RagscopeLogRecordProcessor implements LogRecordProcessor {
  onEmit(record: ReadWriteLogRecord): void {
    try {
      const sc = record.spanContext;
      if (sc && sc.spanId === PLACEHOLDER_SPAN_ID) record.spanContext = { ...sc, spanId: '' };
    } catch {
      /* ignore */
    }
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
