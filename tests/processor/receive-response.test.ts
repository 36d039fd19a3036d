import { describe, expect, it } from 'vitest';
import { JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { loadOtlpSchema } from '../helpers/otlp-protobufjs/decoder.js';
import { contentTypeFor, encodeExportResponse, encodeStatus, grpcCodeForHttpStatus } from '../../processor/src/receive/otlp-response.js';

// Responses are checked with two independent decoders: protobufjs with the OTLP schema, and the
// response deserializers the OpenTelemetry JS exporters themselves use.

const schema = loadOtlpSchema();
const TraceResponse = schema.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const LogsResponse = schema.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
const Status = schema.lookupType('google.rpc.Status');

const asBytes = (payload: Uint8Array | string): Uint8Array => {
  expect(payload).toBeInstanceOf(Uint8Array);
  return payload as Uint8Array;
};
const asJson = (payload: Uint8Array | string): unknown => {
  expect(typeof payload).toBe('string');
  return JSON.parse(payload as string);
};
const toPlain = (type: typeof Status, bytes: Uint8Array) => type.toObject(type.decode(bytes), { longs: String, defaults: false });

describe('Export*ServiceResponse', () => {
  it('full success is an empty message', () => {
    const bytes = asBytes(encodeExportResponse('traces', 'protobuf'));
    expect(bytes.length).toBe(0);
    expect(toPlain(TraceResponse, bytes)).toEqual({});
    expect(ProtobufTraceSerializer.deserializeResponse(bytes)).toEqual({});
    expect(asJson(encodeExportResponse('traces', 'json', 0, ''))).toEqual({});
    expect(asBytes(encodeExportResponse('logs', 'protobuf', 0)).length).toBe(0);
  });

  it('trace partial success round-trips through protobufjs and the exporter’s deserializer', () => {
    const bytes = asBytes(encodeExportResponse('traces', 'protobuf', 3, '3 spans rejected: invalid trace_id — "bad-id"'));
    expect(toPlain(TraceResponse, bytes)).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: '3 spans rejected: invalid trace_id — "bad-id"' },
    });
    expect(ProtobufTraceSerializer.deserializeResponse(bytes)).toEqual({
      partialSuccess: { rejectedSpans: 3, errorMessage: '3 spans rejected: invalid trace_id — "bad-id"' },
    });
  });

  it('log partial success uses rejected_log_records', () => {
    const bytes = asBytes(encodeExportResponse('logs', 'protobuf', 2n ** 40n, 'too old'));
    expect(toPlain(LogsResponse, bytes)).toEqual({ partialSuccess: { rejectedLogRecords: String(2 ** 40), errorMessage: 'too old' } });
    expect(ProtobufLogsSerializer.deserializeResponse(bytes)).toEqual({ partialSuccess: { rejectedLogRecords: 2 ** 40, errorMessage: 'too old' } });
  });

  it('a warning without rejections is still a partial_success (rejected count omitted as the default)', () => {
    const bytes = asBytes(encodeExportResponse('traces', 'protobuf', 0, 'attribute values truncated'));
    expect(toPlain(TraceResponse, bytes)).toEqual({ partialSuccess: { errorMessage: 'attribute values truncated' } });
    expect(asJson(encodeExportResponse('traces', 'json', 0, 'attribute values truncated'))).toEqual({
      partialSuccess: { errorMessage: 'attribute values truncated' },
    });
  });

  it('JSON uses lowerCamelCase and int64 as a decimal string', () => {
    const json = encodeExportResponse('traces', 'json', 3, 'bad ids');
    expect(asJson(json)).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: 'bad ids' } });
    expect(JsonTraceSerializer.deserializeResponse(Buffer.from(json as string))).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: 'bad ids' } });
    // protobufjs' JSON mapping reads it back to the same message
    const viaJson = TraceResponse.fromObject(JSON.parse(json as string));
    expect(TraceResponse.toObject(viaJson, { longs: String })).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: 'bad ids' } });
    expect(asJson(encodeExportResponse('logs', 'json', 1, 'x'))).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: 'x' } });
  });

  it('refuses a negative rejected count', () => {
    expect(() => encodeExportResponse('traces', 'protobuf', -1, 'x')).toThrow(RangeError);
  });
});

describe('google.rpc.Status', () => {
  it('protobuf: code (1) and message (2)', () => {
    const bytes = asBytes(encodeStatus(400, 'cannot decode request: resource_spans[0]: truncated varint', 'protobuf'));
    expect(toPlain(Status, bytes)).toEqual({ code: 3, message: 'cannot decode request: resource_spans[0]: truncated varint' });
    const unicode = asBytes(encodeStatus(503, 'storage unavailable — réessayez 🙏', 'protobuf'));
    expect(toPlain(Status, unicode)).toEqual({ code: 14, message: 'storage unavailable — réessayez 🙏' });
  });

  it('JSON: {code, message}', () => {
    expect(asJson(encodeStatus(413, 'too big', 'json'))).toEqual({ code: 8, message: 'too big' });
    expect(asJson(encodeStatus(415, 'unsupported', 'json'))).toEqual({ code: 3, message: 'unsupported' });
  });

  it('maps HTTP status to gRPC codes', () => {
    const expected: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 413: 8, 415: 3, 429: 8, 500: 13, 502: 14, 503: 14, 504: 4, 418: 3, 599: 13 };
    for (const [status, code] of Object.entries(expected)) expect(grpcCodeForHttpStatus(Number(status)), status).toBe(code);
  });

  it('content types follow the request format', () => {
    expect(contentTypeFor('protobuf')).toBe('application/x-protobuf');
    expect(contentTypeFor('json')).toBe('application/json');
  });
});
