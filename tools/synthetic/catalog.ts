// What the synthetic application looks like: services, features, experiments, models with their prices,
// the question catalog. Prices are integer micro-USD per 1M tokens, the price book's own unit, so expected
// costs can be computed exactly (tokens × price = cost in 1e-12 USD).

export interface ModelSpec {
  provider: string;
  /** gen_ai.request.model */
  requestModel: string;
  /** gen_ai.response.model (what the provider reports back) */
  responseModel: string;
  /** micro-USD per 1M tokens; null = deliberately absent from the synthetic price book (unpriced) */
  prices: { input: number; cacheRead: number; cacheWrite: number; output: number; reasoning: number } | null;
  /** Share of output tokens that are reasoning tokens (reasoning models). */
  reasoningShare: number;
  /** Supports prompt caching: cache reads (OpenAI style) or explicit cache writes + reads (Anthropic style). */
  caching: 'none' | 'auto' | 'explicit';
  /** Median seconds per 1k output tokens (decode speed) and median TTFT in ms. */
  msPerOutputToken: number;
  ttftMedianMs: number;
  /** How the SDK reports a 429: error.type value. */
  rateLimitErrorType: string;
}

export const CHAT_MODELS: Record<string, ModelSpec> = {
  'gpt-4o': {
    provider: 'openai',
    requestModel: 'gpt-4o',
    responseModel: 'gpt-4o-2024-08-06',
    prices: { input: 2_500_000, cacheRead: 1_250_000, cacheWrite: 2_500_000, output: 10_000_000, reasoning: 10_000_000 },
    reasoningShare: 0,
    caching: 'auto',
    msPerOutputToken: 12,
    ttftMedianMs: 450,
    rateLimitErrorType: '429',
  },
  'gpt-4o-mini': {
    provider: 'openai',
    requestModel: 'gpt-4o-mini',
    responseModel: 'gpt-4o-mini-2024-07-18',
    prices: { input: 150_000, cacheRead: 75_000, cacheWrite: 150_000, output: 600_000, reasoning: 600_000 },
    reasoningShare: 0,
    caching: 'auto',
    msPerOutputToken: 7,
    ttftMedianMs: 300,
    rateLimitErrorType: '429',
  },
  'o3-mini': {
    provider: 'openai',
    requestModel: 'o3-mini',
    responseModel: 'o3-mini-2025-01-31',
    prices: { input: 1_100_000, cacheRead: 550_000, cacheWrite: 1_100_000, output: 4_400_000, reasoning: 4_400_000 },
    reasoningShare: 0.6,
    caching: 'auto',
    msPerOutputToken: 9,
    ttftMedianMs: 2200,
    rateLimitErrorType: 'RateLimitError',
  },
  'claude-sonnet-4': {
    provider: 'anthropic',
    requestModel: 'claude-sonnet-4-20250514',
    responseModel: 'claude-sonnet-4-20250514',
    prices: { input: 3_000_000, cacheRead: 300_000, cacheWrite: 3_750_000, output: 15_000_000, reasoning: 15_000_000 },
    reasoningShare: 0,
    caching: 'explicit',
    msPerOutputToken: 14,
    ttftMedianMs: 650,
    rateLimitErrorType: 'RateLimitError',
  },
  'local-llm': {
    provider: 'groq',
    requestModel: 'synthetic-unpriced-llm',
    responseModel: 'synthetic-unpriced-llm',
    prices: null,
    reasoningShare: 0,
    caching: 'none',
    msPerOutputToken: 4,
    ttftMedianMs: 150,
    rateLimitErrorType: '429',
  },
};

export const EMBEDDING_MODEL: ModelSpec = {
  provider: 'openai',
  requestModel: 'text-embedding-3-small',
  responseModel: 'text-embedding-3-small',
  prices: { input: 20_000, cacheRead: 20_000, cacheWrite: 20_000, output: 0, reasoning: 0 },
  reasoningShare: 0,
  caching: 'none',
  msPerOutputToken: 0,
  ttftMedianMs: 0,
  rateLimitErrorType: '429',
};

export const RERANK_MODEL = { provider: 'cohere', model: 'rerank-v3.5' };

export interface FeatureSpec {
  name: string;
  service: string;
  dataSource: string;
  weight: number;
  /** model key → weight, per variant ('' = no experiment) */
  models: Record<string, number>;
  experiment: string;
  variants: string[];
  /** How users give feedback here. */
  feedbackKinds: readonly (readonly ['thumbs' | 'rating' | 'score', number])[];
  topics: readonly string[];
}

