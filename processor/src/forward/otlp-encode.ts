// OTLP protobuf encoding of decoded spans and log records, for forwarding. Hand-written on the receive
// side's ProtoWriter: the processor holds DecodedSpan objects, not SDK ReadableSpans, and protobufjs would
// need a schema load and object conversion per span. Spans are grouped by resource and scope (the decoder
// shares one origin object per scope).
// Fidelity: attribute values come back as decoded (AttrValue): integers within ±2^53 are sent as int,
// other numbers as double; bytes values were decoded to strings and are sent as strings.
import type { AttrValue, Attributes, DecodedLogRecord, DecodedSpan, InstrumentationScope, SpanOrigin } from '../model.js';
import { ProtoWriter } from '../receive/otlp-response.js';

export interface ForwardSpan {
  span: DecodedSpan;
  /** Attributes appended after the span's own (ragscope.derived.*). */
  extra: Attributes;
}

export function encodeTracesRequest(items: readonly ForwardSpan[]): Uint8Array {
  const request = new ProtoWriter();
  for (const [resource, scopes] of groupByOrigin(items, (i) => i.span.origin)) {
    const resourceSpans = new ProtoWriter().bytesField(1, encodeResource(resource));
    for (const [scope, spans] of scopes) {
      const scopeSpans = new ProtoWriter().bytesField(1, encodeScope(scope));
      for (const item of spans) scopeSpans.bytesField(2, encodeSpan(item));
      resourceSpans.bytesField(2, scopeSpans.finish());
    }
    request.bytesField(1, resourceSpans.finish());
  }
  return request.finish();
}

export function encodeLogsRequest(logs: readonly DecodedLogRecord[]): Uint8Array {
  const request = new ProtoWriter();
  for (const [resource, scopes] of groupByOrigin(logs, (l) => l.origin)) {
    const resourceLogs = new ProtoWriter().bytesField(1, encodeResource(resource));
    for (const [scope, records] of scopes) {
      const scopeLogs = new ProtoWriter().bytesField(1, encodeScope(scope));
      for (const log of records) scopeLogs.bytesField(2, encodeLog(log));
      resourceLogs.bytesField(2, scopeLogs.finish());
    }
    request.bytesField(1, resourceLogs.finish());
  }
  return request.finish();
}

function groupByOrigin<T>(items: readonly T[], originOf: (item: T) => SpanOrigin): Map<Attributes, Map<InstrumentationScope, T[]>> {
  const byResource = new Map<Attributes, Map<InstrumentationScope, T[]>>();
  for (const item of items) {
    const { resource, scope } = originOf(item);
    let scopes = byResource.get(resource);
    if (!scopes) byResource.set(resource, (scopes = new Map()));
    let list = scopes.get(scope);
    if (!list) scopes.set(scope, (list = []));
    list.push(item);
  }
  return byResource;
}

function encodeResource(attributes: Attributes): Uint8Array {
  const w = new ProtoWriter();
  writeAttributes(w, 1, attributes);
  return w.finish();
}

function encodeScope(scope: InstrumentationScope): Uint8Array {
  const w = new ProtoWriter();
  if (scope.name) w.stringField(1, scope.name);
  if (scope.version) w.stringField(2, scope.version);
  writeAttributes(w, 3, scope.attributes);
  return w.finish();
}

const hexBytes = (hex: string) => Buffer.from(hex, 'hex');

function encodeSpan({ span, extra }: ForwardSpan): Uint8Array {
  const w = new ProtoWriter();
  w.bytesField(1, hexBytes(span.traceId)).bytesField(2, hexBytes(span.spanId));
  if (span.traceState) w.stringField(3, span.traceState);
  if (span.parentSpanId) w.bytesField(4, hexBytes(span.parentSpanId));
  w.stringField(5, span.name);
  if (span.kind) w.varintField(6, BigInt(span.kind));
  w.fixed64Field(7, span.startTimeUnixNano).fixed64Field(8, span.endTimeUnixNano);
  writeAttributes(w, 9, span.attributes);
  writeAttributes(w, 9, extra);
  for (const event of span.events) {
    const e = new ProtoWriter().fixed64Field(1, event.timeUnixNano).stringField(2, event.name);
    writeAttributes(e, 3, event.attributes);
    w.bytesField(11, e.finish());
  }
  for (const link of span.links) {
    const l = new ProtoWriter().bytesField(1, hexBytes(link.traceId)).bytesField(2, hexBytes(link.spanId));
    if (link.traceState) l.stringField(3, link.traceState);
    writeAttributes(l, 4, link.attributes);
    w.bytesField(13, l.finish());
  }
  if (span.statusCode || span.statusMessage) {
    const status = new ProtoWriter();
    if (span.statusMessage) status.stringField(2, span.statusMessage);
    if (span.statusCode) status.varintField(3, BigInt(span.statusCode));
    w.bytesField(15, status.finish());
  }
  return w.finish();
}

function encodeLog(log: DecodedLogRecord): Uint8Array {
  const w = new ProtoWriter();
  if (log.timeUnixNano) w.fixed64Field(1, log.timeUnixNano);
  if (log.severityNumber) w.varintField(2, BigInt(log.severityNumber));
  if (log.severityText) w.stringField(3, log.severityText);
  if (log.body !== null) w.bytesField(5, encodeAnyValue(log.body));
  writeAttributes(w, 6, log.attributes);
  if (log.flags) w.fixed32Field(8, log.flags);
  if (log.traceId) w.bytesField(9, hexBytes(log.traceId));
  if (log.spanId) w.bytesField(10, hexBytes(log.spanId));
  if (log.observedTimeUnixNano) w.fixed64Field(11, log.observedTimeUnixNano);
  if (log.eventName) w.stringField(12, log.eventName);
  return w.finish();
}

function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    w.bytesField(field, new ProtoWriter().stringField(1, key).bytesField(2, encodeAnyValue(attributes[key])).finish());
  }
}

function encodeAnyValue(value: AttrValue): Uint8Array {
  const w = new ProtoWriter();
  if (typeof value === 'string') {
    // An empty string is still a string value: write the field even when empty.
    w.bytesField(1, Buffer.from(value, 'utf8'));
  } else if (typeof value === 'boolean') w.varintField(2, value ? 1n : 0n);
  else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) w.varintField(3, BigInt(value));
    else w.doubleField(4, value);
  } else if (Array.isArray(value)) {
    const array = new ProtoWriter();
    for (const v of value) array.bytesField(1, encodeAnyValue(v));
    w.bytesField(5, array.finish());
  } else if (value !== null) {
    const list = new ProtoWriter();
    writeAttributes(list, 1, value);
    w.bytesField(6, list.finish());
  }
  return w.finish();
}
