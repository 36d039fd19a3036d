// Simulated users: who asks what, how often, in which experiment arm, and how they rate the answers.
// Feedback goes through recordFeedback() with the trace id the app handed to the "front end", exactly as a
// real app would forward a thumbs click or a star rating.
import { recordFeedback } from '@ragscope/instrumentation';
import { AskError, type AskResult, type Feature, type RagApp, type Turn, type VariantName } from './rag-app.js';
import { NOT_FOUND_ANSWER } from './simulated-llm.js';
import { hash32, Random } from './text.js';

/** A question with the document that answers it (null: off-topic, nothing in the help center). */
export interface Intent {
  doc: string | null;
  phrasings: string[];
}

/** Most popular first (users pick them with Zipf-like weights). */
export const INTENTS: Intent[] = [
  { doc: 'password-reset', phrasings: ['How do I reset my password?', 'I forgot my password, what do I do?', 'password reset link expired'] },
  { doc: 'plans-pricing', phrasings: ['How much does the Pro plan cost?', 'What plans do you have and how much storage do they include?'] },
  { doc: 'share-links', phrasings: ['How do I share a file with a link?', 'Can I password protect a share link?'] },
  { doc: 'trash-restore', phrasings: ['How do I restore a deleted file?', 'How long do deleted files stay in the trash?'] },
  { doc: 'storage-limits', phrasings: ['What happens when my storage is full?', 'Do files shared with me count against my storage?'] },
  { doc: 'file-versions', phrasings: ['How do I restore an older version of a file?', 'How long is version history kept?'] },
  { doc: 'refunds', phrasings: ['Can I get a refund for my yearly plan?', 'What is your refund policy?'] },
  { doc: 'two-factor', phrasings: ['How do I turn on two-factor authentication?', 'Do you support SMS codes for two-factor?'] },
  { doc: 'sync-conflicts', phrasings: ['Why do I have a conflicted copy of my file?', 'What happens if two devices edit the same file?'] },
  { doc: 'upgrade-plan', phrasings: ['How do I upgrade my plan?', 'What happens to my files if I downgrade?'] },
  { doc: 'link-expiry', phrasings: ['Can share links expire automatically?', 'How do I extend an expired link?'] },
  { doc: 'desktop-sync', phrasings: ['Why does the desktop app pause sync on battery?', 'Is there a desktop sync app for Linux?'] },
  { doc: 'invoices', phrasings: ['Where can I download my invoices?', 'How do I add my VAT number to invoices?'] },
  { doc: 'large-uploads', phrasings: ['What is the maximum file size for uploads?', 'How do I upload a 200 GB file?'] },
  { doc: 'selective-sync', phrasings: ['How do I choose which folders sync to my laptop?', 'Does deselecting a folder delete it from the cloud?'] },
  { doc: 'payment-methods', phrasings: ['Can I pay with PayPal?', 'What happens if my payment fails?'] },
  { doc: 'shared-folders', phrasings: ['Who can change permissions on a shared folder?', 'What can an editor do in a shared folder?'] },
  { doc: 'delete-account', phrasings: ['How do I delete my account?', 'Can I recover my account after deleting it?'] },
  { doc: 'api-rate-limits', phrasings: ['What are the API rate limits?', 'Why do I get HTTP 429 from the API?'] },
  { doc: 'sso', phrasings: ['Does Lumen Drive support SAML single sign-on with Okta?', 'How do I set up SSO for my organization?'] },
  { doc: 'camera-upload', phrasings: ['How do camera uploads work?', 'Does camera upload keep RAW photos in original quality?'] },
  { doc: 'offline-files', phrasings: ['How do I make files available offline on my phone?'] },
  { doc: 'student-discount', phrasings: ['Is there a student discount?', 'Do nonprofits get a discount?'] },
  { doc: 'encryption', phrasings: ['Are my files encrypted?', 'Can I bring my own encryption keys?'] },
  { doc: 'account-signup', phrasings: ['How much storage does a free account get?', 'Can I sign up with my Google account?'] },
  { doc: 'change-email', phrasings: ['How do I change the email address on my account?'] },
  { doc: 'ransomware-recovery', phrasings: ['Ransomware encrypted my files, how do I restore the whole folder?', 'How does Rewind work?'] },
  { doc: 'api-keys', phrasings: ['How do I create an API key?', 'Can an API key be limited to one folder?'] },
  { doc: 'webhooks', phrasings: ['How do I verify webhook signatures?', 'Are failed webhook deliveries retried?'] },
  { doc: 'team-billing', phrasings: ['How is billing calculated for teams?', 'Are removed users still billed?'] },
  { doc: 'external-collaborators', phrasings: ['Can I block sharing with people outside my organization?'] },
  { doc: 'audit-log', phrasings: ['How long is the audit log kept?', 'Can I export the audit log as CSV?'] },
  { doc: 'data-residency', phrasings: ['Can we store our files in the European Union?', 'How do we move our organization to another region?'] },
  { doc: 'scim-provisioning', phrasings: ['Do you support SCIM provisioning with Entra ID?'] },
  { doc: 'device-management', phrasings: ['How do I remotely wipe a lost laptop?'] },
  { doc: 'sdks', phrasings: ['Is there a Python SDK?', 'Do you have a Slack integration?'] },
  { doc: null, phrasings: ["What's the weather in Paris tomorrow?", 'Write me a poem about cats.', 'How do I cook risotto?'] },
  { doc: null, phrasings: ['Can you fix my Python script?', 'Who won the football world cup in 2018?'] },
];

