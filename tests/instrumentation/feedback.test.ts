// recordFeedback / recordEvaluation: gen_ai.evaluation.result log events, linked to the trace or response,
// and clear errors (returned, never thrown) for bad input.
import { SeverityNumber } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { configure, currentTraceId, recordEvaluation, recordFeedback, traceRag } from '../../instrumentation/src/index.js';
import { setupPipeline } from './helpers/otel.js';

const pipeline = setupPipeline();
beforeEach(() => {
  pipeline.reset();
  configure({ captureContent: false });
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function onlyLog() {
  const logs = pipeline.logs();
  expect(logs).toHaveLength(1);
  return logs[0]!;
}

describe('recordFeedback', () => {
  it('thumbs up on a trace id: user_feedback event linked to the trace (no span id), with comment, tags, user', () => {
    const r = recordFeedback({ traceId: TRACE, thumbs: 'up', comment: 'Great, mail me at bob@example.com', tags: ['accurate', 'fast'], userId: 'user-1', feedbackId: 'fb-1' });
    expect(r).toEqual({ ok: true, feedbackId: 'fb-1', traceId: TRACE, spanId: undefined, responseId: undefined });
    const log = onlyLog();
    expect(log.eventName).toBe('gen_ai.evaluation.result');
    expect(log.severityNumber).toBe(SeverityNumber.INFO);
    expect(log.spanContext?.traceId).toBe(TRACE);
    expect(log.spanContext?.spanId).toBe(''); // placeholder blanked by RagscopeLogRecordProcessor
    expect(log.attributes).toEqual({
      'event.name': 'gen_ai.evaluation.result',
      'gen_ai.evaluation.name': 'user_feedback',
      'gen_ai.evaluation.score.value': 1,
      'gen_ai.evaluation.score.label': 'up',
      'ragscope.feedback.id': 'fb-1',
      'ragscope.feedback.kind': 'thumbs',
      'ragscope.feedback.comment': 'Great, mail me at [REDACTED_EMAIL]',
      'ragscope.feedback.tags': ['accurate', 'fast'],
      'user.id': 'user-1',
    });
  });

  it('rating on a trace + span, thumbs down, score on a response id', () => {
    expect(recordFeedback({ traceId: TRACE.toUpperCase(), spanId: SPAN, rating: 4 }).ok).toBe(true);
    expect(recordFeedback({ traceId: TRACE, thumbs: false }).ok).toBe(true);
    const r = recordFeedback({ responseId: 'chatcmpl-abc', score: 0.25 });
    expect(r.ok).toBe(true);
    const [rating, down, score] = pipeline.logs();
    expect(rating!.spanContext).toMatchObject({ traceId: TRACE, spanId: SPAN });
    expect(rating!.attributes).toMatchObject({ 'gen_ai.evaluation.score.value': 4, 'gen_ai.evaluation.score.label': '4', 'ragscope.feedback.kind': 'rating' });
    expect(down!.attributes).toMatchObject({ 'gen_ai.evaluation.score.value': 0, 'gen_ai.evaluation.score.label': 'down' });
    expect(score!.spanContext).toBeUndefined();
    expect(score!.attributes).toMatchObject({ 'gen_ai.response.id': 'chatcmpl-abc', 'gen_ai.evaluation.score.value': 0.25, 'ragscope.feedback.kind': 'score' });
    expect(typeof (r.ok && r.feedbackId)).toBe('string');
  });

  it('feedback given inside the request: currentTraceId() targets it, user id from baggage', async () => {
    await traceRag('answer', { userId: 'u-baggage' }, () => {
      const traceId = currentTraceId()!;
      expect(recordFeedback({ traceId, thumbs: 'up' }).ok).toBe(true);
    });
    const log = onlyLog();
    const root = pipeline.spans()[0]!;
    expect(log.spanContext?.traceId).toBe(root.spanContext().traceId);
    expect(log.attributes['user.id']).toBe('u-baggage');
  });

  it.each([
    [{ traceId: TRACE, rating: 7 }, /rating must be an integer from 1 to 5, got 7/],
    [{ traceId: TRACE, rating: 3.5 }, /rating must be an integer/],
    [{ traceId: TRACE, score: 1.5 }, /score must be a number from 0 to 1/],
    [{ traceId: TRACE, thumbs: 'sideways' }, /thumbs must be 'up', 'down', true or false/],
    [{ traceId: TRACE }, /exactly one of thumbs, rating \(1-5\) or score \(0-1\); got none/],
    [{ traceId: TRACE, thumbs: 'up', rating: 5 }, /got thumbs, rating/],
    [{ thumbs: 'up' }, /a target is required: traceId .* or responseId/],
    [{ traceId: 'not-a-trace', thumbs: 'up' }, /traceId must be 32 lowercase hex/],
    [{ traceId: '0'.repeat(32), thumbs: 'up' }, /not all zero/],
    [{ traceId: TRACE, spanId: 'xyz', thumbs: 'up' }, /spanId must be 16 hex/],
    [{ traceId: TRACE, thumbs: 'up', tags: 'x' }, /tags must be an array of strings/],
    [null, /expected an object/],
  ])('rejects %j with a clear error, emits nothing, never throws', (input, message) => {
    const r = recordFeedback(input as never);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(message);
    expect(pipeline.logs()).toHaveLength(0);
  });
});

describe('recordEvaluation', () => {
  it('judge result inside the traced request, linked to the active span', async () => {
    await traceRag('answer', {}, () => {
      expect(recordEvaluation({ name: 'relevance', value: 0.8, label: 'relevant', explanation: 'cites the right doc' }).ok).toBe(true);
    });
    const log = onlyLog();
    const root = pipeline.spans()[0]!;
    expect(log.spanContext).toMatchObject({ traceId: root.spanContext().traceId, spanId: root.spanContext().spanId });
    expect(log.eventName).toBe('gen_ai.evaluation.result');
    expect(log.attributes).toMatchObject({ 'gen_ai.evaluation.name': 'relevance', 'gen_ai.evaluation.score.value': 0.8, 'gen_ai.evaluation.score.label': 'relevant', 'gen_ai.evaluation.explanation': 'cites the right doc' });
  });

  it('prediction-outcome tracking on a response id', () => {
    expect(recordEvaluation({ name: 'ticket_escalation', responseId: 'msg_01', predicted: 'no', actual: 'yes' }).ok).toBe(true);
    expect(onlyLog().attributes).toMatchObject({
      'gen_ai.evaluation.name': 'ticket_escalation',
      'gen_ai.response.id': 'msg_01',
      'ragscope.evaluation.predicted': 'no',
      'ragscope.evaluation.actual': 'yes',
      'gen_ai.evaluation.score.value': 0,
    });
  });

  it('errors: no name, no value/label, no target outside a trace, non-finite value', () => {
    expect(recordEvaluation({ name: '', value: 1, traceId: TRACE })).toMatchObject({ ok: false, error: expect.stringMatching(/name is required/) });
    expect(recordEvaluation({ name: 'x', traceId: TRACE })).toMatchObject({ ok: false, error: expect.stringMatching(/give a value, a label/) });
    expect(recordEvaluation({ name: 'x', value: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/a target is required/) });
    expect(recordEvaluation({ name: 'x', value: Number.NaN, traceId: TRACE })).toMatchObject({ ok: false, error: expect.stringMatching(/finite number/) });
    expect(pipeline.logs()).toHaveLength(0);
  });
});
