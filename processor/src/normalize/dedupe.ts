// Usage dedupe: several libraries repeat a model call's usage on the span above it (Vercel ai.generateText
// over ai.generateText.doGenerate, LangChain/LlamaIndex chains in OpenInference, Traceloop workflow/task
// spans, a framework-level chat span over the SDK-level chat span). Summing every span would double count,
// so each span whose usage duplicates usage further down its trace gets usageCounted=false.
// See docs/normalization.md ("Usage dedupe") for the rules and the limitation on arrival order.
import type { DecodedSpan, GenAiRecord } from '../model.js';
import { carriesUsage, isWrapperOperation } from './normalize.js';

/** A change to one of the memories, kept so a batch that was not stored can be taken back. */
type Change = { set: BoundedKeySet; key: string; added: boolean };

/** Insertion-ordered set with a size bound: the oldest keys are evicted first. */
class BoundedKeySet {
  private readonly keys = new Set<string>();
  /** Changes since the journal was started (null: not journaling). */
  journal: Change[] | null = null;
  constructor(private readonly max: number) {}

  add(key: string): void {
    if (this.max <= 0) return;
    if (this.keys.has(key)) this.keys.delete(key);
    else this.journal?.push({ set: this, key, added: true });
    this.keys.add(key);
    if (this.keys.size > this.max) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
  }
  has(key: string): boolean {
    return this.keys.has(key);
  }
  delete(key: string): boolean {
    const deleted = this.keys.delete(key);
    if (deleted) this.journal?.push({ set: this, key, added: false });
    return deleted;
  }
  /** Reverts a change without journaling it. */
  revert(change: Change): void {
    if (change.added) this.keys.delete(change.key);
    else this.keys.add(change.key);
  }
  get size(): number {
    return this.keys.size;
  }
}

export interface SpanRecordPair {
  span: DecodedSpan;
  /** null for a non-GenAI span: passing those too lets the dedupe see through intermediate spans. */
  record: GenAiRecord | null;
}

export const DEFAULT_DEDUPE_CACHE_SIZE = 100_000;

export class UsageDeduplicator {
  /** (trace, span) of spans not seen yet that are known to have a usage-carrying descendant. */
  private readonly pendingAncestors: BoundedKeySet;
  /** (trace, span) of usage-carrying spans already emitted with usageCounted=true (for late children). */
  private readonly countedUsage: BoundedKeySet;

  /** @param cacheSize bound of each of the two cross-batch memories; 0 disables cross-batch dedupe. */
  constructor(cacheSize: number = DEFAULT_DEDUPE_CACHE_SIZE) {
    const size = Number.isFinite(cacheSize) && cacheSize > 0 ? Math.floor(cacheSize) : 0;
    this.pendingAncestors = new BoundedKeySet(size);
    this.countedUsage = new BoundedKeySet(size);
  }

  /** Number of remembered keys (both memories), for metrics/tests. */
  get memorySize(): number {
    return this.pendingAncestors.size + this.countedUsage.size;
  }

  /**
   * Sets record.usageCounted=false on every span whose usage duplicates usage on a descendant (in this
   * batch, or in an earlier batch when the descendant arrived first), and on wrapper operations carrying
   * usage. When a usage-carrying span arrives after its parent was already emitted as counted, the late
   * child is marked instead so that the sum stays right. Returns a function that forgets what this batch
   * taught the memories, for a batch that was refused after all.
   */
  markBatch(pairs: readonly SpanRecordPair[]): () => void {
    const journal: Change[] = [];
    this.pendingAncestors.journal = journal;
    this.countedUsage.journal = journal;
    try {
      this.mark(pairs);
    } finally {
      this.pendingAncestors.journal = null;
      this.countedUsage.journal = null;
    }
    // Undo: the batch was not stored after all (refused), so the memories must not remember it.
    return () => {
      for (let i = journal.length - 1; i >= 0; i--) journal[i].set.revert(journal[i]);
    };
  }

  private mark(pairs: readonly SpanRecordPair[]): void {
    const n = pairs.length;
    if (n === 0) return;
    const index = new Map<string, number>();
    const usage = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const { span, record } = pairs[i];
      index.set(span.traceId + span.spanId, i);
      if (record !== null && record !== undefined && carriesUsage(record)) {
        usage[i] = 1;
        if (isWrapperOperation(record.operation, span.kind)) record.usageCounted = false;
      }
    }

    const walked = new Uint8Array(n);
    const checkPending = this.pendingAncestors.size > 0;
    for (let i = 0; i < n; i++) {
      let source = usage[i] === 1;
      if (checkPending) {
        const { span, record } = pairs[i];
        if (this.pendingAncestors.delete(span.traceId + span.spanId)) {
          // A descendant with usage arrived in an earlier batch.
          if (record && usage[i] === 1) record.usageCounted = false;
          source = true;
        }
      }
      if (source) this.walkUp(pairs, index, usage, walked, i);
    }

    for (let i = 0; i < n; i++) {
      if (usage[i] === 1 && pairs[i].record!.usageCounted) {
        const s = pairs[i].span;
        this.countedUsage.add(s.traceId + s.spanId);
      }
    }
  }

  /**
   * Walks from a source span up its ancestors in this batch. walked[j]: 0 = not visited, 1 = visited (leads
   * to an ancestor with usage or to an unknown one), 2 = visited and leads to an ancestor stored earlier as counted.
   */
  private walkUp(
    pairs: readonly SpanRecordPair[],
    index: Map<string, number>,
    usage: Uint8Array,
    walked: Uint8Array,
    from: number,
  ): void {
    const traceId = pairs[from].span.traceId;
    let parentId = pairs[from].span.parentSpanId;
    const path: number[] = [];
    let countedAbove = false;
    // The step bound guards against parent cycles in malformed input.
    for (let steps = 0; parentId !== '' && steps < 1000; steps++) {
      const key = traceId + parentId;
      const j = index.get(key);
      if (j === undefined) {
        // The nearest ancestor is not in this batch.
        if (this.countedUsage.has(key)) countedAbove = true;
        else this.pendingAncestors.add(key);
        break;
      }
      if (j === from) break;
      if (usage[j] === 1) {
        pairs[j].record!.usageCounted = false;
        break; // j is a source itself and continues the walk upwards
      }
      if (walked[j] !== 0) {
        countedAbove = walked[j] === 2;
        break;
      }
      walked[j] = 1;
      path.push(j);
      parentId = pairs[j].span.parentSpanId;
    }
    if (countedAbove) {
      // Reverse order: an ancestor was already stored as counted; count the late descendant out instead.
      for (const j of path) walked[j] = 2;
      const rec = pairs[from].record;
      if (rec && usage[from] === 1) rec.usageCounted = false;
    }
  }
}
