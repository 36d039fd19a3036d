// The demo's RAG service: answers questions about the Lumen Drive help center, instrumented with
// @ragscope/instrumentation the way an application would be. The OpenAI and Anthropic SDK calls are traced
// automatically (the process runs with `--import @ragscope/instrumentation/register`); this file adds the
// request root and the RAG stages no library can see:
//
//   traceRag ─ response cache? ─ embeddings (OpenAI) ─ retrieval ─ [rerank] ─ context assembly
//            ─ generation (OpenAI streaming, or Anthropic streaming with fallback to OpenAI) ─ citations
//
// Two features: `docs-search` (the A/B experiment `answer-model`: A = gpt-4o-mini with top-4 retrieval,
// B = gpt-5-mini, a reasoning model, with top-8 retrieval reranked to 4) and `support-chat` (multi-turn,
// Claude Haiku 4.5 with prompt caching; on a 429 / 529 it falls back to gpt-4o-mini).
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import {
  recordEvaluation,
  traceContextAssembly,
  tracePostProcessing,
  traceRag,
  traceRerank,
  traceRetrieval,
  type CitationResult,
  recordAnswerConfidence,
} from '@ragscope/instrumentation';
import type { Doc } from './corpus.js';
import type { ScoredDoc, VectorIndex } from './retriever.js';
import { contentWords, Random } from './text.js';

export const DATA_SOURCE = 'help-center';
export const EMBEDDING_MODEL = 'text-embedding-3-small';
export const EXPERIMENT = 'answer-model';
export type Feature = 'docs-search' | 'support-chat';
export type VariantName = 'A' | 'B';

export interface Variant {
  model: string;
  /** Documents retrieved. */
  topK: number;
  /** Documents kept after reranking (no rerank when absent). */
  rerankTo?: number;
  reasoning: boolean;
}

export const VARIANTS: Record<VariantName, Variant> = {
  A: { model: 'gpt-4o-mini', topK: 4, reasoning: false },
  B: { model: 'gpt-5-mini', topK: 8, rerankTo: 4, reasoning: true },
};
export const SUPPORT_CHAT = { model: 'claude-haiku-4-5', topK: 4, fallbackModel: 'gpt-4o-mini' };
export const RERANK_MODEL = 'ms-marco-MiniLM-L-6-v2';

export interface Turn {
  question: string;
  answer: string;
}

export interface AskInput {
  question: string;
  userId: string;
  sessionId: string;
  conversationId: string;
  feature: Feature;
  /** Experiment arm (docs-search). */
  variant?: VariantName;
  /** Earlier turns of the conversation (support-chat). */
  history?: Turn[];
}

export interface AskResult {
  traceId: string;
  spanId: string;
  answer: string;
  /** The model that answered (the request model; '' for a cached answer). */
  model: string;
  cached: boolean;
  /** Anthropic failed and OpenAI answered instead. */
  fallback: boolean;
  sources: ScoredDoc[];
  citations: CitationResult;
}