export const FEATURES: FeatureSpec[] = [
  {
    name: 'support-chat',
    service: 'support-bot',
    dataSource: 'kb-support',
    weight: 0.5,
    models: { 'gpt-4o': 0.45, 'gpt-4o-mini': 0.3, 'claude-sonnet-4': 0.2, 'local-llm': 0.05 },
    experiment: 'prompt-v2',
    variants: ['control', 'concise'],
    feedbackKinds: [['thumbs', 0.75], ['rating', 0.2], ['score', 0.05]],
    topics: ['billing', 'password reset', 'refunds', 'two-factor login', 'invoices', 'plan upgrades', 'account deletion', 'API keys'],
  },
  {
    name: 'docs-qa',
    service: 'docs-search',
    dataSource: 'kb-docs',
    weight: 0.3,
    models: { 'gpt-4o-mini': 0.5, 'o3-mini': 0.25, 'claude-sonnet-4': 0.25 },
    experiment: 'reranker',
    variants: ['off', 'on'],
    feedbackKinds: [['rating', 0.7], ['thumbs', 0.3]],
    topics: ['webhooks', 'rate limits', 'pagination', 'SDK installation', 'authentication', 'batch exports', 'retention settings', 'SSO'],
  },
  {
    name: 'search',
    service: 'docs-search',
    dataSource: 'kb-docs',
    weight: 0.2,
    models: { 'gpt-4o-mini': 1 },
    experiment: '',
    variants: [''],
    feedbackKinds: [['thumbs', 1]],
    topics: ['changelog', 'pricing', 'status page', 'regions', 'limits', 'integrations'],
  },
];

const QUESTION_TEMPLATES = [
  'How do I configure {t}?',
  'Why is {t} not working for my account?',
  'What are the limits for {t}?',
  'Can you explain {t} step by step?',
  'Where can I find {t} in the dashboard?',
  'Is there an API for {t}?',
  'What changed recently in {t}?',
  'How much does {t} cost?',
];

export interface Question {
  text: string;
  topic: string;
}

/** Questions per feature, most popular first (requests draw them with a Zipf distribution). */
export function questionsFor(feature: FeatureSpec): Question[] {
  const out: Question[] = [];
  for (let round = 0; round < 3; round++) {
    for (const topic of feature.topics) {
      for (const tpl of QUESTION_TEMPLATES) {
        const suffix = round === 0 ? '' : round === 1 ? ' (team plan)' : ' (enterprise)';
        out.push({ text: tpl.replace('{t}', topic) + suffix, topic });
      }
    }
  }
  // A fixed permutation so the head of the Zipf distribution spans several topics and templates.
  const n = out.length;
  return out
    .map((q, i) => ({ q, k: (i * 7919) % n }))
    .sort((x, y) => x.k - y.k)
    .map((x) => x.q);
}

/** The synthetic price book (RAGSCOPE_PRICES_FILE format): exact matches for the catalog's priced models. */
export function syntheticPriceBook(): { version: 1; description: string; entries: unknown[] } {
  const dollars = (micros: number) => (micros / 1_000_000).toFixed(6);
  const entries: unknown[] = [];
  for (const spec of [...Object.values(CHAT_MODELS), EMBEDDING_MODEL]) {
    if (!spec.prices) continue;
    const names = [...new Set([spec.requestModel, spec.responseModel])].map((n) => n.replace(/[.]/g, '\\.'));
    entries.push({
      id: `synthetic/${spec.requestModel}`,
      provider: spec.provider,
      match: `^(${names.join('|')})$`,
      startDate: '2000-01-01',
      prices: {
        input: dollars(spec.prices.input),
        cacheRead: dollars(spec.prices.cacheRead),
        cacheWrite: dollars(spec.prices.cacheWrite),
        output: dollars(spec.prices.output),
        reasoning: dollars(spec.prices.reasoning),
      },
      notes: 'ragscope synthetic traffic generator (tools/synthetic)',
    });
  }
  return { version: 1, description: 'Prices for tools/synthetic traffic: exact, so tests can recompute every cost.', entries };
}

export function modelPrices(requestOrResponseModel: string): ModelSpec['prices'] {
  for (const spec of [...Object.values(CHAT_MODELS), EMBEDDING_MODEL]) {
    if (spec.requestModel === requestOrResponseModel || spec.responseModel === requestOrResponseModel) return spec.prices;
  }
  return null;
}
