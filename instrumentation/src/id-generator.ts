// Trace and span ids for the tracer provider register() starts (its public `idGenerator` option).
//
// Why not the SDK's RandomIdGenerator: it draws Math.random() per 4 bytes, writes them into a Buffer and
// hex-encodes them, for every id. This one fills a pool of random bytes with one crypto.randomFillSync (a
// better random source too), hex-encodes the whole pool at once, and hands out ids as substrings of that
// hex string (V8 makes a substring of 13+ characters a slice of its parent: no copy, no encoding per id).
// A pool of 8 KiB serves ~340 trace+span id pairs; an id keeps its pool's 16 KiB string alive as long as
// the id lives. Ids are never all-zero (invalid in W3C Trace Context).

import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 8 * 1024;
const POOL_CHARS = POOL_BYTES * 2;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private hex = '';
  private offset = POOL_CHARS;

  generateTraceId(): string {
    const id = this.next(32);
    return id === ZERO_TRACE_ID ? `${ZERO_TRACE_ID.slice(1)}1` : id;
  }

  generateSpanId(): string {
    const id = this.next(16);
    return id === ZERO_SPAN_ID ? `${ZERO_SPAN_ID.slice(1)}1` : id;
  }

  /** The next `chars` hex characters of the pool (refilled when it runs out). */
  private next(chars: number): string {
    if (this.offset + chars > POOL_CHARS) {
      randomFillSync(this.bytes);
      this.hex = this.bytes.toString('hex');
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = start + chars;
    return this.hex.slice(start, start + chars);
  }
}
