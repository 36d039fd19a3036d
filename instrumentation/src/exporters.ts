// The span and log exporters of register(), chosen from the standard OTEL_* variables the way NodeSDK
// chooses them.
//
// Why this is not left to NodeSDK: @opentelemetry/sdk-node 0.301 reads OTEL_TRACES_EXPORTER /
// OTEL_LOGS_EXPORTER and the protocol variables only when it is given no span (log record) processors
// (its `spanProcessors` option wins over the environment), and exports no helper that builds them. ragscope
// must pass processors (its batch processors count exported and dropped items for stats()), so the
// *selection* is mirrored here, with NodeSDK's names and precedence: `otlp` (protocol `grpc`, `http/json`,
// `http/protobuf` from OTEL_EXPORTER_OTLP_{TRACES,LOGS}_PROTOCOL over OTEL_EXPORTER_OTLP_PROTOCOL), `console`,
// `zipkin` (traces), `none`; a list exports to each. Everything else is the exporters' own environment
// handling, untouched: endpoint (generic + /v1/traces, or the signal-specific one as is), headers,
// compression, certificates. ragscope passes only what the app gave register() and the export timeout.

import { diag } from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import { OTLPLogExporter as OTLPLogExporterGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as OTLPLogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPLogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { ConsoleLogRecordExporter, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace';
import { RagscopeOtlpTraceExporter } from './otlp-exporter.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** What register() options say about the OTLP exporters (each absent: the environment decides). */
export interface ExporterOptions {
  /** OTLP base URL: `/v1/traces`, `/v1/logs` are appended for OTLP/HTTP; the gRPC endpoint as is. */
  endpoint?: string;
  /** Merged over `OTEL_EXPORTER_OTLP_HEADERS` (gRPC: as metadata). */
  headers?: Record<string, string>;
  protocol?: OtlpProtocol;
}

/** One exporter NodeSDK would have built, and whether NodeSDK would put it behind a simple (unbatched) processor. */
export interface Selected<E> {
  exporter: E;
  /** `console`: exported as each span ends, as NodeSDK does. */
  simple: boolean;
}

type Signal = 'TRACES' | 'LOGS';

/**
 * The exporter names of OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER, as NodeSDK reads them: empty → `otlp`;
 * `none` → nothing; for traces, `none` after other names → `otlp` (NodeSDK warns and does the same).
 */
export function exporterNames(signal: Signal, env: NodeJS.ProcessEnv = process.env): string[] {
  const variable = `OTEL_${signal}_EXPORTER`;
  const names = [...new Set((env[variable] ?? '').split(',').map((s) => s.trim()))].filter((s) => s !== '' && s !== 'null');
  if (names.length === 0) return ['otlp'];
  // NodeSDK: traces are off when `none` comes first, logs when it is anywhere in the list.
  if (names[0] === 'none' || (signal === 'LOGS' && names.includes('none'))) return [];
  if (names.includes('none')) {
    diag.warn(`@ragscope/instrumentation: ${variable} contains "none" along with other exporters; using otlp (as NodeSDK does)`);
    return ['otlp'];
  }
  return names;
}

/** The OTLP protocol: the option, else the signal's variable, else the generic one, else http/protobuf. */
export function otlpProtocol(signal: Signal, option: OtlpProtocol | undefined, env: NodeJS.ProcessEnv = process.env): OtlpProtocol {
  const specific = `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
  const raw = option ?? env[specific]?.trim() ?? env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  if (raw === undefined || raw === '') return 'http/protobuf';
  if (raw === 'http/protobuf' || raw === 'http/json' || raw === 'grpc') return raw;
  const source = option !== undefined ? 'the protocol option' : env[specific] !== undefined ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  diag.warn(`@ragscope/instrumentation: ${source}="${raw}" is not an OTLP protocol (grpc, http/protobuf, http/json); using http/protobuf`);
  return 'http/protobuf';
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Export timeout: `OTEL_EXPORTER_OTLP_(TRACES|LOGS_)TIMEOUT` when set, else 5 s rather than OTel's 10 s.
 * The OTLP exporter retries a refused connection until this deadline with timers that keep the process
 * alive, so it bounds how long a dead endpoint can delay the exit of a short-lived process.
 */
function exportTimeout(signal: Signal, env: NodeJS.ProcessEnv): number {
  return numberFromEnv(env, `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`) ?? numberFromEnv(env, 'OTEL_EXPORTER_OTLP_TIMEOUT') ?? 5000;
}

function grpcMetadata(headers: Record<string, string> | undefined): Metadata | undefined {
  if (headers === undefined) return undefined;
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return metadata;
}

const httpUrl = (endpoint: string | undefined, path: string) => (endpoint ? `${endpoint.replace(/\/+$/, '')}${path}` : undefined);

export function selectSpanExporters(options: ExporterOptions, env: NodeJS.ProcessEnv = process.env): Selected<SpanExporter>[] {
  const out: Selected<SpanExporter>[] = [];
  for (const name of exporterNames('TRACES', env)) {
    if (name === 'otlp') {
      const timeoutMillis = exportTimeout('TRACES', env);
      const protocol = otlpProtocol('TRACES', options.protocol, env);
      if (protocol === 'grpc') out.push({ exporter: new OTLPTraceExporterGrpc({ url: options.endpoint, metadata: grpcMetadata(options.headers), timeoutMillis }), simple: false });
      else {
        const config = { url: httpUrl(options.endpoint, '/v1/traces'), headers: options.headers, timeoutMillis };
        out.push({ exporter: protocol === 'http/json' ? new OTLPTraceExporterJson(config) : new RagscopeOtlpTraceExporter(config), simple: false });
      }
    } else if (name === 'console') out.push({ exporter: new ConsoleSpanExporter(), simple: true });
    else if (name === 'zipkin') out.push({ exporter: new ZipkinExporter(), simple: false });
    else diag.warn(`@ragscope/instrumentation: unsupported OTEL_TRACES_EXPORTER value "${name}" (otlp, console, zipkin, none)`);
  }
  return out;
}

export function selectLogExporters(options: ExporterOptions, env: NodeJS.ProcessEnv = process.env): Selected<LogRecordExporter>[] {
  const out: Selected<LogRecordExporter>[] = [];
  for (const name of exporterNames('LOGS', env)) {
    if (name === 'otlp') {
      const timeoutMillis = exportTimeout('LOGS', env);
      const protocol = otlpProtocol('LOGS', options.protocol, env);
      if (protocol === 'grpc') out.push({ exporter: new OTLPLogExporterGrpc({ url: options.endpoint, metadata: grpcMetadata(options.headers), timeoutMillis }), simple: false });
      else {
        const config = { url: httpUrl(options.endpoint, '/v1/logs'), headers: options.headers, timeoutMillis };
        out.push({ exporter: protocol === 'http/json' ? new OTLPLogExporterJson(config) : new OTLPLogExporterProto(config), simple: false });
      }
    } else if (name === 'console') out.push({ exporter: new ConsoleLogRecordExporter(), simple: true });
    else diag.warn(`@ragscope/instrumentation: unsupported OTEL_LOGS_EXPORTER value "${name}" (otlp, console, none)`);
  }
  return out;
}