const FOLLOW_UPS = ['And on the Business plan?', 'Where do I find that in the settings?', 'Does that work on mobile too?', 'Is there a limit?'];
const DOWN_COMMENTS: [string, string[]][] = [
  ['cited the wrong article', ['wrong-source']],
  ['the answer links to a source that does not exist', ['hallucination']],
  ['not what I asked', ['irrelevant']],
  ['too slow', ['latency']],
];
const UP_COMMENTS = ['exactly what I needed', 'clear and short', 'thanks!'];

export interface TrafficOptions {
  /** Requests to send (0 = no limit: run until `durationSeconds` or stop()). */
  requests: number;
  /** New requests per second (open loop, exponential inter-arrival times). */
  rate: number;
  /** Stop starting requests after this many seconds (0 = no limit). */
  durationSeconds: number;
  /** At most this many requests in flight. */
  concurrency: number;
  /** The first `burst` requests arrive ten times faster. */
  burst?: number;
  seed: number;
  /** Multiplies the users' think time before giving feedback. */
  latencyScale?: number;
  users?: number;
}

export interface TrafficStats {
  started: number;
  done: number;
  ok: number;
  failed: number;
  cacheHits: number;
  fallbacks: number;
  /** Distinct feedback ids sent (a changed vote keeps its id). */
  feedback: number;
  feedbackUpdates: number;
  thumbsUp: number;
  thumbsDown: number;
  ratings: number;
  /** Error class names of failed requests and how often. */
  errors: Record<string, number>;
  elapsedMs: number;
}

