// Memory of the spans and log records already accepted, so a client's retry (after a time-out, a lost
// answer, a 503 or a restart) does not store them twice. Bounded: two generations of sets, the older one
// dropped when the newer fills half the capacity, so between capacity/2 and capacity keys are remembered.
// It only learns what was stored: keys are claimed while a request is written and forgotten if it is refused.
import { createHash } from 'node:crypto';
import type { DecodedLogRecord, DecodedSpan } from '../model.js';

export interface Claim {
  keys: string[];
}

export class RecentKeys {
  private current = new Set<string>();
  private previous = new Set<string>();
  /** Keys of requests being written right now: a concurrent retry of the same spans must not pass either. */
  private readonly pending = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key) || this.pending.has(key);
  }

  /** Indices of the items whose keys are new (first occurrence only); their keys are claimed until settled. */
  claim(keys: readonly string[]): { fresh: number[]; claim: Claim } {
    const fresh: number[] = [];
    const claimed: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (this.capacity > 0 && this.has(key)) continue;
      fresh.push(i);
      if (this.capacity > 0) {
        this.pending.add(key);
        claimed.push(key);
      }
    }
    return { fresh, claim: { keys: claimed } };
  }

  /** Ends a claim: `stored` keys are remembered, the others forgotten (they may come again). */
  settle(claim: Claim, stored: Iterable<string>): void {
    for (const key of claim.keys) this.pending.delete(key);
    for (const key of stored) this.remember(key);
  }

  remember(key: string): void {
    if (this.capacity <= 0) return;
    this.current.add(key);
    if (this.current.size >= this.capacity / 2) {
      this.previous = this.current;
      this.current = new Set();
    }
  }
}

export function spanKey(span: DecodedSpan): string {
  return span.traceId + span.spanId;
}

/** Log records carry no id: their identity is their content (two identical records are one). */
export function logKey(log: DecodedLogRecord): string {
  const content = JSON.stringify(
    [log.timeUnixNano, log.observedTimeUnixNano, log.severityNumber, log.severityText, log.body, log.attributes, log.traceId, log.spanId, log.eventName, log.origin.resource, log.origin.scope],
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
  return `log:${createHash('sha1').update(content).digest('hex')}`;
}
