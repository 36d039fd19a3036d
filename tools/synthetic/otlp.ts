// Synthetic records → OTLP: protobuf request bodies through the OpenTelemetry JS serializers
// (@opentelemetry/otlp-transformer, the code the SDK exporters run), the JSON bodies of POST /v1/feedback,
// and the processor's own decoded shapes (DecodedSpan / DecodedLogRecord) for the direct-to-store mode.
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { DecodedLogRecord, DecodedSpan, SpanOrigin } from '../../processor/src/model.js';
import type { SynthAttributes, SynthEvaluation, SynthFeedback, SynthFeedbackVersion, SynthRequest, SynthSpan } from './model.js';

type ReadableSpanArg = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];
type ReadableLogArg = Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0][number];

export const APP_SCOPE = { name: '@ragscope/instrumentation', version: '0.1.0' };
export const LLM_SCOPE = { name: '@opentelemetry/instrumentation-genai', version: '0.5.0' };
export const EVAL_SCOPE = { name: 'ragscope-evaluator', version: '0.1.0' };

export const EVALUATION_EVENT = 'gen_ai.evaluation.result';

export function resourceAttributes(service: string, environment: string): SynthAttributes {
  return {
    'service.name': service,
    'service.version': '1.4.2',
    'deployment.environment.name': environment,
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
  };
}

// Shared objects per resource/scope: the serializers group spans by identity.
const resources = new Map<string, { attributes: SynthAttributes }>();
function resourceFor(service: string, environment: string): { attributes: SynthAttributes } {
  const key = `${service}\u0000${environment}`;
  let r = resources.get(key);
  if (!r) {
    r = { attributes: resourceAttributes(service, environment) };
    resources.set(key, r);
  }
  return r;
}

