// ragscope's OTLP/HTTP protobuf span exporter: OpenTelemetry's own exporter machinery (endpoint, headers,
// compression, timeout, retries and OTEL_EXPORTER_OTLP_* handling, through the public API of
// @opentelemetry/otlp-exporter-base) with ragscope's serializer (otlp-span-serializer.ts: why hand-written).
// It is what @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter does, with the serializer swapped.

import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { OtlpSpanSerializer } from './otlp-span-serializer.js';

/** `otel.component.type` of the exporter's self-observability metrics (the value the official exporter uses). */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

function ragscopeSerializer(): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  const serializer = new OtlpSpanSerializer();
  return {
    serializeRequest: (spans) => serializer.serialize(spans),
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}

export class RagscopeOtlpTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(config: OTLPExporterNodeConfigBase = {}) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        ragscopeSerializer(),
        COMPONENT_TYPE,
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