/** A failed request, with the trace id the failure was recorded under. */
export class AskError extends Error {
  constructor(
    readonly traceId: string,
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = cause instanceof Error ? cause.constructor.name : 'Error';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RagAppOptions {
  openai: OpenAI;
  anthropic: Anthropic;
  index: VectorIndex;
  docs: readonly Doc[];
  seed: number;
  /** Multiplies the simulated vector-store and reranker latencies. */
  latencyScale?: number;
  /** Share of answers checked by the online citation-groundedness evaluation. */
  evaluationRate?: number;
}

export class RagApp {
  readonly systemPrompt: string;
  private readonly cache = new Map<string, Omit<AskResult, 'traceId' | 'spanId' | 'cached'>>();
  private readonly rng: Random;
  private readonly scale: number;

  constructor(private readonly o: RagAppOptions) {
    this.systemPrompt = buildSystemPrompt(o.docs);
    this.rng = new Random(o.seed ^ 0x5eed);
    this.scale = o.latencyScale ?? 1;
  }

  async ask(input: AskInput): Promise<AskResult> {
    const variant = input.feature === 'docs-search' ? (input.variant ?? 'A') : undefined;
    let traceId = '';
    try {
      return await traceRag(
        'help-center-answer',
        {
          userId: input.userId,
          sessionId: input.sessionId,
          conversationId: input.conversationId,
          feature: input.feature,
          ...(variant ? { experiment: EXPERIMENT, variant } : {}),
          query: input.question,
        },
        async (request) => {
          traceId = request.traceId;
          const ids = { traceId: request.traceId, spanId: request.spanId };

          // The app's own response cache: an identical question (same arm, no conversation history) is
          // answered without retrieval or a model call.
          const cacheKey = `${input.feature}:${variant ?? ''}:${contentWords(input.question).join(' ')}`;
          const cached = input.history?.length ? undefined : this.cache.get(cacheKey);
          request.markCacheHit(cached !== undefined);
          if (cached) {
            this.remember(cacheKey, cached);
            return { ...cached, ...ids, cached: true };
          }

          const answer = input.feature === 'docs-search' ? await this.docsSearch(input, VARIANTS[variant!]) : await this.supportChat(input);
          const citations = tracePostProcessing({ name: 'citations' }, (stage) => stage.recordCitations(answer.answer, answer.sources));
          if (this.rng.chance(this.o.evaluationRate ?? 0.3)) {
            const cited = citations.count + citations.invalidCount;
            recordEvaluation({
              name: 'citation_groundedness',
              value: cited > 0 ? citations.count / cited : 1,
              label: citations.invalidCount > 0 ? 'ungrounded' : 'grounded',
              explanation: citations.invalidCount > 0 ? `cites ${citations.invalidRefs.map((n) => `[${n}]`).join(', ')}, which match no source` : undefined,
            });
          }
          // The app's own confidence in its answer: how well the best source matched, and how many of the
          // answer's citations point at a real source (an answer without citations counts half).
          const cited = citations.count + citations.invalidCount;
          const topScore = Math.max(0, ...answer.sources.map((d) => d.score));
          recordAnswerConfidence(Math.round(Math.min(1, 0.5 * topScore + 0.5 * (cited > 0 ? citations.count / cited : 0.5)) * 1000) / 1000);
          request.setAnswer(answer.answer);
          const result = { ...answer, citations };
          if (!input.history?.length) this.remember(cacheKey, result);
          return { ...result, ...ids, cached: false };
        },
      );
    } catch (err) {
      throw new AskError(traceId, err);
    }
  }

  /** A small LRU cache: the most recent 20 distinct questions per arm. */
  private remember(key: string, value: Omit<AskResult, 'traceId' | 'spanId' | 'cached'>): void {
    this.cache.delete(key);
    if (this.cache.size >= 20) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, value);
  }

  /** Embeds the question (OpenAI embeddings, traced by the instrumentation) and searches the index. */
  private async retrieve(question: string, topK: number): Promise<ScoredDoc[]> {
    const embedding = await this.o.openai.embeddings.create({ model: EMBEDDING_MODEL, input: question, dimensions: this.o.index.dimensions });
    const vector = embedding.data[0]!.embedding;
    return traceRetrieval({ dataSourceId: DATA_SOURCE, topK, query: question }, async (stage) => {
      await sleep(this.rng.logNormal(12) * this.scale); // a vector store's round trip
      const docs = this.o.index.search(vector, topK);
      stage.setDocuments(docs.map((d) => ({ id: d.id, score: d.score, content: d.text })));
      return docs;
    });
  }

  /** A local cross-encoder stand-in: blends the vector score with the share of question words a document contains. */
  private async rerank(question: string, docs: ScoredDoc[], keep: number): Promise<ScoredDoc[]> {
    return traceRerank({ model: RERANK_MODEL, topN: keep }, async (stage) => {
      await sleep(this.rng.logNormal(25) * this.scale);
      const q = new Set(contentWords(question));
      const ranked = docs
        .map((d) => {
          const words = new Set(contentWords(`${d.title} ${d.text}`));
          const covered = q.size > 0 ? [...q].filter((w) => words.has(w)).length / q.size : 0;
          return { ...d, score: Math.round((0.4 * d.score + 0.6 * covered) * 10_000) / 10_000 };
        })
        .sort((a, b) => b.score - a.score)
        .slice(0, keep);
      stage.setDocuments(ranked.map((d) => ({ id: d.id, score: d.score, content: d.text })));
      return ranked;
    });
  }

  private assembleContext(question: string, docs: ScoredDoc[]): string {
    return traceContextAssembly(undefined, (stage) => {
      stage.setChunks(docs.map((d) => d.text));
      const sources = docs.map((d, i) => `[${i + 1}] ${d.title} (${d.id}): ${d.text}`).join('\n');
      return `Sources:\n${sources}\n\nQuestion: ${question}`;
    });
  }

  private async docsSearch(input: AskInput, variant: Variant): Promise<{ answer: string; model: string; fallback: boolean; sources: ScoredDoc[] }> {
    let sources = await this.retrieve(input.question, variant.topK);
    if (variant.rerankTo) sources = await this.rerank(input.question, sources, variant.rerankTo);
    const userMessage = this.assembleContext(input.question, sources);
    const answer = await this.openaiAnswer(variant.model, variant.reasoning, userMessage, []);
    return { answer, model: variant.model, fallback: false, sources };
  }

  private async supportChat(input: AskInput): Promise<{ answer: string; model: string; fallback: boolean; sources: ScoredDoc[] }> {
    // Follow-ups are retrieved with the previous question as context.
    const previous = input.history?.at(-1)?.question;
    const sources = await this.retrieve(previous ? `${previous} ${input.question}` : input.question, SUPPORT_CHAT.topK);
    const userMessage = this.assembleContext(input.question, sources);
    const history = (input.history ?? []).flatMap((t) => [
      { role: 'user' as const, content: t.question },
      { role: 'assistant' as const, content: t.answer },
    ]);
    try {
      const stream = this.o.anthropic.messages.stream({
        model: SUPPORT_CHAT.model,
        max_tokens: 1024,
        system: [{ type: 'text', text: this.systemPrompt, cache_control: { type: 'ephemeral' } }],
        messages: [...history, { role: 'user', content: userMessage }],
      });
      const message = await stream.finalMessage();
      const answer = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return { answer, model: SUPPORT_CHAT.model, fallback: false, sources };
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status !== 429 && status !== 529 && status !== 500 && status !== 503) throw err;
      // Rate limited or overloaded: answer with the fallback model rather than fail the user.
      const answer = await this.openaiAnswer(SUPPORT_CHAT.fallbackModel, false, userMessage, history);
      return { answer, model: SUPPORT_CHAT.fallbackModel, fallback: true, sources };
    }
  }

