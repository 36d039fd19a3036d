// Exporters chosen by the standard OTEL_* variables (instrumentation/src/exporters.ts), the way NodeSDK
// chooses them: real OTLP exporters in a child process (`--import @ragscope/instrumentation/register`)
// delivering to local sinks on ephemeral ports (OTLP/HTTP: a recording HTTP server; OTLP/gRPC: a gRPC
// server with the collector's Export services).
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLogsProtobufjs, decodeTracesProtobufjs } from '../helpers/otlp-protobufjs/decoder.js';
import { startOtlpSink, type OtlpSink } from '../helpers/otlp-sink.js';
import { ROOT } from './helpers/otel.js';
import { startReceiver } from './helpers/otlp-receiver.js';

const FIXTURES = join(ROOT, 'tests/instrumentation/fixtures');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  out: { traceId: string; feedback: { ok: boolean }; stats: { spansExported: number; spansDropped: number; logsExported: number; logsDropped: number; exportFailures: number } };
}

function run(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', '@ragscope/instrumentation/register', 'export-app.mjs'],
      { cwd: FIXTURES, timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OTEL_SERVICE_NAME: 'export-app', ...env } },
      (err, stdout, stderr) => {
        let out: Run['out'];
        try {
          out = JSON.parse(stdout.trim().split('\n').pop() ?? '');
        } catch {
          out = undefined as never;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, out });
      },
    );
  });
}

const SPAN_NAMES = ['export-child', 'invoke_workflow export-request'];

function expectDelivered(r: Run): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.feedback.ok).toBe(true);
  expect(r.out.stats).toMatchObject({ spansExported: 2, spansDropped: 0, logsExported: 1, logsDropped: 0, exportFailures: 0 });
}

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'instrumentation'], { cwd: ROOT, stdio: 'pipe' });
}, 120_000);

describe('OTEL_* exporter selection (real exporters, local sinks)', () => {
  let grpcSink: OtlpSink;
  beforeAll(async () => {
    grpcSink = await startOtlpSink();
  });
  afterAll(() => grpcSink?.close());

  it('default: OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces and /v1/logs', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      expectDelivered(r);
      const traces = receiver.received.filter((x) => x.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.every((x) => x.contentType === 'application/x-protobuf')).toBe(true);
      const spans = traces.flatMap((x) => decodeTracesProtobufjs(x.body));
      expect(spans.map((s) => s.name).sort()).toEqual(SPAN_NAMES);
      for (const s of spans) {
        expect(s.traceId).toBe(r.out.traceId);
        // The request context reaches the exported child span (ragscope's processor ran before export).
        expect(s.attributes['user.id'], s.name).toBe('u-export');
      }
      const logs = receiver.received.filter((x) => x.path === '/v1/logs').flatMap((x) => decodeLogsProtobufjs(x.body));
      expect(logs).toHaveLength(1);
      expect(logs[0]!.attributes['ragscope.feedback.comment']).toBe('exported');
    } finally {
      await receiver.close();
    }
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=http/json, signal-specific endpoints used as given, headers from the environment', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.url}/custom/logs`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme',
      });
      expectDelivered(r);
      const traces = receiver.received.filter((x) => x.path === '/custom/traces');
      const logs = receiver.received.filter((x) => x.path === '/custom/logs');
      expect(traces.length).toBeGreaterThan(0);
      expect(logs.length).toBeGreaterThan(0);
      expect(receiver.received.every((x) => x.contentType === 'application/json' && x.headers['x-tenant'] === 'acme')).toBe(true);
      const names = traces.flatMap((x) => (JSON.parse(x.body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name))));
      expect(names.sort()).toEqual(SPAN_NAMES);
    } finally {
      await receiver.close();
    }
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=grpc: OTLP/gRPC to the endpoint, headers as metadata', async () => {
    const before = { traces: grpcSink.traces.length, logs: grpcSink.logs.length, headers: grpcSink.headers.length };
    const r = await run({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: grpcSink.grpcUrl, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20grpc-t0k3n' });
    expectDelivered(r);
    const spans = grpcSink.traces.slice(before.traces).flatMap((b) => decodeTracesProtobufjs(b));
    expect(spans.map((s) => s.name).sort()).toEqual(SPAN_NAMES);
    const logs = grpcSink.logs.slice(before.logs).flatMap((b) => decodeLogsProtobufjs(b));
    expect(logs).toHaveLength(1);
    const headers = grpcSink.headers.slice(before.headers);
    expect(headers.length).toBeGreaterThan(0);
    expect(headers.every((h) => h.authorization === 'Bearer grpc-t0k3n')).toBe(true);
  });

  it('signal-specific protocol wins: traces over gRPC, logs over OTLP/HTTP JSON', async () => {
    const receiver = await startReceiver();
    const before = grpcSink.traces.length;
    const beforeLogs = grpcSink.logs.length;
    try {
      const r = await run({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: grpcSink.grpcUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      });
      expectDelivered(r);
      expect(grpcSink.traces.slice(before).flatMap((b) => decodeTracesProtobufjs(b)).map((s) => s.name).sort()).toEqual(SPAN_NAMES);
      expect(grpcSink.logs.length).toBe(beforeLogs);
      expect(receiver.received.filter((x) => x.path === '/v1/traces')).toHaveLength(0);
      expect(receiver.logs()).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('OTEL_TRACES_EXPORTER=none, OTEL_LOGS_EXPORTER=none: nothing sent, nothing counted as dropped', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run({ OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(r.out.stats).toMatchObject({ spansExported: 0, spansDropped: 0, logsExported: 0, logsDropped: 0 });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('OTEL_TRACES_EXPORTER=console,otlp: spans printed and sent; OTEL_LOGS_EXPORTER=console: the log printed only', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run({ OTEL_TRACES_EXPORTER: 'console,otlp', OTEL_LOGS_EXPORTER: 'console', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      expect(r.code, r.stderr).toBe(0);
      for (const name of SPAN_NAMES) expect(r.stdout).toContain(`name: '${name}'`);
      expect(r.stdout).toContain("'ragscope.feedback.comment': 'exported'");
      // Each exporter counts what it delivered: 2 spans to the console, 2 over OTLP; 1 log to the console.
      expect(r.out.stats).toMatchObject({ spansExported: 4, spansDropped: 0, logsExported: 1, logsDropped: 0 });
      expect(receiver.spans().map((s) => s.name).sort()).toEqual(SPAN_NAMES);
      expect(receiver.received.filter((x) => x.path === '/v1/logs')).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('OTEL_TRACES_EXPORTER=zipkin: Zipkin JSON to OTEL_EXPORTER_ZIPKIN_ENDPOINT', async () => {
    const receiver = await startReceiver();
    try {
      const r = await run({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_LOGS_EXPORTER: 'none', OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${receiver.url}/api/v2/spans` });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.stats).toMatchObject({ spansExported: 2, spansDropped: 0 });
      const posted = receiver.received.filter((x) => x.path === '/api/v2/spans');
      expect(posted.length).toBeGreaterThan(0);
      const spans = posted.flatMap((x) => JSON.parse(x.body.toString('utf8')) as { name: string; traceId: string; tags: Record<string, string> }[]);
      expect(spans.map((s) => s.name).sort()).toEqual(SPAN_NAMES);
      for (const s of spans) {
        expect(s.traceId).toBe(r.out.traceId);
        expect(s.tags['user.id']).toBe('u-export');
      }
    } finally {
      await receiver.close();
    }
  });
});
