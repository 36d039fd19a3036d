// The docker compose `forward` profile (docs/forwarding.md: Collector → ragscope → Tempo) and deploy/forward/,
// checked without a Docker engine (none runs here, so the stack itself was never started): the files it mounts
// exist, the Collector exports to the processor's gRPC port, the processor's configuration is valid and
// forwards to Tempo's OTLP receiver with the protocol Tempo listens with there, and Tempo's storage is the
// volume its init container hands over.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_NAMES, ConfigError, loadConfig } from '../../processor/src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string) => readFileSync(ROOT + rel, 'utf8');

type Service = {
  image?: string;
  profiles?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  command?: string[];
  entrypoint?: string[];
  user?: string;
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const profile = Object.entries(services).filter(([, s]) => s.profiles?.includes('forward'));

/** Compose variable syntax resolved as compose would with an empty environment (${X:?…} → <X>). */
function value(v: unknown): string {
  return String(v ?? '').replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => (op === '-' ? (arg ?? '') : op === '?' ? `<${name}>` : ''));
}
const env = (s: string) => Object.fromEntries(Object.entries(services[s]!.environment ?? {}).map(([k, v]) => [k, value(v)]));
/** The repository file bind-mounted at `target` in a service. */
function mounted(service: string, target: string): string {
  const v = (services[service]!.volumes ?? []).find((x) => x.startsWith('./') && x.split(':')[1] === target);
  expect(v, `${service} mounts ${target}`).toBeDefined();
  const host = v!.split(':')[0]!.slice(2);
  expect(existsSync(ROOT + host), host).toBe(true);
  return host;
}
/** Container port published for `containerPort` (host side of "host:container"). */
const published = (service: string, containerPort: string) => (services[service]!.ports ?? []).filter((p) => p.split(':').pop() === containerPort);
const portOf = (endpoint: string) => endpoint.split(':').pop();

interface CollectorConfig {
  receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
  exporters: Record<string, { endpoint: string; tls?: { insecure?: boolean } }>;
  service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
}
interface TempoConfig {
  server: { http_listen_port: number };
  distributor: { receivers: { otlp: { protocols: { http?: { endpoint: string }; grpc?: { endpoint: string } } } } };
  storage: { trace: { backend: string; wal: { path: string }; local: { path: string } } };
}

