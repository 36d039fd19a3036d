// Synthetic conversations with known implicit feedback: each conversation is a sequence of questions whose
// relation to the previous answer is planned (repeat, reformulation, follow-up) and whose last answer ends
// the conversation (abandoned unless the user gave feedback on it). Answer quality depends on the variant
// ('concise' answers worse than 'control' in prompt-v2 of support-chat), and drives both the explicit
// feedback (thumbs down) and the implicit signal (a low-quality answer is more often reformulated or repeated),
// so tests can check that implicit and explicit feedback agree. Gaps are drawn well inside the default
// thresholds (docs/analytics.md), so the planned relation is what the definitions must find.
import { FEATURES, questionsFor, type Question } from './catalog.js';
import { generateRequest, sketchOf, type Population, type RequestPlan } from './generate.js';
import { hammingDistance } from '../../instrumentation/src/sketch.js';
import { Prng } from './prng.js';
import { SIGNAL_THRESHOLD_DEFAULTS } from '../../processor/src/config.js';
import type { SynthDataset, SynthFeedback, SynthRequest } from './model.js';

/** Default thresholds of the implicit-feedback definitions (clickhouse/signal-thresholds.json, the processor's defaults). */
export const IMPLICIT_DEFAULTS = SIGNAL_THRESHOLD_DEFAULTS;

export type PlannedRelation = 'repeat' | 'reformulation' | 'follow_up' | 'end';

export interface PlannedTurn {
  traceId: string;
  /** What the user did after this answer. */
  next: PlannedRelation;
  /** Answer end → next question, ms (null for the last turn). */
  gapMs: number | null;
  feedback: 'up' | 'down' | null;
  failedOrEmpty: boolean;
}

export interface ConversationDataset extends SynthDataset {
  /** Planned truth per request (trace id). */
  truth: Map<string, PlannedTurn>;
}

export interface ConversationOptions {
  seed?: string | number;
  conversations?: number;
  days?: number;
  /** End of the window (exclusive), ms; the last conversation starts at least 4 hours before it. */
  endMs: number;
  /** Base answer quality per prompt-v2 variant. */
  quality?: Record<'control' | 'concise', number>;
}

const FEATURE = 'support-chat';
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const REFORMULATIONS: ((t: string) => string)[] = [
  (t) => `${t.replace(/\?$/, '')} please?`,
  (t) => `Hi, ${t}`,
  (t) => `${t.replace(/\?$/, '')} again?`,
  (t) => `So ${t.charAt(0).toLowerCase()}${t.slice(1)}`,
];

function distance(a: string, b: string): number {
  return hammingDistance(BigInt(`0x${sketchOf(a)}`), BigInt(`0x${sketchOf(b)}`));
}

/** A rephrasing of `text` within the reformulation distance (there always is one among the edits). */
function reformulate(rng: Prng, text: string): string {
  const k = IMPLICIT_DEFAULTS.reformulationMaxDistance;
  const start = rng.int(0, REFORMULATIONS.length - 1);
  for (let i = 0; i < REFORMULATIONS.length; i++) {
    const candidate = REFORMULATIONS[(start + i) % REFORMULATIONS.length]!(text);
    if (distance(text, candidate) <= k) return candidate;
  }
  throw new Error(`no reformulation of "${text}" within ${k} bits`);
}

/** Another catalog question, clearly not a rephrasing of `text`. */
function otherQuestion(rng: Prng, questions: Question[], text: string): Question {
  for (;;) {
    const q = questions[rng.int(0, questions.length - 1)]!;
    if (q.text !== text && distance(q.text, text) > IMPLICIT_DEFAULTS.reformulationMaxDistance + 4) return q;
  }
}