  /** A streamed chat completion; the instrumentation records usage (include_usage), TTFT and retries. */
  private async openaiAnswer(model: string, reasoning: boolean, userMessage: string, history: { role: 'user' | 'assistant'; content: string }[]): Promise<string> {
    const stream = await this.o.openai.chat.completions.create({
      model,
      messages: [{ role: 'system', content: this.systemPrompt }, ...history, { role: 'user', content: userMessage }],
      stream: true,
      stream_options: { include_usage: true },
      ...(reasoning ? { reasoning_effort: 'low' as const, max_completion_tokens: 2048 } : { temperature: 0.2, max_tokens: 512 }),
    });
    let answer = '';
    for await (const chunk of stream) answer += chunk.choices[0]?.delta?.content ?? '';
    return answer;
  }
}

/**
 * The system prompt: instructions plus the catalogue of help-center articles. It is long (> 1024 tokens) and
 * identical on every request, so the providers serve it from their prompt cache (cached input tokens).
 */
export function buildSystemPrompt(docs: readonly Doc[]): string {
  const catalogue = docs.map((d) => `- ${d.title} (${d.id})`).join('\n');
  return `You are the help-center assistant of Lumen Drive, a cloud file storage and sharing service for individuals and teams.
You answer questions from customers and from Lumen Drive's own support agents.

How to answer:
1. Use only the numbered sources given with the question. Never rely on memory of other products, and never invent
   features, prices, limits or menu paths. If the sources do not answer the question, say so plainly and point the
   customer to support (Settings > Help); do not guess.
2. Cite every statement with the number of the source it comes from, in square brackets, e.g. "Share links can expire
   after 7 days [2]." Cite only numbers that appear in the sources list. One statement may cite several sources: [1][3].
3. Be brief: two to four sentences, in the customer's language. Lead with the direct answer, then the one detail that
   matters most (the menu path, the limit, the plan it needs). No greetings, no sign-off, no marketing language.
4. Menu paths are written with ">" between levels, exactly as in the sources: Settings > Billing > Invoices.
5. When a feature depends on the plan, name the plans that have it. When it depends on the role (owner, admin,
   billing admin, editor, viewer), name the role.
6. Never ask for or repeat passwords, recovery codes, API keys, card numbers or one-time codes, even if the customer
   pastes them. If they do, tell them to rotate the secret.
7. For account security incidents (a stolen device, an unknown sign-in, ransomware), give the recovery steps from the
   sources first and then recommend contacting support.
8. Refunds, legal requests, data deletion requests and anything about another person's account are handled by the
   support team only: explain the policy from the sources and send the customer to support.
9. If a question is unrelated to Lumen Drive (weather, recipes, general knowledge, coding help), politely say that you
   can only help with Lumen Drive.
10. If the customer is an administrator of a Business organization, prefer the admin console instructions over the
    per-user settings.

Format: plain text, no Markdown headings, no bullet lists unless the customer asks for steps. Numbers and limits are
written as in the sources (5 GB, 30 days, $12 per month). Dates are written as "14 days", never as a calendar date.

Tone: calm, precise and friendly. Do not apologise for things that are not errors. Do not speculate about outages;
the status page is status.lumendrive.example.

Example 1
Sources:
[1] Trash and restoring deleted files (trash-restore): Deleted files go to the Trash, where they stay for 30 days on
Free and 180 days on paid plans before they are erased.
[2] File version history (file-versions): Every change to a file creates a version.
Question: I deleted a folder last week by accident, can I get it back?
Answer: Yes: deleted files stay in the Trash for 30 days on Free and 180 days on paid plans, so you can restore the
folder from the Trash on the web [1].

Example 2
Sources:
[1] Plans and pricing (plans-pricing): Lumen Drive has four plans: Free (5 GB), Plus at $6 per month (500 GB), Pro
at $12 per month (2 TB) and Business at $15 per user per month.
Question: Can you recommend a good VPN?
Answer: I can only help with Lumen Drive. For anything else, please use another resource.

Glossary: "owner" is the person who created a file or folder; "organization" is a Business account with its admin
console; "member" is a user of an organization; "link" always means a share link; "Rewind" is the point-in-time
restore of a folder or account; "Camera Uploads" is the folder the mobile apps upload photos to.

Help-center articles (the sources come from these):
${catalogue}
`;
}
