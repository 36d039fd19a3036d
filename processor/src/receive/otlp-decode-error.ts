/** An OTLP payload that cannot be decoded. Maps to HTTP 400 (not retryable). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';

  /** Dotted field path into the request, e.g. `resource_spans[0].scope_spans[1].spans[3].name`; '' for the root. */
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(path ? `${path}: ${reason}` : reason);
    this.path = path;
    this.reason = reason;
  }
}
