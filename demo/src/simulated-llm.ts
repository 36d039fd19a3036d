// The demo's simulated providers: behaviour plugged into the local OpenAI / Anthropic stubs
// (provider-stub.ts) so the real SDKs see realistic traffic without any account or network:
// - answers composed from the sources in the prompt, citing them as [n]; a weaker model sometimes cites the
//   wrong source or a source that does not exist (an invalid citation); off-topic questions get "not found";
// - token usage computed from the request: prompt tokens, provider prompt caching (OpenAI caches a repeated
//   prefix of >= 1024 tokens in 128-token steps; Anthropic reads or writes blocks marked cache_control),
//   reasoning tokens for reasoning models (the minimum cacheable prefix is simplified to 1024 tokens for
//   every model);
// - latency: log-normal time to first token (plus thinking time for reasoning tokens), per-chunk streaming
//   delay, a slow tail;
// - faults: occasional 429s (with retry-after-ms), 500s, Anthropic 529 "overloaded", and short OpenAI
//   incidents (0.6-1.3 s in which half the calls fail, so some requests fail even after the SDK's retry).
import {
  anthropicOverloadedFault,
  anthropicRateLimitFault,
  openaiRateLimitFault,
  openaiServerErrorFault,
  type AnthropicStubOptions,
  type ChatReply,
  type EmbeddingsReply,
  type MessageReply,
  type OpenAIStubOptions,
  type StubCall,
  type StubFault,
} from './provider-stub.js';
import { contentWords, embedText, EMBEDDING_DIMENSIONS, estimateTokens, hash32, Random } from './text.js';

export interface SimulationOptions {
  seed: number;
  /** Multiplies every simulated latency: 1 = realistic, 0.2 = five times faster. */
  latencyScale?: number;
  /** Multiplies the fault probabilities: 0 = no provider errors. */
  faultScale?: number;
}

export interface ModelProfile {
  /** The dated model the provider answers with. */
  snapshot: string;
  /** Median time to first token, ms. */
  ttftMs: number;
  /** Median delay between streamed chunks, ms. */
  chunkMs: number;
  /** Reasoning tokens per answer (reasoning models). */
  reasoning?: [number, number];
  msPerReasoningToken?: number;
  /** Probability of citing a wrong (but existing) source, and of citing a source that does not exist. */
  wrongSourceRate: number;
  invalidCitationRate: number;
}

const PROFILES: Record<string, ModelProfile> = {
  'gpt-4o-mini': { snapshot: 'gpt-4o-mini-2024-07-18', ttftMs: 260, chunkMs: 9, wrongSourceRate: 0.12, invalidCitationRate: 0.14 },
  'gpt-5-mini': {
    snapshot: 'gpt-5-mini-2025-08-07',
    ttftMs: 330,
    chunkMs: 7,
    reasoning: [128, 768],
    msPerReasoningToken: 0.6,
    wrongSourceRate: 0.04,
    invalidCitationRate: 0.03,
  },
  'claude-haiku-4-5': { snapshot: 'claude-haiku-4-5-20251001', ttftMs: 380, chunkMs: 10, wrongSourceRate: 0.05, invalidCitationRate: 0.05 },
};

function profileOf(model: string): ModelProfile {
  return PROFILES[model] ?? { snapshot: model, ttftMs: 300, chunkMs: 9, wrongSourceRate: 0.1, invalidCitationRate: 0.1 };
}

/** Mean time between OpenAI incidents (before faultScale). */
export const INCIDENT_INTERVAL_MS = 20_000;

/** Fault probabilities per call (before faultScale). */
export const FAULT_RATES = {
  openaiChatRateLimit: 0.06,
  openaiChatServerError: 0.01,
  openaiEmbeddingsRateLimit: 0.015,
  anthropicRateLimit: 0.05,
  anthropicOverloaded: 0.03,
};

export const NOT_FOUND_ANSWER = "I couldn't find anything about that in the Lumen Drive help center. You can reach our support team from Settings > Help.";

// ---------------------------------------------------------------------------------------------------------
// Prompt parsing and answer composition

