// Rows for the `feedback` and `evaluations` tables (clickhouse/migrations/0008_feedback_evaluations.sql).
// Column names are the ClickHouse column names (JSONEachRow inserts through the write queue).

export type FeedbackKind = 'thumbs' | 'rating' | 'score';
export type FeedbackSource = 'api' | 'otlp';

/** The evaluation name that marks user feedback (docs/conventions.md). */
export const USER_FEEDBACK_NAME = 'user_feedback';
export const EVALUATION_EVENT_NAME = 'gen_ai.evaluation.result';

export interface FeedbackInput {
  tenant: string;
  feedbackId: string;
  /** Orders versions of one feedback id: the highest wins. Nanoseconds (event time or receive time). */
  version: bigint;
  /** When this version was given, ms since epoch. */
  timeMs: number;
  source: FeedbackSource;
  kind: FeedbackKind;
  /** thumbs: 'up' | 'down'; rating: 1-5; score: 0..1 */
  thumbs: 'up' | 'down' | null;
  rating: number | null;
  score: number | null;
  label: string;
  comment: string;
  tags: string[];
  userId: string;
  traceId: string;
  spanId: string;
  responseId: string;
  serviceName: string;
}

/** gen_ai.evaluation.score.value semantics: thumbs up 1 / down 0, rating 1-5, score 0..1. */
export function feedbackValue(f: Pick<FeedbackInput, 'kind' | 'thumbs' | 'rating' | 'score'>): number | null {
  if (f.kind === 'thumbs') return f.thumbs === null ? null : f.thumbs === 'up' ? 1 : 0;
  if (f.kind === 'rating') return f.rating;
  return f.score;
}

/** Every kind on one 0..1 scale: thumbs 1/0, rating (r - 1) / 4, score as is. */
export function normalizedScore(f: Pick<FeedbackInput, 'kind' | 'thumbs' | 'rating' | 'score'>): number | null {
  if (f.kind === 'thumbs') return f.thumbs === null ? null : f.thumbs === 'up' ? 1 : 0;
  if (f.kind === 'rating') return f.rating === null ? null : (f.rating - 1) / 4;
  return f.score;
}

function msToDateTime64(ms: number): string {
  // DateTime64(3, 'UTC') accepts 'YYYY-MM-DD hh:mm:ss.sss'
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function toFeedbackRow(f: FeedbackInput): Record<string, unknown> {
  return {
    TenantId: f.tenant,
    FeedbackId: f.feedbackId,
    Version: f.version.toString(),
    Timestamp: msToDateTime64(f.timeMs),
    Source: f.source,
    Name: USER_FEEDBACK_NAME,
    Kind: f.kind,
    Thumbs: f.thumbs ?? '',
    Rating: f.rating,
    Value: feedbackValue(f),
    NormalizedScore: normalizedScore(f),
    Label: f.label,
    Comment: f.comment,
    Tags: f.tags,
    UserId: f.userId,
    TraceId: f.traceId,
    SpanId: f.spanId,
    ResponseId: f.responseId,
    ServiceName: f.serviceName,
  };
}

export interface EvaluationInput {
  tenant: string;
  evaluationId: string;
  timeUnixNano: bigint;
  name: string;
  value: number | null;
  label: string;
  explanation: string;
  predicted: string;
  actual: string;
  model: string;
  evaluator: string;
  traceId: string;
  spanId: string;
  responseId: string;
  serviceName: string;
}

export function toEvaluationRow(e: EvaluationInput): Record<string, unknown> {
  return {
    TenantId: e.tenant,
    EvaluationId: e.evaluationId,
    Timestamp: e.timeUnixNano.toString(),
    Name: e.name,
    Value: e.value,
    Label: e.label,
    Explanation: e.explanation,
    Predicted: e.predicted,
    Actual: e.actual,
    Model: e.model,
    Evaluator: e.evaluator,
    TraceId: e.traceId,
    SpanId: e.spanId,
    ResponseId: e.responseId,
    ServiceName: e.serviceName,
  };
}

let sequence = 0;

/**
 * Version of an API submission: the time it was given (ms, client-supplied `timestamp` or receive time) in
 * nanoseconds, plus a per-process sequence in the sub-millisecond digits so two submissions within the
 * same millisecond still order by arrival. A later-given version wins, whatever order requests arrive in.
 */
export function nextApiVersion(timeMs: number = Date.now()): bigint {
  sequence = (sequence + 1) % 1_000_000;
  return BigInt(Math.trunc(timeMs)) * 1_000_000n + BigInt(sequence);
}
