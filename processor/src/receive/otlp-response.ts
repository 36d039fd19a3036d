import type { OtlpFormat } from './body.js';

export type OtlpSignal = 'traces' | 'logs';

/** google.rpc.Code values used for OTLP error bodies. */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export function contentTypeFor(format: OtlpFormat): string {
  return format === 'json' ? 'application/json' : 'application/x-protobuf';
}

/** The google.rpc.Code that best describes an HTTP error status. */
export function grpcCodeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
    case 415:
      return GrpcCode.INVALID_ARGUMENT;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.NOT_FOUND;
    case 405:
      return GrpcCode.UNIMPLEMENTED;
    case 408:
    case 504:
      return GrpcCode.DEADLINE_EXCEEDED;
    case 413: // gRPC reports an over-size message as RESOURCE_EXHAUSTED
    case 429: // throttling
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 502:
    case 503:
      return GrpcCode.UNAVAILABLE;
    default:
      if (status >= 200 && status < 300) return GrpcCode.OK;
      return status >= 500 ? GrpcCode.INTERNAL : GrpcCode.INVALID_ARGUMENT;
  }
}

/**
 * Export{Trace,Logs}ServiceResponse. With nothing rejected and no message the response is empty
 * (full success); otherwise partial_success { rejected_spans | rejected_log_records = 1, error_message = 2 }.
 */
export function encodeExportResponse(
  signal: OtlpSignal,
  format: OtlpFormat,
  rejected: number | bigint = 0,
  errorMessage = '',
): Uint8Array | string {
  const count = BigInt(rejected);
  if (count < 0n) throw new RangeError(`rejected count must not be negative: ${count}`);
  const hasPartialSuccess = count > 0n || errorMessage !== '';
  if (format === 'json') {
    if (!hasPartialSuccess) return '{}';
    const partialSuccess: Record<string, string> = {};
    if (count > 0n) partialSuccess[signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords'] = count.toString();
    if (errorMessage) partialSuccess.errorMessage = errorMessage;
    return JSON.stringify({ partialSuccess });
  }
  if (!hasPartialSuccess) return new Uint8Array(0);
  const inner = new ProtoWriter();
  if (count > 0n) inner.varintField(1, count);
  if (errorMessage) inner.stringField(2, errorMessage);
  return new ProtoWriter().bytesField(1, inner.finish()).finish();
}

/** google.rpc.Status { code = 1, message = 2 } for an error response with the given HTTP status. */
export function encodeStatus(httpStatus: number, message: string, format: OtlpFormat): Uint8Array | string {
  const code = grpcCodeForHttpStatus(httpStatus);
  if (format === 'json') return JSON.stringify({ code, message });
  const writer = new ProtoWriter();
  if (code !== 0) writer.varintField(1, BigInt(code));
  if (message) writer.stringField(2, message);
  return writer.finish();
}

/** Just enough protobuf writing for the response messages and forwarded requests (forward/otlp-encode.ts). */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  varintField(field: number, value: bigint): this {
    this.varint(BigInt(field << 3));
    this.varint(BigInt.asUintN(64, value));
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, Buffer.from(value, 'utf8'));
  }

  bytesField(field: number, value: Uint8Array): this {
    this.varint(BigInt((field << 3) | 2));
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  fixed64Field(field: number, value: bigint): this {
    this.varint(BigInt((field << 3) | 1));
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.push(b);
    return this;
  }

  fixed32Field(field: number, value: number): this {
    this.varint(BigInt((field << 3) | 5));
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(value >>> 0);
    this.push(b);
    return this;
  }

  doubleField(field: number, value: number): this {
    this.varint(BigInt((field << 3) | 1));
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(value);
    this.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts, this.length);
  }

  private varint(value: bigint): void {
    const bytes: number[] = [];
    while (value > 0x7fn) {
      bytes.push(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    bytes.push(Number(value));
    this.push(Uint8Array.from(bytes));
  }

  private push(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }
}

/**
 * google.rpc.Status { code = 1, message = 2, details = 3 } for the grpc-status-details-bin trailer; with
 * `retryAfterSeconds`, details hold one google.rpc.RetryInfo { retry_delay = 1: Duration { seconds = 1 } },
 * the delay OTLP clients wait before retrying RESOURCE_EXHAUSTED / UNAVAILABLE.
 */
export function encodeStatusWithRetryInfo(code: number, message: string, retryAfterSeconds?: number): Uint8Array {
  const writer = new ProtoWriter();
  if (code !== 0) writer.varintField(1, BigInt(code));
  if (message) writer.stringField(2, message);
  if (retryAfterSeconds !== undefined) {
    const duration = new ProtoWriter().varintField(1, BigInt(retryAfterSeconds)).finish();
    const retryInfo = new ProtoWriter().bytesField(1, duration).finish();
    const any = new ProtoWriter().stringField(1, RETRY_INFO_TYPE_URL).bytesField(2, retryInfo).finish();
    writer.bytesField(3, any);
  }
  return writer.finish();
}

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';