interface User {
  id: string;
  variant: VariantName;
  weight: number;
  session: number;
  requestsInSession: number;
  conversation?: { id: string; turns: Turn[] };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Traffic {
  readonly stats: TrafficStats = {
    started: 0,
    done: 0,
    ok: 0,
    failed: 0,
    cacheHits: 0,
    fallbacks: 0,
    feedback: 0,
    feedbackUpdates: 0,
    thumbsUp: 0,
    thumbsDown: 0,
    ratings: 0,
    errors: {},
    elapsedMs: 0,
  };
  /** Arrivals, users and questions: with a fixed seed, the same sequence of requests every run. */
  private readonly rng: Random;
  /** Users' reactions (drawn as answers complete, in whatever order that happens). */
  private readonly feedbackRng: Random;
  private readonly users: User[];
  private readonly intentWeights: number[];
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly runId: string;

  constructor(
    private readonly app: RagApp,
    private readonly o: TrafficOptions,
  ) {
    this.rng = new Random(o.seed);
    this.feedbackRng = new Random(o.seed ^ 0xfeed);
    this.runId = (hash32(`${o.seed}:${Date.now()}`) % 46656).toString(36).padStart(3, '0');
    const n = o.users ?? 24;
    this.users = Array.from({ length: n }, (_, i) => {
      const id = `u-${String(1001 + i)}`;
      // Sticky experiment assignment: the arm is a hash of the user id.
      return { id, variant: hash32(`${EXPERIMENT_SALT}:${id}`) % 2 === 0 ? 'A' : 'B', weight: 1 / Math.pow(i + 1, 0.8), session: 0, requestsInSession: 0 };
    });
    this.intentWeights = INTENTS.map((intent, i) => (intent.doc === null ? 0.35 : 1 / Math.pow(i + 1, 0.7)));
  }

  /** Stops starting new requests; run() resolves once the ones in flight are done. */
  stop(): void {
    this.stopped = true;
  }

  async run(onUpdate?: (stats: TrafficStats, inFlight: number) => void): Promise<TrafficStats> {
    const started = Date.now();
    const { requests, rate, durationSeconds, concurrency } = this.o;
    let nextAt = started;
    const inFlight = new Set<Promise<void>>();
    const update = () => {
      this.stats.elapsedMs = Date.now() - started;
      onUpdate?.(this.stats, inFlight.size);
    };
    while (!this.stopped && (requests <= 0 || this.stats.started < requests)) {
      const burst = this.stats.started < (this.o.burst ?? 0);
      nextAt += this.rng.exponential(1000 / (rate * (burst ? 10 : 1)));
      const wait = nextAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (durationSeconds > 0 && Date.now() - started >= durationSeconds * 1000) break;
      while (inFlight.size >= concurrency && !this.stopped) await Promise.race(inFlight);
      if (this.stopped) break;
      const p = this.one().finally(() => {
        inFlight.delete(p);
        update();
      });
      inFlight.add(p);
      update();
    }
    await Promise.all(inFlight);
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    update();
    return this.stats;
  }

  private pickUser(): User {
    return this.users[this.rng.weighted(this.users.map((u) => u.weight))]!;
  }

  private async one(): Promise<void> {
    this.stats.started++;
    const user = this.pickUser();
    if (user.requestsInSession >= this.rng.int(3, 6)) {
      user.session++;
      user.requestsInSession = 0;
      user.conversation = undefined;
    }
    user.requestsInSession++;
    const sessionId = `s-${this.runId}-${user.id}-${user.session}`;

    // A follow-up in an open support conversation, or a new question.
    let feature: Feature;
    let question: string;
    let intent: Intent;
    const conversation = user.conversation;
    if (conversation && conversation.turns.length < 3 && this.rng.chance(0.5)) {
      feature = 'support-chat';
      question = this.rng.pick(FOLLOW_UPS);
      intent = { doc: null, phrasings: [] };
    } else {
      intent = INTENTS[this.rng.weighted(this.intentWeights)]!;
      question = this.rng.pick(intent.phrasings);
      feature = this.rng.chance(0.3) ? 'support-chat' : 'docs-search';
      if (feature === 'support-chat') user.conversation = { id: `c-${this.runId}-${user.id}-${user.session}-${this.stats.started}`, turns: [] };
    }
    const conv = feature === 'support-chat' ? user.conversation! : undefined;
    let result: AskResult;
    try {
      result = await this.app.ask({
        question,
        userId: user.id,
        sessionId,
        conversationId: conv?.id ?? `c-${this.runId}-${user.id}-${this.stats.started}`,
        feature,
        variant: feature === 'docs-search' ? user.variant : undefined,
        history: conv?.turns,
      });
    } catch (err) {
      this.stats.done++;
      this.stats.failed++;
      const name = err instanceof AskError ? err.name : 'Error';
      this.stats.errors[name] = (this.stats.errors[name] ?? 0) + 1;
      return;
    }
    this.stats.done++;
    this.stats.ok++;
    if (result.cached) this.stats.cacheHits++;
    if (result.fallback) this.stats.fallbacks++;
    conv?.turns.push({ question, answer: result.answer });
    this.giveFeedback(user, intent, result);
  }

  /** How good the answer looks to a user who knows what they were looking for (0..1). */
  private quality(intent: Intent, r: AskResult): number {
    const notFound = r.answer === NOT_FOUND_ANSWER;
    if (intent.doc === null) return notFound ? 0.7 : 0.45;
    if (notFound) return 0.15;
    let q = r.citations.citedIds.includes(intent.doc) ? 0.9 : 0.3;
    if (r.citations.invalidCount > 0) q -= 0.35;
    return Math.min(0.97, Math.max(0.03, q));
  }

  /** Some users click thumbs up/down, a few give a star rating, most do nothing; some change their mind. */
  private giveFeedback(user: User, intent: Intent, r: AskResult): void {
    const q = this.quality(intent, r);
    const roll = this.feedbackRng.next();
    const thinkMs = this.feedbackRng.between(50, 400) * (this.o.latencyScale ?? 1);
    if (roll < 0.5) {
      const up = this.feedbackRng.chance(q);
      const comment = up ? (this.feedbackRng.chance(0.15) ? this.feedbackRng.pick(UP_COMMENTS) : undefined) : this.feedbackRng.chance(0.4) ? this.feedbackRng.pick(DOWN_COMMENTS) : undefined;
      const changesMind = this.feedbackRng.chance(0.05);
      this.later(thinkMs, () => {
        const sent = recordFeedback({
          traceId: r.traceId,
          thumbs: up ? 'up' : 'down',
          userId: user.id,
          ...(typeof comment === 'string' ? { comment } : comment ? { comment: comment[0], tags: comment[1] } : {}),
        });
        if (!sent.ok) return;
        this.stats.feedback++;
        if (up) this.stats.thumbsUp++;
        else this.stats.thumbsDown++;
        if (!changesMind) return;
        // Same feedback id again: the processor keeps the latest version.
        this.later(thinkMs, () => {
          const again = recordFeedback({ traceId: r.traceId, thumbs: up ? 'down' : 'up', userId: user.id, feedbackId: sent.feedbackId });
          if (!again.ok) return;
          this.stats.feedbackUpdates++;
          if (up) [this.stats.thumbsUp, this.stats.thumbsDown] = [this.stats.thumbsUp - 1, this.stats.thumbsDown + 1];
          else [this.stats.thumbsUp, this.stats.thumbsDown] = [this.stats.thumbsUp + 1, this.stats.thumbsDown - 1];
        });
      });
    } else if (roll < 0.65) {
      const rating = Math.min(5, Math.max(1, Math.round(1 + 4 * q + this.feedbackRng.between(-0.8, 0.8))));
      this.later(thinkMs, () => {
        if (recordFeedback({ traceId: r.traceId, rating, userId: user.id }).ok) {
          this.stats.feedback++;
          this.stats.ratings++;
        }
      });
    }
  }

  private later(ms: number, f: () => void): void {
    const p = sleep(ms).then(f);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

const EXPERIMENT_SALT = 'answer-model';