export function generateConversations(options: ConversationOptions): ConversationDataset {
  const seed = String(options.seed ?? 'conversations');
  const n = options.conversations ?? 300;
  const days = options.days ?? 3;
  const toMs = options.endMs;
  const fromMs = toMs - days * 86_400_000;
  const quality = options.quality ?? { control: 0.82, concise: 0.42 };
  const root = new Prng(seed);
  const feature = FEATURES.find((f) => f.name === FEATURE)!;
  const questions = questionsFor(feature);
  const users = Array.from({ length: Math.max(5, Math.round(n / 4)) }, (_, i) => `cuser-${String(i + 1).padStart(4, '0')}`);
  const pop: Population = { users, questions: new Map([[FEATURE, questions]]) };
  const requests: SynthRequest[] = [];
  const feedback: SynthFeedback[] = [];
  const truth = new Map<string, PlannedTurn>();
  let index = 0;
  for (let c = 0; c < n; c++) {
    const rng = root.fork(`conversation-${c}`);
    const variant = c % 2 === 0 ? 'control' : 'concise';
    const userId = users[rng.int(0, users.length - 1)]!;
    const turns = rng.int(1, 6);
    let t = fromMs + rng.uniform(0, toMs - fromMs - 4 * 3_600_000);
    let question = questions[rng.int(0, questions.length - 1)]!;
    for (let i = 0; i < turns; i++) {
      const emptyRetrieval = rng.bool(0.06);
      const fail = !emptyRetrieval && rng.bool(0.04);
      const plan: RequestPlan = {
        startMs: Math.round(t),
        feature: FEATURE,
        variant,
        userId,
        sessionId: `csess-${c}`,
        conversationId: `cconv-${c}`,
        question,
        emptyRetrieval,
        fail,
        contentCaptured: rng.bool(0.5),
      };
      const req = generateRequest(index++, rng.fork(`turn-${i}`), pop, fromMs, toMs, { rateLimitRate: 0 }, plan);
      const q = emptyRetrieval || fail ? 0.1 : clamp(quality[variant] + rng.normal() * 0.12, 0, 1);
      req.quality = q;
      requests.push(req);
      const endMs = Number(req.endNs / 1_000_000n);
      const last = i === turns - 1;
      let next: PlannedRelation = 'end';
      let gapMs: number | null = null;
      if (!last) {
        const r = rng.next();
        next = r < (1 - q) * 0.2 ? 'repeat' : r < (1 - q) * 0.85 ? 'reformulation' : 'follow_up';
        // Inside the thresholds: a repeat within 10 min of the previous start, a reformulation within 5 min of
        // the answer, a follow-up within the 30 min session timeout.
        gapMs = Math.round(next === 'repeat' ? rng.uniform(3_000, 90_000) : next === 'reformulation' ? rng.uniform(5_000, 150_000) : rng.uniform(10_000, 20 * 60_000));
      }
      let given: 'up' | 'down' | null = null;
      if (rng.bool(0.4)) {
        given = rng.next() < q ? 'up' : 'down';
        const timeMs = endMs + Math.round(gapMs === null ? rng.uniform(2_000, 60_000) : Math.min(60_000, gapMs / 2));
        feedback.push({
          key: `cfb-${req.index}`,
          feedbackId: `cfb-${req.traceId.slice(0, 16)}`,
          channel: rng.bool(0.5) ? 'otlp' : 'api',
          linkBy: 'trace',
          requestTraceId: req.traceId,
          spanId: req.rootSpanId,
          responseId: '',
          userId,
          service: req.service,
          versions: [{ timeMs, kind: 'thumbs', thumbs: given, rating: null, score: null, comment: '', tags: [] }],
        });
      }
      truth.set(req.traceId, { traceId: req.traceId, next, gapMs, feedback: given, failedOrEmpty: emptyRetrieval || fail });
      if (!last) {
        t = endMs + gapMs!;
        question = next === 'repeat' ? question : next === 'reformulation' ? { text: reformulate(rng, question.text), topic: question.topic } : otherQuestion(rng, questions, question.text);
      }
    }
  }
  requests.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.index - b.index));
  return { seed, fromMs, toMs, requests, feedback, evaluations: [], truth };
}
