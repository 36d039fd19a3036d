import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type {
  AttrValue,
  Attributes,
  DecodedLogRecord,
  DecodedSpan,
  InstrumentationScope,
  SpanOrigin,
} from '../../../processor/src/model.js';
import { int64ToAttrValue, newOrigin, setAttribute } from '../../../processor/src/receive/attribute-values.js';
import { OtlpDecodeError } from '../../../processor/src/receive/otlp-decode-error.js';

// The generic reference decoder: protobufjs with the OTLP schema from ./proto/, mapped to the same
// DecodedSpan / DecodedLogRecord as the processor's hand-written decoder. It is the benchmark baseline
// (bench/) and a cross-check for the hand decoder (tests/); it is not shipped and not on the ingest path.

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
];

let schema: protobuf.Root | undefined;

/** The OTLP trace/logs schema (plus google.rpc.Status), loaded once. */
export function loadOtlpSchema(): protobuf.Root {
  if (!schema) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
    root.loadSync(PROTO_FILES);
    root.resolveAll();
    schema = root;
  }
  return schema;
}

// Shapes of the protobufjs message objects (camelCase fields; unset fields read as the type's default).
interface Long {
  low: number;
  high: number;
}
type Uint64 = Long | number;
interface PbKeyValue {
  key: string;
  value: PbAnyValue | null;
}
interface PbAnyValue {
  /** Name of the set oneof member, if any. */
  value?: string;
  stringValue: string;
  boolValue: boolean;
  intValue: Uint64;
  doubleValue: number;
  arrayValue: { values: PbAnyValue[] } | null;
  kvlistValue: { values: PbKeyValue[] } | null;
  bytesValue: Uint8Array;
}
interface PbResource {
  attributes: PbKeyValue[];
}
interface PbScope {
  name: string;
  version: string;
  attributes: PbKeyValue[];
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: Uint64;
  endTimeUnixNano: Uint64;
  attributes: PbKeyValue[];
  events: { timeUnixNano: Uint64; name: string; attributes: PbKeyValue[] }[];
  links: { traceId: Uint8Array; spanId: Uint8Array; traceState: string; attributes: PbKeyValue[] }[];
  status: { code: number; message: string } | null;
}
interface PbLogRecord {
  timeUnixNano: Uint64;
  observedTimeUnixNano: Uint64;
  severityNumber: number;
  severityText: string;
  body: PbAnyValue | null;
  attributes: PbKeyValue[];
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}
interface PbTraceRequest {
  resourceSpans: { resource: PbResource | null; scopeSpans: { scope: PbScope | null; spans: PbSpan[] }[] }[];
}
interface PbLogsRequest {
  resourceLogs: { resource: PbResource | null; scopeLogs: { scope: PbScope | null; logRecords: PbLogRecord[] }[] }[];
}

function decodeMessage<T>(typeName: string, data: Uint8Array): T {
  const type = loadOtlpSchema().lookupType(typeName);
  try {
    return type.decode(data) as unknown as T;
  } catch (err) {
    throw new OtlpDecodeError('', `invalid protobuf: ${(err as Error).message}`);
  }
}

/** Decodes a binary ExportTraceServiceRequest with protobufjs. */
export function decodeTracesProtobufjs(data: Uint8Array): DecodedSpan[] {
  const request = decodeMessage<PbTraceRequest>('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', data);
  const spans: DecodedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = toResource(resourceSpans.resource);
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const origin = toOrigin(resource, scopeSpans.scope);
      for (const span of scopeSpans.spans) spans.push(toSpan(span, origin));
    }
  }
  return spans;
}

/** Decodes a binary ExportLogsServiceRequest with protobufjs. */
export function decodeLogsProtobufjs(data: Uint8Array): DecodedLogRecord[] {
  const request = decodeMessage<PbLogsRequest>('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', data);
  const records: DecodedLogRecord[] = [];
  for (const resourceLogs of request.resourceLogs) {
    const resource = toResource(resourceLogs.resource);
    for (const scopeLogs of resourceLogs.scopeLogs) {
      const origin = toOrigin(resource, scopeLogs.scope);
      for (const record of scopeLogs.logRecords) records.push(toLogRecord(record, origin));
    }
  }
  return records;
}

function toResource(resource: PbResource | null): Attributes {
  const attributes: Attributes = {};
  if (resource) addAttributes(attributes, resource.attributes);
  return attributes;
}

function toOrigin(resource: Attributes, scope: PbScope | null): SpanOrigin {
  const origin = newOrigin(resource);
  if (scope) {
    const target: InstrumentationScope = origin.scope;
    target.name = scope.name;
    target.version = scope.version;
    addAttributes(target.attributes, scope.attributes);
  }
  return origin;
}

function toSpan(span: PbSpan, origin: SpanOrigin): DecodedSpan {
  return {
    origin,
    traceId: hex(span.traceId),
    spanId: hex(span.spanId),
    parentSpanId: hex(span.parentSpanId),
    traceState: span.traceState,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: toBigInt(span.startTimeUnixNano),
    endTimeUnixNano: toBigInt(span.endTimeUnixNano),
    attributes: addAttributes({}, span.attributes),
    events: span.events.map((event) => ({
      timeUnixNano: toBigInt(event.timeUnixNano),
      name: event.name,
      attributes: addAttributes({}, event.attributes),
    })),
    links: span.links.map((link) => ({
      traceId: hex(link.traceId),
      spanId: hex(link.spanId),
      traceState: link.traceState,
      attributes: addAttributes({}, link.attributes),
    })),
    statusCode: span.status ? span.status.code : 0,
    statusMessage: span.status ? span.status.message : '',
  };
}

function toLogRecord(record: PbLogRecord, origin: SpanOrigin): DecodedLogRecord {
  return {
    origin,
    timeUnixNano: toBigInt(record.timeUnixNano),
    observedTimeUnixNano: toBigInt(record.observedTimeUnixNano),
    severityNumber: record.severityNumber,
    severityText: record.severityText,
    body: record.body ? toAttrValue(record.body) : null,
    attributes: addAttributes({}, record.attributes),
    traceId: hex(record.traceId),
    spanId: hex(record.spanId),
    flags: record.flags,
    eventName: record.eventName,
  };
}

function addAttributes(target: Record<string, AttrValue>, keyValues: PbKeyValue[]): Record<string, AttrValue> {
  for (const kv of keyValues) setAttribute(target, kv.key, kv.value ? toAttrValue(kv.value) : null);
  return target;
}

function toAttrValue(value: PbAnyValue): AttrValue {
  switch (value.value) {
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'intValue':
      return typeof value.intValue === 'number'
        ? value.intValue
        : int64ToAttrValue(value.intValue.low >>> 0, value.intValue.high >>> 0);
    case 'doubleValue':
      return value.doubleValue;
    case 'arrayValue':
      return value.arrayValue ? value.arrayValue.values.map(toAttrValue) : [];
    case 'kvlistValue':
      return value.kvlistValue ? addAttributes({}, value.kvlistValue.values) : {};
    case 'bytesValue':
      return hex(value.bytesValue);
    default:
      return null;
  }
}

/** protobufjs yields a Buffer for a set bytes field and a shared empty plain array for an unset one. */
function hex(bytes: Uint8Array | number[]): string {
  if (bytes.length === 0) return '';
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return Buffer.from(bytes).toString('hex');
}

function toBigInt(value: Uint64): bigint {
  if (typeof value === 'number') return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}
