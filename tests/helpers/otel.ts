import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Attributes } from '@opentelemetry/api';

export type Protocol = 'protobuf' | 'json';

/** A real SDK tracer provider exporting to the processor over OTLP/HTTP. */
export function tracerProviderFor(baseUrl: string, protocol: Protocol, resource: Attributes = {}) {
  const url = `${baseUrl}/v1/traces`;
  const exporter = protocol === 'protobuf' ? new ProtoTraceExporter({ url }) : new JsonTraceExporter({ url });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'test-app', 'deployment.environment.name': 'test', ...resource }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 10 })],
  });
  return provider;
}
