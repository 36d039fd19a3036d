// Recently seen response id → trace id, filled by the pipeline as it processes GenAI spans. Feedback and
// evaluation events that name only a response id (OTLP events without trace context, API feedback with a
// response_id) are linked to their trace at write time from here; what is not here (older responses, another
// processor instance, feedback before its spans) is resolved at read time through response_lookup.
export class ResponseTraceCache {
  private readonly map = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  set(responseId: string, traceId: string): void {
    if (this.maxEntries <= 0 || responseId === '') return;
    if (this.map.size >= this.maxEntries) {
      // Drop the oldest tenth (Map iterates in insertion order): amortized O(1), no per-entry bookkeeping.
      let drop = Math.max(1, Math.floor(this.maxEntries / 10));
      for (const key of this.map.keys()) {
        this.map.delete(key);
        if (--drop === 0) break;
      }
    }
    this.map.set(responseId, traceId);
  }

  get(responseId: string): string | undefined {
    return this.map.get(responseId);
  }

  get size(): number {
    return this.map.size;
  }
}
