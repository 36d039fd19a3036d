export { feedbackRoute, validateFeedback, feedbackInputFrom, feedbackSchema, FIELD_MESSAGES, type FeedbackRouteDeps } from './route.js';
export { evaluationEventRows, isEvaluationEvent, inferFeedbackKind, type EvaluationEventRows } from './log-events.js';
export {
  toFeedbackRow,
  toEvaluationRow,
  feedbackValue,
  normalizedScore,
  nextApiVersion,
  USER_FEEDBACK_NAME,
  EVALUATION_EVENT_NAME,
  type FeedbackInput,
  type EvaluationInput,
  type FeedbackKind,
  type FeedbackSource,
} from './rows.js';
export { traceIdForResponse, traceIdsForResponses } from './resolve.js';
export { ResponseTraceCache } from './response-cache.js';
