import type {
  AttrValue,
  Attributes,
  DecodedLogRecord,
  DecodedSpan,
  SpanOrigin,
} from '../model.js';

// Row shapes for JSONEachRow inserts. Column names are the ClickHouse column names.
// The pipeline writes otel_traces / genai_spans rows as text with row-lines.ts; the objects built here are
// the reference those lines are tested against, and the rows of the other tables.

export const SPAN_KIND_NAMES = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
export const STATUS_CODE_NAMES = ['Unset', 'Ok', 'Error'];

export type StringMap = Record<string, string>;

/** AnyValue as the Collector's exporter stores it in a Map(String, String): scalars as text, the rest as JSON. */
export function attrToString(value: AttrValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '';
  return JSON.stringify(value);
}

export function toStringMap(attributes: Attributes): StringMap {
  const out: StringMap = {};
  for (const key in attributes) {
    // A `__proto__` attribute stays an ordinary key (plain assignment would try to swap the prototype).
    if (key === '__proto__') Object.defineProperty(out, key, { value: attrToString(attributes[key]), enumerable: true, writable: true, configurable: true });
    else out[key] = attrToString(attributes[key]);
  }
  return out;
}

// Resource and scope objects are shared by every span of a ResourceSpans; convert each once.
const resourceMaps = new WeakMap<Attributes, StringMap>();
function resourceMap(resource: Attributes): StringMap {
  let map = resourceMaps.get(resource);
  if (!map) {
    map = toStringMap(resource);
    resourceMaps.set(resource, map);
  }
  return map;
}

export function serviceNameOf(origin: SpanOrigin): string {
  const name = origin.resource['service.name'];
  return typeof name === 'string' && name !== '' ? name : 'unknown_service';
}

export function environmentOf(origin: SpanOrigin): string {
  const env = origin.resource['deployment.environment.name'] ?? origin.resource['deployment.environment'];
  return typeof env === 'string' ? env : '';
}

export function durationNanos(span: DecodedSpan): bigint {
  const d = span.endTimeUnixNano - span.startTimeUnixNano;
  return d > 0n ? d : 0n;
}

export function toTraceRow(span: DecodedSpan, tenant: string): Record<string, unknown> {
  const { origin } = span;
  const events = span.events;
  const links = span.links;
  return {
    Timestamp: span.startTimeUnixNano.toString(),
    TraceId: span.traceId,
    SpanId: span.spanId,
    ParentSpanId: span.parentSpanId,
    TraceState: span.traceState,
    SpanName: span.name,
    SpanKind: SPAN_KIND_NAMES[span.kind] ?? 'Unspecified',
    ServiceName: serviceNameOf(origin),
    ResourceAttributes: resourceMap(origin.resource),
    ScopeName: origin.scope.name,
    ScopeVersion: origin.scope.version,
    SpanAttributes: toStringMap(span.attributes),
    Duration: durationNanos(span).toString(),
    StatusCode: STATUS_CODE_NAMES[span.statusCode] ?? 'Unset',
    StatusMessage: span.statusMessage,
    'Events.Timestamp': events.map((e) => e.timeUnixNano.toString()),
    'Events.Name': events.map((e) => e.name),
    'Events.Attributes': events.map((e) => toStringMap(e.attributes)),
    'Links.TraceId': links.map((l) => l.traceId),
    'Links.SpanId': links.map((l) => l.spanId),
    'Links.TraceState': links.map((l) => l.traceState),
    'Links.Attributes': links.map((l) => toStringMap(l.attributes)),
    TenantId: tenant,
  };
}

export function toLogRow(log: DecodedLogRecord, tenant: string): Record<string, unknown> {
  const { origin } = log;
  const time = log.timeUnixNano !== 0n ? log.timeUnixNano : log.observedTimeUnixNano;
  const eventAttr = log.attributes['event.name'];
  return {
    Timestamp: time.toString(),
    TraceId: log.traceId,
    SpanId: log.spanId,
    TraceFlags: log.flags & 0xff,
    SeverityText: log.severityText,
    SeverityNumber: log.severityNumber,
    ServiceName: serviceNameOf(origin),
    Body: attrToString(log.body),
    ResourceAttributes: resourceMap(origin.resource),
    ScopeName: origin.scope.name,
    ScopeVersion: origin.scope.version,
    ScopeAttributes: toStringMap(origin.scope.attributes),
    LogAttributes: toStringMap(log.attributes),
    EventName: log.eventName !== '' ? log.eventName : typeof eventAttr === 'string' ? eventAttr : '',
    TenantId: tenant,
  };
}