function hrTime(ns: bigint): [number, number] {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

export interface SpanWithRequest {
  span: SynthSpan;
  request: SynthRequest;
}

function readableSpan({ span, request }: SpanWithRequest): ReadableSpanArg {
  const scope = span.scope === 'app' ? APP_SCOPE : LLM_SCOPE;
  const ctx = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
  const readable = {
    name: span.name,
    kind: span.kind - 1, // API SpanKind is OTLP's minus one
    spanContext: () => ctx,
    parentSpanContext: span.parentSpanId ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hrTime(span.startNs),
    endTime: hrTime(span.endNs),
    status: { code: span.statusCode, message: span.statusMessage || undefined },
    attributes: span.attributes,
    links: [],
    events: span.events.map((e) => ({ name: e.name, time: hrTime(e.timeNs), attributes: e.attributes })),
    duration: hrTime(span.endNs - span.startNs),
    ended: true,
    resource: resourceFor(request.service, request.environment),
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  return readable as unknown as ReadableSpanArg;
}

/** ExportTraceServiceRequest protobuf bytes for these spans. */
export function encodeTraces(spans: readonly SpanWithRequest[]): Uint8Array<ArrayBuffer> {
  const body = ProtobufTraceSerializer.serializeRequest(spans.map(readableSpan));
  if (!body) throw new Error('trace serializer returned nothing');
  return body as Uint8Array<ArrayBuffer>;
}

/** A log record (OTLP) for the generator: attributes, time, trace context, resource. */
export interface SynthLogRecord {
  timeMs: number;
  traceId: string;
  spanId: string;
  service: string;
  environment: string;
  attributes: SynthAttributes;
  scope: { name: string; version: string };
}

function feedbackAttributes(fb: SynthFeedback, v: SynthFeedbackVersion): SynthAttributes {
  const a: SynthAttributes = {
    'event.name': EVALUATION_EVENT,
    'gen_ai.evaluation.name': 'user_feedback',
    'ragscope.feedback.kind': v.kind,
  };
  if (v.kind === 'thumbs') {
    a['gen_ai.evaluation.score.value'] = v.thumbs === 'up' ? 1 : 0;
    a['gen_ai.evaluation.score.label'] = v.thumbs!;
  } else if (v.kind === 'rating') {
    a['gen_ai.evaluation.score.value'] = v.rating!;
    a['gen_ai.evaluation.score.label'] = String(v.rating);
  } else {
    a['gen_ai.evaluation.score.value'] = v.score!;
  }
  if (fb.feedbackId) a['ragscope.feedback.id'] = fb.feedbackId;
  if (v.comment) a['ragscope.feedback.comment'] = v.comment;
  if (v.tags.length) a['ragscope.feedback.tags'] = v.tags;
  if (fb.userId) a['user.id'] = fb.userId;
  if (fb.linkBy === 'response') a['gen_ai.response.id'] = fb.responseId;
  return a;
}

/** OTLP log records for feedback sent over OTLP (one per version). */
export function feedbackLogRecords(feedback: readonly SynthFeedback[], environmentOf: (traceId: string) => string): SynthLogRecord[] {
  const out: SynthLogRecord[] = [];
  for (const fb of feedback) {
    if (fb.channel !== 'otlp') continue;
    for (const v of fb.versions) {
      out.push({
        timeMs: v.timeMs,
        traceId: fb.linkBy === 'trace' ? fb.requestTraceId : '',
        spanId: fb.linkBy === 'trace' ? fb.spanId : '',
        service: fb.service,
        environment: environmentOf(fb.requestTraceId),
        attributes: feedbackAttributes(fb, v),
        scope: APP_SCOPE,
      });
    }
  }
  return out;
}

export function evaluationLogRecords(evaluations: readonly SynthEvaluation[], environmentOf: (traceId: string) => string): SynthLogRecord[] {
  return evaluations.map((e) => {
    const a: SynthAttributes = {
      'event.name': EVALUATION_EVENT,
      'gen_ai.evaluation.name': e.name,
      'gen_ai.response.id': e.responseId,
      'gen_ai.response.model': e.model,
    };
    if (e.value !== null) a['gen_ai.evaluation.score.value'] = e.value;
    if (e.label) a['gen_ai.evaluation.score.label'] = e.label;
    if (e.explanation) a['gen_ai.evaluation.explanation'] = e.explanation;
    if (e.predicted) a['ragscope.evaluation.predicted'] = e.predicted;
    if (e.actual) a['ragscope.evaluation.actual'] = e.actual;
    if (e.evaluationId) a['ragscope.evaluation.id'] = e.evaluationId;
    return { timeMs: e.timeMs, traceId: e.traceId, spanId: e.spanId, service: e.service, environment: environmentOf(e.traceId), attributes: a, scope: EVAL_SCOPE };
  });
}

/** ExportLogsServiceRequest protobuf bytes. */
export function encodeLogs(records: readonly SynthLogRecord[]): Uint8Array<ArrayBuffer> {
  const readable = records.map((r) => {
    const ns = BigInt(Math.round(r.timeMs)) * 1_000_000n;
    return {
      hrTime: hrTime(ns),
      hrTimeObserved: hrTime(ns),
      severityNumber: 9,
      severityText: 'INFO',
      body: undefined,
      attributes: r.attributes,
      droppedAttributesCount: 0,
      spanContext: r.traceId ? { traceId: r.traceId, spanId: r.spanId, traceFlags: 1 } : undefined,
      resource: resourceFor(r.service, r.environment),
      instrumentationScope: r.scope,
      eventName: EVALUATION_EVENT,
    } as unknown as ReadableLogArg;
  });
  const body = ProtobufLogsSerializer.serializeRequest(readable);
  if (!body) throw new Error('logs serializer returned nothing');
  return body as Uint8Array<ArrayBuffer>;
}

/** POST /v1/feedback bodies for feedback sent through the API (one per version, in time order). */
export function feedbackApiBodies(feedback: readonly SynthFeedback[]): { fb: SynthFeedback; version: number; body: Record<string, unknown> }[] {
  const out: { fb: SynthFeedback; version: number; body: Record<string, unknown> }[] = [];
  for (const fb of feedback) {
    if (fb.channel !== 'api') continue;
    fb.versions.forEach((v, i) => {
      const body: Record<string, unknown> = {};
      if (fb.feedbackId) body.feedback_id = fb.feedbackId;
      if (fb.linkBy === 'trace') body.trace_id = fb.requestTraceId;
      else body.response_id = fb.responseId;
      if (v.kind === 'thumbs') body.thumbs = v.thumbs;
      else if (v.kind === 'rating') body.rating = v.rating;
      else body.score = v.score;
      if (v.comment) body.comment = v.comment;
      if (v.tags.length) body.tags = v.tags;
      if (fb.userId) body.user_id = fb.userId;
      body.timestamp = v.timeMs;
      out.push({ fb, version: i, body });
    });
  }
  return out;
}

// ---- processor-side decoded shapes (direct-to-store mode)

const origins = new Map<string, SpanOrigin>();
function originFor(service: string, environment: string, scope: { name: string; version: string }): SpanOrigin {
  const key = `${service}\u0000${environment}\u0000${scope.name}`;
  let o = origins.get(key);
  if (!o) {
    o = { resource: resourceAttributes(service, environment), scope: { name: scope.name, version: scope.version, attributes: {} } };
    origins.set(key, o);
  }
  return o;
}

/** The DecodedSpan the processor's decoder yields for this span's OTLP encoding. */
export function toDecodedSpan({ span, request }: SpanWithRequest): DecodedSpan {
  return {
    origin: originFor(request.service, request.environment, span.scope === 'app' ? APP_SCOPE : LLM_SCOPE),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    traceState: '',
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startNs,
    endTimeUnixNano: span.endNs,
    attributes: span.attributes,
    events: span.events.map((e) => ({ timeUnixNano: e.timeNs, name: e.name, attributes: e.attributes })),
    links: [],
    statusCode: span.statusCode,
    statusMessage: span.statusMessage,
  };
}

export function toDecodedLog(r: SynthLogRecord): DecodedLogRecord {
  const ns = BigInt(Math.round(r.timeMs)) * 1_000_000n;
  return {
    origin: originFor(r.service, r.environment, r.scope),
    timeUnixNano: ns,
    observedTimeUnixNano: ns,
    severityNumber: 9,
    severityText: 'INFO',
    body: null,
    attributes: r.attributes,
    traceId: r.traceId,
    spanId: r.spanId,
    flags: r.traceId ? 1 : 0,
    eventName: EVALUATION_EVENT,
  };
}