export interface PromptSource {
  n: number;
  id: string;
  title: string;
  text: string;
}

/** Source lines as the demo app writes them: `[n] Title (doc-id): text`. */
const SOURCE_LINE = /^\[(\d+)\]\s+(.+?)\s+\(([\w.-]+)\):\s+(.+)$/gm;

export function parseSources(text: string): PromptSource[] {
  return [...text.matchAll(SOURCE_LINE)].map((m) => ({ n: Number(m[1]), title: m[2]!, id: m[3]!, text: m[4]! }));
}

/** The question of a user message (`Question: ...`, else the whole message). */
export function parseQuestion(text: string): string {
  const m = /Question:\s*([\s\S]+)$/.exec(text);
  return (m ? m[1]! : text).trim();
}

function sentences(text: string): string[] {
  return text.match(/[^.!?]+[.!?]+/g)?.map((s) => s.trim()) ?? [text];
}

function cite(sentence: string, n: number): string {
  return /[.!?]$/.test(sentence) ? `${sentence.slice(0, -1)} [${n}]${sentence.slice(-1)}` : `${sentence} [${n}]`;
}

const OPENERS = ['', '', 'Here is how it works. ', 'According to the help center: ', 'Good question. '];

/** Composes an answer to the question from the sources, citing them as [n]. */
export function composeAnswer(question: string, sources: readonly PromptSource[], profile: ModelProfile, rng: Random): string {
  const q = new Set(contentWords(question));
  const ranked = sources
    .map((s) => {
      const words = new Set(contentWords(`${s.title} ${s.text}`));
      let overlap = 0;
      for (const w of q) if (words.has(w)) overlap++;
      return { s, overlap };
    })
    .filter((x) => x.overlap >= 2)
    .sort((a, b) => b.overlap - a.overlap || a.s.n - b.s.n);
  if (ranked.length === 0) return NOT_FOUND_ANSWER;

  const chosen = ranked.slice(0, ranked.length > 1 && rng.chance(0.45) ? 2 : 1);
  const parts: string[] = [];
  chosen.forEach(({ s }, i) => {
    const byOverlap = sentences(s.text)
      .map((text, index) => ({ text, index, overlap: contentWords(text).filter((w) => q.has(w)).length }))
      .sort((a, b) => b.overlap - a.overlap || a.index - b.index);
    const take = i === 0 && byOverlap.length > 1 && rng.chance(0.6) ? byOverlap.slice(0, 2).sort((a, b) => a.index - b.index) : byOverlap.slice(0, 1);
    let n = s.n;
    if (i === 0 && sources.length > 1 && rng.chance(profile.wrongSourceRate)) {
      const others = sources.filter((o) => o.n !== s.n);
      n = rng.pick(others).n;
    }
    take.forEach((t, j) => parts.push(j === take.length - 1 ? cite(t.text, n) : t.text));
  });
  if (rng.chance(profile.invalidCitationRate)) {
    const bogus = sources.length + rng.int(1, 3);
    parts.push(rng.chance(0.5) ? `See also the related article [${bogus}].` : `This applies to every plan [${bogus}].`);
  }
  return rng.pick(OPENERS) + parts.join(' ');
}

