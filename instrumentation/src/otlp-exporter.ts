// ragscope's OTLP/HTTP protobuf span exporter: OpenTelemetry's own exporter machinery (endpoint, headers,
// compression, timeout, retries and OTEL_EXPORTER_OTLP_* handling, through the public API of
// @opentelemetry/otlp-exporter-base) with ragscope's serializer (otlp-span-serializer.ts: why hand-written).
// It is what @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter does, with the serializer swapped.

import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { OtlpSpanSerializer } from './otlp-span-serializer.js';

/** `otel.component.type` of the exporter's self-observability metrics (the value the official exporter uses). */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

export class RagscopeOtlpTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  private readonly serializer: OtlpSpanSerializer;
  /** The message the export delegate serialized last (it serializes synchronously inside export()). */
  private readonly last: { message?: Uint8Array };

  constructor(config: OTLPExporterNodeConfigBase = {}) {
    const serializer = new OtlpSpanSerializer();
    const last: { message?: Uint8Array } = {};
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        {
          serializeRequest: (spans: ReadableSpan[]) => (last.message = serializer.serialize(spans)),
          deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
        },
        COMPONENT_TYPE,
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
    this.serializer = serializer;
    this.last = last;
  }

  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.last.message = undefined;
    const sent: { message?: Uint8Array } = {};
    super.export(spans, (result) => {
      // Answered with success: the request was sent whole and will not be retried, so its memory can be
      // reused. After a failure (possibly a timeout with the request still being written) it is left to GC.
      if (sent.message !== undefined && result.code === ExportResultCode.SUCCESS) this.serializer.release(sent.message);
      resultCallback(result);
    });
    sent.message = this.last.message;
    this.last.message = undefined;
  }
}
