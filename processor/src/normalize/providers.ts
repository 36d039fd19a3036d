// Provider names → the OTel GenAI `gen_ai.provider.name` value set.
// Inputs seen in the wild: semconv values, deprecated `gen_ai.system` values ("OpenAI", "Anthropic"),
// OpenInference `llm.provider` / `llm.system` ("azure", "aws", "google", "mistralai", "vertexai"),
// Vercel AI SDK `ai.model.provider` ("openai.chat", "anthropic.messages", "google.generative-ai",
// "google.vertex.chat", "amazon-bedrock", "mistral.chat", "azure-openai.chat" ...).

const ALIASES: Record<string, string> = {
  // semconv values map to themselves
  openai: 'openai',
  anthropic: 'anthropic',
  'aws.bedrock': 'aws.bedrock',
  'azure.ai.inference': 'azure.ai.inference',
  'azure.ai.openai': 'azure.ai.openai',
  cohere: 'cohere',
  deepseek: 'deepseek',
  'gcp.gemini': 'gcp.gemini',
  'gcp.gen_ai': 'gcp.gen_ai',
  'gcp.vertex_ai': 'gcp.vertex_ai',
  groq: 'groq',
  'ibm.watsonx.ai': 'ibm.watsonx.ai',
  mistral_ai: 'mistral_ai',
  perplexity: 'perplexity',
  x_ai: 'x_ai',
  // OpenAI
  'openai.chat': 'openai',
  'openai.responses': 'openai',
  'openai.completion': 'openai',
  'openai.embedding': 'openai',
  'openai.image': 'openai',
  'openai.transcription': 'openai',
  'openai.speech': 'openai',
  // Azure OpenAI
  azure: 'azure.ai.openai',
  azure_openai: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  azureopenai: 'azure.ai.openai',
  'az.ai.openai': 'azure.ai.openai',
  'az.ai.inference': 'azure.ai.inference',
  azure_ai_inference: 'azure.ai.inference',
  // Anthropic
  'anthropic.messages': 'anthropic',
  claude: 'anthropic',
  // Google
  google: 'gcp.gen_ai',
  gemini: 'gcp.gemini',
  google_genai: 'gcp.gemini',
  'google-genai': 'gcp.gemini',
  google_gemini: 'gcp.gemini',
  googleai: 'gcp.gemini',
  google_ai: 'gcp.gemini',
  'google.generative-ai': 'gcp.gemini',
  'google.generative_ai': 'gcp.gemini',
  'generative-ai': 'gcp.gemini',
  vertexai: 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  'vertex-ai': 'gcp.vertex_ai',
  vertex: 'gcp.vertex_ai',
  google_vertexai: 'gcp.vertex_ai',
  'google.vertex': 'gcp.vertex_ai',
  'google.vertex.chat': 'gcp.vertex_ai',
  'google.vertex.embedding': 'gcp.vertex_ai',
  'google.vertex.anthropic': 'gcp.vertex_ai',
  'vertex.anthropic': 'gcp.vertex_ai',
  'vertex.anthropic.messages': 'gcp.vertex_ai',
  // AWS
  aws: 'aws.bedrock',
  bedrock: 'aws.bedrock',
  aws_bedrock: 'aws.bedrock',
  'aws-bedrock': 'aws.bedrock',
  'amazon-bedrock': 'aws.bedrock',
  amazon_bedrock: 'aws.bedrock',
  amazon: 'aws.bedrock',
  // Mistral
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  'mistral.chat': 'mistral_ai',
  'mistral.embedding': 'mistral_ai',
  // Others
  'cohere.chat': 'cohere',
  'cohere.embedding': 'cohere',
  'cohere.reranking': 'cohere',
  'groq.chat': 'groq',
  'deepseek.chat': 'deepseek',
  xai: 'x_ai',
  'x-ai': 'x_ai',
  x: 'x_ai',
  grok: 'x_ai',
  'xai.chat': 'x_ai',
  'xai.responses': 'x_ai',
  'perplexity.chat': 'perplexity',
  watsonx: 'ibm.watsonx.ai',
  ibm: 'ibm.watsonx.ai',
  'ibm.watsonx': 'ibm.watsonx.ai',
};

const KNOWN = new Map<string, string>(Object.entries(ALIASES));
/** Memo of raw value → normalized (bounded: provider strings are low-cardinality, but do not trust senders). */
const memo = new Map<string, string>();
const MEMO_MAX = 2048;

/** Normalizes a provider string to the semconv value set; unknown providers are returned lower-cased. */
export function normalizeProvider(raw: string): string {
  if (raw === '') return '';
  const hit = memo.get(raw);
  if (hit !== undefined) return hit;
  const result = resolve(raw);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(raw, result);
  return result;
}

function resolve(raw: string): string {
  const lower = raw.trim().toLowerCase();
  const direct = KNOWN.get(lower);
  if (direct !== undefined) return direct;
  // Vercel style "<provider>.<api>": try shrinking prefixes ("google.vertex.chat" → "google.vertex" → "google").
  let cut = lower.lastIndexOf('.');
  while (cut > 0) {
    const prefix = lower.slice(0, cut);
    const p = KNOWN.get(prefix);
    if (p !== undefined) return p;
    cut = lower.lastIndexOf('.', cut - 1);
  }
  return lower;
}

/** Best-effort provider from a model name, used only when no provider attribute is present. */
export function providerFromModel(model: string): string {
  if (model === '') return '';
  const m = model.charCodeAt(0) === 32 ? model.trim().toLowerCase() : model.toLowerCase();
  const slash = m.indexOf('/');
  if (slash > 0) {
    const p = KNOWN.get(m.slice(0, slash));
    if (p !== undefined) return p;
  }
  const name = slash > 0 ? m.slice(slash + 1) : m;
  if (name.startsWith('gemini') || name.startsWith('text-embedding-00') || name.startsWith('text-multilingual-embedding')) return 'gcp.gemini';
  if (name.startsWith('gpt-') || name.startsWith('chatgpt') || name.startsWith('text-embedding-') || /^o\d/.test(name)) return 'openai';
  if (name.startsWith('claude')) return 'anthropic';
  if (name.startsWith('mistral') || name.startsWith('codestral') || name.startsWith('ministral') || name.startsWith('pixtral')) return 'mistral_ai';
  if (name.startsWith('command') || name.startsWith('embed-') || name.startsWith('rerank-')) return 'cohere';
  if (name.startsWith('deepseek')) return 'deepseek';
  if (name.startsWith('grok')) return 'x_ai';
  return '';
}