/** Splits an answer into streamed chunks of one to three words. */
function chunk(text: string, rng: Random): string[] {
  const words = text.match(/\S+\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < words.length; ) {
    const n = rng.int(1, 3);
    out.push(words.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (typeof b === 'string' ? b : typeof b?.text === 'string' ? b.text : '')).join('\n');
  return '';
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomId(rng: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ID_CHARS[Math.floor(rng.next() * ID_CHARS.length)];
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Providers

interface Simulation {
  rng: Random;
  scale: number;
  faultScale: number;
  /** Prompt prefixes the provider has cached (model + prefix hash). */
  cached: Set<string>;
}

function simulation(o: SimulationOptions, salt: number): Simulation {
  return { rng: new Random((o.seed ^ salt) >>> 0), scale: o.latencyScale ?? 1, faultScale: o.faultScale ?? 1, cached: new Set() };
}

function timeToFirstToken(sim: Simulation, profile: ModelProfile, promptTokens: number, reasoningTokens: number): number {
  let ms = sim.rng.logNormal(profile.ttftMs) + promptTokens * 0.04 + reasoningTokens * (profile.msPerReasoningToken ?? 0);
  if (sim.rng.chance(0.04)) ms *= 3; // slow tail
  return ms * sim.scale;
}

function retryAfterMs(sim: Simulation): number {
  return Math.max(1, Math.round(sim.rng.between(100, 500) * sim.scale));
}

/** Options for startOpenAIStub: chat completions and embeddings. */
export function simulatedOpenAI(options: SimulationOptions): OpenAIStubOptions {
  const sim = simulation(options, 0x0a1);
  let outageUntil = 0;
  let nextIncidentAt = 0;
  return {
    recordRequests: false,
    fault: (call: StubCall): StubFault | undefined => {
      const now = Date.now();
      // Short incidents (Poisson, mean interval INCIDENT_INTERVAL_MS; the first one soon after the start):
      // most calls fail for a moment, retries included, so some requests fail for good.
      if (nextIncidentAt === 0) nextIncidentAt = sim.faultScale > 0 ? now + sim.rng.between(1500, 4000) * sim.scale : Infinity;
      if (now >= nextIncidentAt) {
        outageUntil = now + sim.rng.between(600, 1300);
        nextIncidentAt = now + sim.rng.exponential(INCIDENT_INTERVAL_MS / sim.faultScale);
      }
      if (now < outageUntil) return sim.rng.chance(0.5) ? { ...openaiServerErrorFault(), delayMs: sim.rng.logNormal(150) * sim.scale } : undefined;
      const r = sim.rng.next() / Math.max(sim.faultScale, 1e-9);
      if (call.path.endsWith('/embeddings')) return r < FAULT_RATES.openaiEmbeddingsRateLimit ? openaiRateLimitFault(retryAfterMs(sim)) : undefined;
      if (r < FAULT_RATES.openaiChatRateLimit) return { ...openaiRateLimitFault(retryAfterMs(sim)), delayMs: 20 * sim.scale };
      if (r < FAULT_RATES.openaiChatRateLimit + FAULT_RATES.openaiChatServerError) return { ...openaiServerErrorFault(), delayMs: sim.rng.logNormal(200) * sim.scale };
      return undefined;
    },
    embeddings: (call: StubCall): EmbeddingsReply => {
      const inputs: string[] = (Array.isArray(call.body?.input) ? call.body.input : [call.body?.input]).map((x: unknown) => String(x ?? ''));
      const dimensions = Number(call.body?.dimensions) || EMBEDDING_DIMENSIONS;
      return {
        vectors: inputs.map((t) => embedText(t, dimensions)),
        model: call.body?.model ?? 'text-embedding-3-small',
        promptTokens: inputs.reduce((n, t) => n + estimateTokens(t), 0),
        delayMs: sim.rng.logNormal(45) * sim.scale,
      };
    },
    chat: (call: StubCall): ChatReply => {
      const model = String(call.body?.model ?? 'gpt-4o-mini');
      const profile = profileOf(model);
      const messages: { role: string; content: unknown }[] = Array.isArray(call.body?.messages) ? call.body.messages : [];
      const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => messageText(m.content)).join('\n');
      const lastUser = messageText([...messages].reverse().find((m) => m.role === 'user')?.content);
      const promptTokens = messages.reduce((n, m) => n + estimateTokens(messageText(m.content)) + 4, 0);
      // OpenAI prompt caching: a prefix of >= 1024 tokens seen before is served from cache in 128-token steps.
      const prefixTokens = system ? estimateTokens(system) + 4 : 0;
      const key = `${model}:${hash32(system)}`;
      const cachedTokens = prefixTokens >= 1024 && sim.cached.has(key) ? Math.min(promptTokens, Math.floor(prefixTokens / 128) * 128) : 0;
      if (prefixTokens >= 1024) sim.cached.add(key);

      const content = composeAnswer(parseQuestion(lastUser), parseSources(lastUser), profile, sim.rng);
      const answerTokens = estimateTokens(content);
      const reasoningTokens = profile.reasoning ? sim.rng.int(profile.reasoning[0], profile.reasoning[1]) : 0;
      const completionTokens = answerTokens + reasoningTokens;
      const chunks = chunk(content, sim.rng);
      const ttft = timeToFirstToken(sim, profile, promptTokens, reasoningTokens);
      return {
        id: `chatcmpl-${randomId(sim.rng, 24)}`,
        model: profile.snapshot,
        content,
        chunks,
        finishReason: 'stop',
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        // Non-streamed: the whole generation happens before the response.
        firstChunkDelayMs: call.body?.stream ? ttft : ttft + chunks.length * profile.chunkMs * sim.scale,
        chunkDelayMs: sim.rng.logNormal(profile.chunkMs, 0.25) * sim.scale,
        headers: { 'x-request-id': `req_${randomId(sim.rng, 20)}`, 'openai-processing-ms': String(Math.round(ttft)) },
      };
    },
  };
}

/** Options for startAnthropicStub: the Messages API with prompt caching. */
export function simulatedAnthropic(options: SimulationOptions): AnthropicStubOptions {
  const sim = simulation(options, 0xa27);
  return {
    recordRequests: false,
    fault: (): StubFault | undefined => {
      const r = sim.rng.next() / Math.max(sim.faultScale, 1e-9);
      if (r < FAULT_RATES.anthropicRateLimit) return { ...anthropicRateLimitFault(retryAfterMs(sim)), delayMs: 20 * sim.scale };
      if (r < FAULT_RATES.anthropicRateLimit + FAULT_RATES.anthropicOverloaded) return { ...anthropicOverloadedFault(), delayMs: sim.rng.logNormal(300) * sim.scale };
      return undefined;
    },
    messages: (call: StubCall): MessageReply => {
      const model = String(call.body?.model ?? 'claude-haiku-4-5');
      const profile = profileOf(model);
      const systemBlocks: { text?: string; cache_control?: unknown }[] =
        typeof call.body?.system === 'string' ? [{ text: call.body.system }] : Array.isArray(call.body?.system) ? call.body.system : [];
      const system = systemBlocks.map((b) => b.text ?? '').join('\n');
      const messages: { role: string; content: unknown }[] = Array.isArray(call.body?.messages) ? call.body.messages : [];
      const lastUser = messageText([...messages].reverse().find((m) => m.role === 'user')?.content);
      const messageTokens = messages.reduce((n, m) => n + estimateTokens(messageText(m.content)) + 4, 0);
      // Anthropic prompt caching: blocks up to a cache_control breakpoint are written once, then read.
      const prefixTokens = system ? estimateTokens(system) + 4 : 0;
      const cacheable = systemBlocks.some((b) => b.cache_control) && prefixTokens >= 1024;
      const key = `${model}:${hash32(system)}`;
      let cacheRead = 0;
      let cacheWrite = 0;
      if (cacheable) {
        if (sim.cached.has(key)) cacheRead = prefixTokens;
        else cacheWrite = prefixTokens;
        sim.cached.add(key);
      }
      const inputTokens = prefixTokens + messageTokens - cacheRead - cacheWrite;

      const content = composeAnswer(parseQuestion(lastUser), parseSources(lastUser), profile, sim.rng);
      const chunks = chunk(content, sim.rng);
      const ttft = timeToFirstToken(sim, profile, prefixTokens + messageTokens, 0);
      return {
        id: `msg_01${randomId(sim.rng, 22)}`,
        model: profile.snapshot,
        content,
        chunks,
        stopReason: 'end_turn',
        usage: {
          input_tokens: inputTokens,
          cache_creation_input_tokens: cacheWrite,
          cache_read_input_tokens: cacheRead,
          output_tokens: estimateTokens(content),
          service_tier: 'standard',
        },
        firstChunkDelayMs: call.body?.stream ? ttft : ttft + chunks.length * profile.chunkMs * sim.scale,
        chunkDelayMs: sim.rng.logNormal(profile.chunkMs, 0.25) * sim.scale,
        headers: { 'request-id': `req_${randomId(sim.rng, 24)}` },
      };
    },
  };
}
