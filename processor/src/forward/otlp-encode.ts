// OTLP protobuf encoding of decoded spans and log records, for forwarding, with protobufjs's Writer (fork /
// ldelim: one buffer, lengths patched in) rather than a schema: the processor holds DecodedSpan objects,
// not SDK ReadableSpans or protobufjs messages. Spans are grouped by resource and scope (the decoder
// shares one origin object per scope).
// Fidelity: attribute values come back as decoded (AttrValue): integers within ±2^53 are sent as int,
// other numbers as double; bytes values were decoded to strings and are sent as strings.
import protobuf from 'protobufjs/minimal.js';
import type { AttrValue, Attributes, DecodedLogRecord, DecodedSpan, InstrumentationScope, SpanOrigin } from '../model.js';

type Writer = protobuf.Writer;

// Tags: (field << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
const tag = (field: number, wire: number) => (field << 3) | wire;

export interface ForwardSpan {
  span: DecodedSpan;
  /** Attributes appended after the span's own (ragscope.derived.*). */
  extra: Attributes;
}

export function encodeTracesRequest(items: readonly ForwardSpan[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [resource, scopes] of groupByOrigin(items, (i) => i.span.origin)) {
    w.uint32(tag(1, 2)).fork();
    writeResource(w, resource);
    for (const [scope, spans] of scopes) {
      w.uint32(tag(2, 2)).fork();
      writeScope(w, scope);
      for (const item of spans) writeSpan(w.uint32(tag(2, 2)).fork(), item).ldelim();
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

export function encodeLogsRequest(logs: readonly DecodedLogRecord[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [resource, scopes] of groupByOrigin(logs, (l) => l.origin)) {
    w.uint32(tag(1, 2)).fork();
    writeResource(w, resource);
    for (const [scope, records] of scopes) {
      w.uint32(tag(2, 2)).fork();
      writeScope(w, scope);
      for (const log of records) writeLog(w.uint32(tag(2, 2)).fork(), log).ldelim();
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
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

function writeResource(w: Writer, attributes: Attributes): void {
  w.uint32(tag(1, 2)).fork();
  writeAttributes(w, 1, attributes);
  w.ldelim();
}

function writeScope(w: Writer, scope: InstrumentationScope): void {
  w.uint32(tag(1, 2)).fork();
  if (scope.name) w.uint32(tag(1, 2)).string(scope.name);
  if (scope.version) w.uint32(tag(2, 2)).string(scope.version);
  writeAttributes(w, 3, scope.attributes);
  w.ldelim();
}

const hexBytes = (hex: string) => Buffer.from(hex, 'hex');

function fixed64(w: Writer, field: number, value: bigint): void {
  w.uint32(tag(field, 1)).fixed32(Number(value & 0xffffffffn)).fixed32(Number((value >> 32n) & 0xffffffffn));
}

function writeSpan(w: Writer, { span, extra }: ForwardSpan): Writer {
  w.uint32(tag(1, 2)).bytes(hexBytes(span.traceId)).uint32(tag(2, 2)).bytes(hexBytes(span.spanId));
  if (span.traceState) w.uint32(tag(3, 2)).string(span.traceState);
  if (span.parentSpanId) w.uint32(tag(4, 2)).bytes(hexBytes(span.parentSpanId));
  w.uint32(tag(5, 2)).string(span.name);
  if (span.kind) w.uint32(tag(6, 0)).int32(span.kind);
  fixed64(w, 7, span.startTimeUnixNano);
  fixed64(w, 8, span.endTimeUnixNano);
  writeAttributes(w, 9, span.attributes);
  writeAttributes(w, 9, extra);
  for (const event of span.events) {
    w.uint32(tag(11, 2)).fork();
    fixed64(w, 1, event.timeUnixNano);
    w.uint32(tag(2, 2)).string(event.name);
    writeAttributes(w, 3, event.attributes);
    w.ldelim();
  }
  for (const link of span.links) {
    w.uint32(tag(13, 2)).fork().uint32(tag(1, 2)).bytes(hexBytes(link.traceId)).uint32(tag(2, 2)).bytes(hexBytes(link.spanId));
    if (link.traceState) w.uint32(tag(3, 2)).string(link.traceState);
    writeAttributes(w, 4, link.attributes);
    w.ldelim();
  }
  if (span.statusCode || span.statusMessage) {
    w.uint32(tag(15, 2)).fork();
    if (span.statusMessage) w.uint32(tag(2, 2)).string(span.statusMessage);
    if (span.statusCode) w.uint32(tag(3, 0)).int32(span.statusCode);
    w.ldelim();
  }
  return w;
}

function writeLog(w: Writer, log: DecodedLogRecord): Writer {
  if (log.timeUnixNano) fixed64(w, 1, log.timeUnixNano);
  if (log.severityNumber) w.uint32(tag(2, 0)).int32(log.severityNumber);
  if (log.severityText) w.uint32(tag(3, 2)).string(log.severityText);
  if (log.body !== null) writeAnyValue(w.uint32(tag(5, 2)).fork(), log.body).ldelim();
  writeAttributes(w, 6, log.attributes);
  if (log.flags) w.uint32(tag(8, 5)).fixed32(log.flags);
  if (log.traceId) w.uint32(tag(9, 2)).bytes(hexBytes(log.traceId));
  if (log.spanId) w.uint32(tag(10, 2)).bytes(hexBytes(log.spanId));
  if (log.observedTimeUnixNano) fixed64(w, 11, log.observedTimeUnixNano);
  if (log.eventName) w.uint32(tag(12, 2)).string(log.eventName);
  return w;
}

export function writeAttributes(w: Writer, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    w.uint32(tag(field, 2)).fork().uint32(tag(1, 2)).string(key).uint32(tag(2, 2)).fork();
    writeAnyValue(w, attributes[key]).ldelim().ldelim();
  }
}

function writeAnyValue(w: Writer, value: AttrValue): Writer {
  // An empty string is still a string value: the field is written even when empty.
  if (typeof value === 'string') w.uint32(tag(1, 2)).string(value);
  else if (typeof value === 'boolean') w.uint32(tag(2, 0)).bool(value);
  else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) w.uint32(tag(3, 0)).int64(value);
    else w.uint32(tag(4, 1)).double(value);
  } else if (Array.isArray(value)) {
    w.uint32(tag(5, 2)).fork();
    for (const v of value) writeAnyValue(w.uint32(tag(1, 2)).fork(), v).ldelim();
    w.ldelim();
  } else if (value !== null) {
    w.uint32(tag(6, 2)).fork();
    writeAttributes(w, 1, value);
    w.ldelim();
  }
  return w;
}