describe('docker compose profile `forward` (Collector → ragscope → Tempo)', () => {
  it('has Tempo (and its volume init), a forwarding processor and a Collector in front of it', () => {
    expect(profile.map(([n]) => n).sort()).toEqual(['otel-collector-fwd', 'processor-fwd', 'tempo', 'tempo-init']);
    expect(services.tempo!.image).toMatch(/^grafana\/tempo:/);
    expect(services['tempo-init']!.image).toBe(services.tempo!.image);
    expect(services['otel-collector-fwd']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    expect(services['processor-fwd']!.image).toBe(services.processor!.image);
  });

  it('the Collector sends traces and logs to the processor\'s OTLP/gRPC port and publishes its receivers', () => {
    const collector = parse(read(mounted('otel-collector-fwd', '/etc/otelcol-contrib/config.yaml'))) as CollectorConfig;
    expect(services['otel-collector-fwd']!.command).toEqual(['--config=/etc/otelcol-contrib/config.yaml']);
    const exporter = collector.exporters['otlp/ragscope']!;
    const [host, port] = exporter.endpoint.split(':');
    expect(host).toBe('processor-fwd');
    const processor = loadConfig(env('processor-fwd'));
    expect(String(processor.grpcPort)).toBe(port);
    expect(processor.grpcHost).toBe('0.0.0.0');
    expect(exporter.tls?.insecure, 'the processor serves gRPC without TLS').toBe(true);
    for (const signal of ['traces', 'logs']) {
      expect(collector.service.pipelines[signal]!.receivers).toEqual(['otlp']);
      expect(collector.service.pipelines[signal]!.exporters).toEqual(['otlp/ragscope']);
    }
    for (const protocol of ['grpc', 'http'] as const) {
      const containerPort = portOf(collector.receivers.otlp.protocols[protocol].endpoint)!;
      expect(published('otel-collector-fwd', containerPort), `${protocol} receiver published`).toHaveLength(1);
    }
    expect(services['otel-collector-fwd']!.depends_on?.['processor-fwd']?.condition).toBe('service_healthy');
  });

  it('the processor has a valid configuration: it stores into the `clickhouse` service and forwards traces to Tempo\'s OTLP/HTTP receiver', () => {
    const e = env('processor-fwd');
    for (const name of Object.keys(e)) expect(CONFIG_ENV_NAMES, name).toContain(name);
    const config = loadConfig(e);
    const store = new URL(config.clickhouseUrl!);
    expect(store.hostname).toBe('clickhouse');
    expect(store.port).toBe('8123');
    const ch = env('clickhouse');
    expect(config.clickhouseUser).toBe(ch.CLICKHOUSE_USER);
    expect(config.clickhousePassword).toBe(ch.CLICKHOUSE_PASSWORD);
    expect(config.database).toBe(ch.CLICKHOUSE_DB);
    expect(services['processor-fwd']!.depends_on?.clickhouse?.condition).toBe('service_healthy');
    expect((services['processor-fwd']!.volumes ?? []).some((v) => v.endsWith(':/var/lib/ragscope') && v.split(':')[0]! in compose.volumes), 'keeps its write-ahead log').toBe(true);

    const tempo = parse(read(mounted('tempo', '/etc/tempo/tempo.yaml'))) as TempoConfig;
    const forward = new URL(config.forward.endpoint!);
    expect(forward.hostname).toBe('tempo');
    expect(config.forward.protocol).toBe('http/protobuf');
    const http = tempo.distributor.receivers.otlp.protocols.http!;
    expect(http.endpoint.startsWith('0.0.0.0:'), 'Tempo must listen beyond its own loopback').toBe(true);
    expect(forward.port).toBe(portOf(http.endpoint));
    expect(config.forward.signals, 'Tempo stores traces only').toEqual(['traces']);
    expect(Object.keys(services['processor-fwd']!.depends_on ?? {})).toContain('tempo');
  });

  it('Tempo reads the mounted config, stores on the volume its init container hands to user 10001, and publishes its query port', () => {
    const tempo = parse(read(mounted('tempo', '/etc/tempo/tempo.yaml'))) as TempoConfig;
    expect(services.tempo!.command).toEqual(['-config.file=/etc/tempo/tempo.yaml']);
    const dataVolume = (services.tempo!.volumes ?? []).find((v) => !v.startsWith('./'))!;
    const [volume, target] = dataVolume.split(':');
    expect(volume! in compose.volumes).toBe(true);
    expect(tempo.storage.trace.backend).toBe('local');
    for (const path of [tempo.storage.trace.wal.path, tempo.storage.trace.local.path]) expect(path.startsWith(`${target}/`), path).toBe(true);
    expect(services['tempo-init']!.volumes).toEqual([dataVolume]);
    expect(services['tempo-init']!.entrypoint).toEqual(['chown', '10001:10001', target]);
    expect(services.tempo!.depends_on?.['tempo-init']?.condition).toBe('service_completed_successfully');
    expect(published('tempo', String(tempo.server.http_listen_port))).toEqual([`127.0.0.1:${tempo.server.http_listen_port}:${tempo.server.http_listen_port}`]);
  });

  it('docs/forwarding.md describes this profile with the same service names and ports', () => {
    const doc = read('docs/forwarding.md');
    expect(doc).toContain('docker compose --profile forward up -d otel-collector-fwd');
    for (const s of ['processor-fwd', 'tempo', 'deploy/forward/otel-collector.yaml', 'deploy/forward/tempo.yaml']) expect(doc).toContain(s);
    for (const port of ['24317', '24318', '3200']) expect(doc).toContain(port);
  });
});

describe('RAGSCOPE_FORWARD_SIGNALS', () => {
  it('defaults to both signals, accepts a subset, refuses anything else naming the variable', () => {
    expect(loadConfig({}).forward.signals).toEqual(['traces', 'logs']);
    expect(loadConfig({ RAGSCOPE_FORWARD_SIGNALS: ' logs ' }).forward.signals).toEqual(['logs']);
    expect(() => loadConfig({ RAGSCOPE_FORWARD_SIGNALS: 'traces,metrics' })).toThrow(ConfigError);
    expect(() => loadConfig({ RAGSCOPE_FORWARD_SIGNALS: ',' })).toThrow(/RAGSCOPE_FORWARD_SIGNALS/);
  });
});
