import { context, trace, SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';

// Realistic GenAI/RAG OTLP payloads built by the real OpenTelemetry SDK and serializers, for decode and
// ingest benchmarks. Deterministic apart from the SDK's random trace/span ids.

export interface TracePayload {
  spanCount: number;
  /** ExportTraceServiceRequest, binary protobuf (what OTLP/HTTP protobuf exporters send). */
  protobuf: Uint8Array<ArrayBuffer>;
  /** The same request as OTLP/JSON. */
  json: Uint8Array;
}

export interface GenAiSpanOptions {
  /** Number of spans; every 8th is a RAG request root, the others are its retrieval/embedding/chat/tool children. */
  spanCount?: number;
  /** Start time of the first request, ms since the epoch. */
  startMs?: number;
  serviceName?: string;
}

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const PROVIDERS = ['openai', 'openai', 'anthropic', 'gcp.gemini'];

/** Finished ReadableSpans shaped like an instrumented RAG app: each with about 20 gen_ai.* / ragscope.* attributes. */
export function buildGenAiSpans(options: GenAiSpanOptions = {}): ReadableSpan[] {
  const spanCount = options.spanCount ?? 512;
  const startMs = options.startMs ?? Date.UTC(2026, 0, 15, 12, 0, 0);
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? 'rag-api',
      'service.version': '1.8.2',
      'deployment.environment.name': 'production',
      'host.name': 'rag-api-7c9f6d4b8-x2k4p',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '2.12.0',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@ragscope/instrumentation', '0.1.0');

  let made = 0;
  for (let request = 0; made < spanCount; request++) {
    const t0 = startMs + request * 2_000;
    const user = `user-${request % 37}`;
    const session = `sess-${request % 11}`;
    const root = tracer.startSpan('rag.request', {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: {
        'gen_ai.operation.name': 'invoke_workflow',
        'ragscope.rag.stage': 'request',
        'http.request.method': 'POST',
        'http.route': '/v1/ask',
        'http.response.status_code': 200,
        'user.id': user,
        'session.id': session,
        'ragscope.feature': 'support-chat',
        'ragscope.query.chars': 80 + (request % 200),
        'ragscope.query.fingerprint': `qf-${(request * 2654435761) >>> 0}`,
      },
    });
    made++;
    const ctx = trace.setSpan(context.active(), root);
    for (let child = 0; child < 7 && made < spanCount; child++, made++) {
      const at = t0 + 20 + child * 150;
      const span = tracer.startSpan(childName(child), { kind: SpanKind.CLIENT, startTime: at, attributes: childAttributes(child, request, user, session) }, ctx);
      if (child === 3) {
        span.addEvent('gen_ai.content.chunk', { 'gen_ai.response.chunk_index': 0 }, at + 95);
      }
      if (child === 6 && request % 13 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
      span.end(at + 120 + (request % 50));
    }
    root.end(t0 + 1_400);
  }
  return exporter.getFinishedSpans();
}

function childName(child: number): string {
  return ['embeddings text-embedding-3-small', 'retrieval docs', 'rerank', 'chat gpt-4o-mini', 'execute_tool search', 'chat gpt-4o-mini', 'post_processing'][child];
}

function childAttributes(child: number, request: number, user: string, session: string): Attributes {
  const model = MODELS[request % MODELS.length];
  const common: Attributes = {
    'gen_ai.provider.name': PROVIDERS[request % PROVIDERS.length],
    'user.id': user,
    'session.id': session,
    'gen_ai.conversation.id': `conv-${request}`,
    'ragscope.feature': 'support-chat',
    'ragscope.experiment': 'prompt-v7',
    'ragscope.variant': request % 2 === 0 ? 'a' : 'b',
    'server.address': 'api.openai.com',
    'server.port': 443,
  };
  switch (child) {
    case 0:
      return {
        ...common,
        'gen_ai.operation.name': 'embeddings',
        'ragscope.rag.stage': 'embed_query',
        'gen_ai.request.model': 'text-embedding-3-small',
        'gen_ai.response.model': 'text-embedding-3-small',
        'gen_ai.usage.input_tokens': 21 + (request % 30),
        'gen_ai.embeddings.dimension.count': 1536,
        'gen_ai.request.encoding_formats': ['float'],
        'ragscope.query.chars': 80 + (request % 200),
        'ragscope.query.tokens_estimate': 20 + (request % 50),
        'gen_ai.usage.cost': 0.00000042,
      };
    case 1:
    case 2:
      return {
        ...common,
        'gen_ai.operation.name': child === 1 ? 'retrieval' : 'rerank',
        'ragscope.rag.stage': child === 1 ? 'retrieve' : 'rerank',
        'gen_ai.data_source.id': 'kb-support-v3',
        'ragscope.retrieval.top_k': 8,
        'ragscope.retrieval.document_ids': ['doc-11', 'doc-2093', 'doc-17', 'doc-400', 'doc-5', 'doc-81', 'doc-1200', 'doc-9'],
        'ragscope.retrieval.scores': [0.91, 0.88, 0.86, 0.8, 0.77, 0.7, 0.68, 0.61],
        'db.system.name': 'qdrant',
        'db.collection.name': 'support_docs',
        'ragscope.context.chunks': 8,
        'ragscope.context.chars': 9_000 + request,
      };
    case 3:
    case 5:
      return {
        ...common,
        'gen_ai.operation.name': 'chat',
        'ragscope.rag.stage': child === 3 ? 'generate' : 'post_process',
        'gen_ai.request.model': model,
        'gen_ai.response.model': `${model}-2025-06-01`,
        'gen_ai.response.id': `chatcmpl-${request}-${child}-Bx7kq29fLmA`,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.top_p': 0.95,
        'gen_ai.request.max_tokens': 1024,
        'gen_ai.request.stream': true,
        'gen_ai.usage.input_tokens': 3_200 + (request % 900),
        'gen_ai.usage.output_tokens': 180 + (request % 400),
        'gen_ai.usage.cache_read.input_tokens': request % 3 === 0 ? 2_048 : 0,
        'gen_ai.response.finish_reasons': ['stop'],
        'ragscope.ttft_ms': 240 + (request % 300),
        'ragscope.citation.count': 3,
      };
    case 4:
      return {
        ...common,
        'gen_ai.operation.name': 'execute_tool',
        'ragscope.rag.stage': 'tool',
        'gen_ai.tool.name': 'web_search',
        'gen_ai.tool.call.id': `call_${request}_Qm3sX`,
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.description': 'Searches the public web and returns the top results as snippets.',
        'ragscope.tool.result_count': 5,
        'ragscope.tool.cache_hit': request % 4 === 0,
      };
    default:
      return {
        ...common,
        'gen_ai.operation.name': 'post_processing',
        'ragscope.rag.stage': 'post_process',
        'ragscope.citation.count': 3,
        'ragscope.citation.invalid_count': request % 7 === 0 ? 1 : 0,
        'ragscope.cited_document_ids': ['doc-11', 'doc-17', 'doc-5'],
        'ragscope.response.cache_hit': false,
        'ragscope.response.chars': 1_800 + request,
      };
  }
}

/** A GenAI trace export request (default 512 spans) as OTLP protobuf and OTLP/JSON, via the real serializers. */
export function buildGenAiTracePayload(options: GenAiSpanOptions = {}): TracePayload {
  const spans = buildGenAiSpans(options);
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (!protobuf || !json) throw new Error('OTLP serializer produced no payload');
  return { spanCount: spans.length, protobuf: protobuf as Uint8Array<ArrayBuffer>, json };
}
