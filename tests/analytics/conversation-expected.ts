// Conversations and implicit feedback computed independently in TypeScript from the generator's records,
// following the definitions in docs/analytics.md ("Conversations and implicit feedback"), for comparison with
// the SQL views and named queries of migration 0026.
import { hammingDistance } from '../../instrumentation/src/sketch.js';
import type { SynthDataset, SynthRequest } from '../../tools/synthetic/index.js';
import { expectedRequest, feedbackInRange, finalVersion, type ExpectedRequest } from './expected.js';

export interface Thresholds {
  repeatWindowMin: number;
  reformulationWindowMin: number;
  reformulationMaxDistance: number;
  sessionTimeoutMin: number;
}

export interface Turn {
  req: SynthRequest;
  e: ExpectedRequest;
  service: string;
  key: string;
  startMs: number;
  endMs: number;
  emptyRetrieval: boolean;
  feedback: number;
  thumbsFeedback: number;
  thumbsDown: number;
  next: Turn | null;
  repeat: boolean;
  reformulation: boolean;
  followUp: boolean;
  abandoned: boolean;
  abandonedAfterFailure: boolean;
  open: boolean;
  engagementMs: number | null;
  outcome: 'repeat' | 'reformulation' | 'follow_up' | 'abandoned' | 'ended_with_feedback' | 'open';
}

const MIN = 60_000;
const keyOf = (r: SynthRequest) => (r.conversationId !== '' ? r.conversationId : r.sessionId);
const sketch = (r: SynthRequest) => BigInt(`0x${r.querySketch}`);

/** Requests with a conversation/session id that started in [fromMs, toMs), as conversation_requests has them. */
export function conversationRequests(ds: SynthDataset, fromMs: number, toMs: number): { req: SynthRequest; e: ExpectedRequest }[] {
  return ds.requests
    .map((req) => ({ req, e: expectedRequest(req) }))
    .filter(({ req, e }) => keyOf(req) !== '' && e.startMs >= fromMs && e.startMs < toMs);
}

/** Every answer that started in [fromMs, toMs) with its implicit signals (conversation_turn_signals). */
export function expectedTurns(ds: SynthDataset, fromMs: number, toMs: number, th: Thresholds): Turn[] {
  const timeout = th.sessionTimeoutMin * MIN;
  const read = conversationRequests(ds, fromMs, toMs + timeout);
  const watermark = Math.max(...read.map(({ e }) => e.startMs));
  const fb = new Map<string, { n: number; thumbs: number; down: number }>();
  for (const f of feedbackInRange(ds, fromMs, toMs + timeout)) {
    const v = finalVersion(f);
    const c = fb.get(f.requestTraceId) ?? { n: 0, thumbs: 0, down: 0 };
    c.n++;
    if (v.kind === 'thumbs') c.thumbs++;
    if (v.thumbs === 'down') c.down++;
    fb.set(f.requestTraceId, c);
  }
  const turns: Turn[] = read.map(({ req, e }) => {
    const f = fb.get(req.traceId);
    return {
      req, e, service: req.service, key: keyOf(req), startMs: e.startMs, endMs: e.endMs,
      emptyRetrieval: e.emptyRetrievals > 0,
      feedback: f?.n ?? 0, thumbsFeedback: f?.thumbs ?? 0, thumbsDown: f?.down ?? 0,
      next: null, repeat: false, reformulation: false, followUp: false, abandoned: false, abandonedAfterFailure: false, open: false,
      engagementMs: null, outcome: 'open',
    };
  });
  const groups = new Map<string, Turn[]>();
  for (const t of turns) {
    const k = `${t.service}\u0000${t.key}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(t);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => a.startMs - b.startMs || (a.req.traceId < b.req.traceId ? -1 : 1));
    g.forEach((t, i) => {
      const n = g[i + 1];
      t.next = n && n.startMs <= t.endMs + timeout ? n : null;
    });
  }
  for (const t of turns) {
    const n = t.next;
    if (n) {
      t.repeat = t.req.fingerprint !== '' && n.req.fingerprint === t.req.fingerprint && n.startMs <= t.startMs + th.repeatWindowMin * MIN;
      t.reformulation =
        !t.repeat && n.req.fingerprint !== t.req.fingerprint &&
        hammingDistance(sketch(t.req), sketch(n.req)) <= th.reformulationMaxDistance &&
        n.startMs <= t.endMs + th.reformulationWindowMin * MIN;
      t.followUp = !t.repeat && !t.reformulation;
      // dateDiff('millisecond') on microsecond times: whole milliseconds crossed.
      t.engagementMs = Math.max(0, Math.floor(n.startMs) - Math.floor(t.endMs));
      t.outcome = t.repeat ? 'repeat' : t.reformulation ? 'reformulation' : 'follow_up';
    } else {
      const ended = t.endMs + timeout <= watermark;
      t.abandoned = ended && t.feedback === 0;
      t.abandonedAfterFailure = t.abandoned && (t.e.hasError || t.emptyRetrieval);
      t.open = !ended;
      t.outcome = t.abandoned ? 'abandoned' : ended ? 'ended_with_feedback' : 'open';
    }
  }
  return turns.filter((t) => t.startMs < toMs);
}
