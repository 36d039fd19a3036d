// OTLP log records carrying `gen_ai.evaluation.result` events → feedback / evaluations rows.
// Name `user_feedback` is user feedback (latest version per feedback id wins); any other name is an
// automated evaluation. The log record still lands in otel_logs as well (pipeline.processLogs).
import { createHash } from 'node:crypto';
import type { AttrValue, Attributes, DecodedLogRecord } from '../model.js';
import { toFloat, toStr, toStrList } from '../normalize/values.js';
import { serviceNameOf } from '../store/rows.js';
import {
  EVALUATION_EVENT_NAME,
  USER_FEEDBACK_NAME,
  toEvaluationRow,
  toFeedbackRow,
  type FeedbackInput,
  type FeedbackKind,
} from './rows.js';

export interface EvaluationEventRows {
  feedback?: Record<string, unknown>[];
  evaluations?: Record<string, unknown>[];
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const MAX_COMMENT = 2000;
const MAX_TAGS = 32;
const MAX_TEXT = 64 * 1024;

export function isEvaluationEvent(log: DecodedLogRecord): boolean {
  return log.eventName === EVALUATION_EVENT_NAME || log.attributes['event.name'] === EVALUATION_EVENT_NAME;
}

/** Attributes, with a map body as fallback (some SDKs put an event's payload in the body). */
function eventAttributes(log: DecodedLogRecord): Attributes {
  const body = log.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    return { ...(body as Record<string, AttrValue>), ...log.attributes };
  }
  return log.attributes;
}

function idOrEmpty(id: string, re: RegExp): string {
  const lower = id.toLowerCase();
  return re.test(lower) && !/^0+$/.test(lower) ? lower : '';
}

function digest(parts: (string | number | null)[]): string {
  return createHash('sha256').update(parts.map((p) => (p === null ? '' : String(p))).join('\u001f')).digest('hex').slice(0, 32);
}

function eventTimeNano(log: DecodedLogRecord, nowMs: number): bigint {
  if (log.timeUnixNano !== 0n) return log.timeUnixNano;
  if (log.observedTimeUnixNano !== 0n) return log.observedTimeUnixNano;
  return BigInt(nowMs) * 1_000_000n;
}

/** Infers thumbs / rating / score from kind, label and value when `ragscope.feedback.kind` is absent. */
export function inferFeedbackKind(kindAttr: string, label: string, value: number | null): FeedbackKind {
  const k = kindAttr.toLowerCase();
  if (k === 'thumbs' || k === 'rating' || k === 'score') return k;
  const l = label.toLowerCase();
  if (l === 'up' || l === 'down' || l === 'thumbs_up' || l === 'thumbs_down') return 'thumbs';
  if (value !== null && Number.isInteger(value) && value >= 1 && value <= 5 && (label === '' || label === String(value))) {
    return value === 1 && label === '' ? 'score' : 'rating';
  }
  return 'score';
}

/**
 * Feedback and evaluation rows for the evaluation events among `logs` (other records are ignored).
 * `traceOfResponse` links events that carry a response id but no trace context to the response's trace.
 */
export function evaluationEventRows(
  logs: readonly DecodedLogRecord[],
  tenant: string,
  traceOfResponse?: (responseId: string) => string | undefined,
  nowMs: number = Date.now(),
): EvaluationEventRows {
  let feedback: Record<string, unknown>[] | undefined;
  let evaluations: Record<string, unknown>[] | undefined;
  for (const log of logs) {
    if (!isEvaluationEvent(log)) continue;
    const a = eventAttributes(log);
    const name = toStr(a['gen_ai.evaluation.name']).trim();
    if (name === '') continue; // required by the convention: without it the event means nothing here
    const spanId = idOrEmpty(log.spanId, HEX16);
    const responseId = toStr(a['gen_ai.response.id']).slice(0, 512);
    // Derived ids use the trace id as sent, so a retried event gets the same id whether or not it was linked.
    const sentTraceId = idOrEmpty(log.traceId, HEX32);
    let traceId = sentTraceId;
    if (traceId === '' && responseId !== '' && traceOfResponse) traceId = traceOfResponse(responseId) ?? '';
    const value = toFloat(a['gen_ai.evaluation.score.value']);
    const label = toStr(a['gen_ai.evaluation.score.label']).slice(0, 256);
    const time = eventTimeNano(log, nowMs);
    const serviceName = serviceNameOf(log.origin);

    if (name === USER_FEEDBACK_NAME) {
      const kind = inferFeedbackKind(toStr(a['ragscope.feedback.kind']), label, value);
      const userId = toStr(a['user.id']).slice(0, 256);
      let thumbs: 'up' | 'down' | null = null;
      let rating: number | null = null;
      let score: number | null = null;
      if (kind === 'thumbs') {
        const l = label.toLowerCase();
        if (l === 'up' || l === 'thumbs_up') thumbs = 'up';
        else if (l === 'down' || l === 'thumbs_down') thumbs = 'down';
        else if (value !== null) thumbs = value >= 0.5 ? 'up' : 'down';
      } else if (kind === 'rating') {
        const r = value ?? (label !== '' ? Number(label) : NaN);
        rating = Number.isInteger(r) && r >= 1 && r <= 5 ? r : null;
      } else {
        score = value !== null && value >= 0 && value <= 1 ? value : null;
      }
      const feedbackId =
        toStr(a['ragscope.feedback.id']).slice(0, 128) ||
        `otlp-${digest([sentTraceId, spanId, responseId, userId, time.toString(), value, label])}`;
      const input: FeedbackInput = {
        tenant,
        feedbackId,
        version: time,
        timeMs: Number(time / 1_000_000n),
        source: 'otlp',
        kind,
        thumbs,
        rating,
        score,
        label,
        comment: toStr(a['ragscope.feedback.comment']).slice(0, MAX_COMMENT),
        tags: toStrList(a['ragscope.feedback.tags']).slice(0, MAX_TAGS),
        userId,
        traceId,
        spanId,
        responseId,
        serviceName,
      };
      (feedback ??= []).push(toFeedbackRow(input));
    } else {
      const model = toStr(a['gen_ai.response.model']) || toStr(a['gen_ai.request.model']);
      const explanation = toStr(a['gen_ai.evaluation.explanation']).slice(0, MAX_TEXT);
      const predicted = toStr(a['ragscope.evaluation.predicted']).slice(0, 256);
      const actual = toStr(a['ragscope.evaluation.actual']).slice(0, 256);
      const evaluationId =
        toStr(a['ragscope.evaluation.id']).slice(0, 128) ||
        digest([sentTraceId, spanId, responseId, name, time.toString(), value, label, predicted, actual]);
      (evaluations ??= []).push(
        toEvaluationRow({
          tenant,
          evaluationId,
          timeUnixNano: time,
          name: name.slice(0, 256),
          value,
          label,
          explanation,
          predicted,
          actual,
          model,
          evaluator: log.origin.scope.name,
          traceId,
          spanId,
          responseId,
          serviceName,
        }),
      );
    }
  }
  const rows: EvaluationEventRows = {};
  if (feedback) rows.feedback = feedback;
  if (evaluations) rows.evaluations = evaluations;
  return rows;
}
