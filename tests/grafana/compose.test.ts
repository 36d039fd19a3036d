/**
 * docker-compose.yml is consistent with the rest of the repository (no Docker engine runs here, so
 * this is what can be checked): mounted paths exist, Grafana's data source points at the ClickHouse
 * service, the processor only gets environment variables it reads, the Collector forwards to the
 * processor, and the processor image is built without the embedded engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_NAMES } from '../../processor/src/config.js';
import { DASHBOARDS_MOUNT, GRAFANA_ENV } from '../../grafana/src/provisioning.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string) => readFileSync(ROOT + rel, 'utf8');

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown>;
  command?: string[];
  profiles?: string[];
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** Compose interpolation of a value: ${X:-d} → d, ${X:?msg} → <X> (required), ${X} → ''. */
function value(v: unknown): string {
  return String(v ?? '').replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => (op === '-' ? (arg ?? '') : op === '?' ? `<${name}>` : ''));
}
const env = (s: string) => Object.fromEntries(Object.entries(services[s]!.environment ?? {}).map(([k, v]) => [k, value(v)]));

/** Bind mounts ("./host:/container[:ro]") of a service. */
function binds(s: string): Array<{ host: string; target: string }> {
  return (services[s]!.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [host, target] = v.split(':');
      return { host: host!.slice(2), target: target! };
    });
}

describe('docker-compose.yml', () => {
  it('runs ClickHouse, the processor, an OpenTelemetry Collector, Grafana and the demo traffic app', () => {
    // (services in a profile, such as `cluster`, start only when asked for: tests/cluster/compose.test.ts)
    expect(Object.keys(services).filter((s) => !services[s]!.profiles).sort()).toEqual(['clickhouse', 'demo', 'grafana', 'otel-collector', 'processor']);
    expect(services.clickhouse!.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:/);
  });

  it('every bind-mounted path exists in the repository', () => {
    for (const name of Object.keys(services)) for (const b of binds(name)) expect(existsSync(ROOT + b.host), `${name}: ./${b.host}`).toBe(true);
  });

  it('keeps ClickHouse data in a named volume', () => {
    const v = services.clickhouse!.volumes!.find((x) => x.endsWith(':/var/lib/clickhouse'))!;
    expect(v).toBeDefined();
    expect(compose.volumes).toHaveProperty(v.split(':')[0]!);
  });

  it('builds the processor from processor/Dockerfile, in server mode, without the embedded engine', () => {
    const p = services.processor!;
    expect(p.build).toMatchObject({ context: '.', dockerfile: 'processor/Dockerfile' });
    const dockerfile = read('processor/Dockerfile');
    expect(dockerfile).toMatch(/npm ci[^\n]*--omit=optional/);
    expect(dockerfile).toContain('rm -rf node_modules/chdb');
    expect(dockerfile).toMatch(/libchdb/); // the build fails if any engine file is left
    const url = new URL(env('processor').RAGSCOPE_CLICKHOUSE_URL!);
    expect(services[url.hostname], 'RAGSCOPE_CLICKHOUSE_URL host is a compose service').toBeDefined();
    expect(url.hostname).toBe('clickhouse');
    expect(url.port).toBe('8123');
    // the files the image copies exist and are not excluded from the build context
    const ignore = read('.dockerignore');
    for (const path of ['processor/', 'clickhouse/migrations/', 'package-lock.json', 'instrumentation/package.json']) {
      expect(existsSync(ROOT + path), path).toBe(true);
      expect(ignore).toContain(`!${path}`);
    }
  });

  it('gives the processor only environment variables it reads', () => {
    const names = Object.keys(services.processor!.environment ?? {});
    expect(names.length).toBeGreaterThan(3);
    for (const n of names) expect(CONFIG_ENV_NAMES, n).toContain(n);
    // and the same ClickHouse credentials ClickHouse is created with
    expect(env('processor').RAGSCOPE_CLICKHOUSE_USER).toBe(env('clickhouse').CLICKHOUSE_USER);
    expect(env('processor').RAGSCOPE_CLICKHOUSE_PASSWORD).toBe(env('clickhouse').CLICKHOUSE_PASSWORD);
    expect(env('processor').RAGSCOPE_CLICKHOUSE_DATABASE).toBe(env('clickhouse').CLICKHOUSE_DB);
  });

  it('points Grafana\'s data source at the ClickHouse service (host, native port) with a read-only user', () => {
    const g = env('grafana');
    expect(g[GRAFANA_ENV.host]).toBe('clickhouse');
    expect(services[g[GRAFANA_ENV.host]!]!.image).toMatch(/clickhouse-server/);
    const expectedPort = { native: '9000', http: '8123' }[g[GRAFANA_ENV.protocol]!];
    expect(expectedPort, `protocol ${g[GRAFANA_ENV.protocol]}`).toBeDefined();
    expect(g[GRAFANA_ENV.port]).toBe(expectedPort);
    expect(g[GRAFANA_ENV.database]).toBe(env('clickhouse').CLICKHOUSE_DB);
    // the read-only user exists in ClickHouse with the password Grafana is given
    const usersXml = read('deploy/clickhouse/users.d/grafana.xml');
    expect(usersXml).toContain(`<${g[GRAFANA_ENV.user]}>`);
    expect(usersXml).toContain(`GRANT SELECT, SHOW TABLES, SHOW COLUMNS ON ${g[GRAFANA_ENV.database]}.*`);
    const passwordEnv = /from_env="([A-Z_]+)"/.exec(usersXml)![1]!;
    expect(env('clickhouse')[passwordEnv]).toBe(g[GRAFANA_ENV.password]);
    expect(binds('clickhouse').some((b) => b.host === 'deploy/clickhouse/users.d/grafana.xml')).toBe(true);
  });

  it('sets every environment variable the Grafana provisioning files read', () => {
    const g = env('grafana');
    for (const rel of ['grafana/provisioning/datasources/ragscope.yaml', 'grafana/provisioning/alerting/contact-points.yaml']) {
      for (const m of read(rel).matchAll(/\$([A-Z_][A-Z0-9_]*)/g)) expect(g, `${rel} reads $${m[1]}`).toHaveProperty(m[1]!);
    }
  });

  it('mounts Grafana provisioning and dashboards where the provider looks, installs the plugin, no anonymous access', () => {
    const mounts = binds('grafana');
    expect(mounts).toContainEqual({ host: 'grafana/provisioning', target: '/etc/grafana/provisioning' });
    expect(mounts).toContainEqual({ host: 'grafana/dashboards', target: DASHBOARDS_MOUNT });
    const provider = parse(read('grafana/provisioning/dashboards/ragscope.yaml')) as { providers: Array<{ options: { path: string } }> };
    expect(provider.providers[0]!.options.path).toBe(DASHBOARDS_MOUNT);
    const g = env('grafana');
    expect(`${g.GF_PLUGINS_PREINSTALL_SYNC ?? ''},${g.GF_PLUGINS_PREINSTALL ?? ''},${g.GF_INSTALL_PLUGINS ?? ''}`).toContain('grafana-clickhouse-datasource');
    expect(g.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(g.GF_SECURITY_ADMIN_PASSWORD).toBe('<GRAFANA_ADMIN_PASSWORD>'); // required from the environment
    const home = g.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(DASHBOARDS_MOUNT + '/')).toBe(true);
    expect(existsSync(ROOT + 'grafana/dashboards/' + home.slice(DASHBOARDS_MOUNT.length + 1))).toBe(true);
  });

  it('puts an OpenTelemetry Collector in front that forwards traces and logs to the processor over OTLP/HTTP', () => {
    const mount = binds('otel-collector')[0]!;
    expect(services['otel-collector']!.command!.join(' ')).toContain(mount.target);
    const cfg = parse(read(mount.host)) as {
      receivers: Record<string, { protocols: Record<string, unknown> }>;
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
    };
    expect(cfg.receivers.otlp.protocols.http).toBeDefined();
    const [name, exporter] = Object.entries(cfg.exporters).find(([k]) => k.startsWith('otlphttp'))!;
    const url = new URL(exporter.endpoint);
    expect(url.hostname).toBe('processor');
    expect(url.port).toBe(env('processor').RAGSCOPE_PORT);
    expect(env('processor').RAGSCOPE_HOST).toBe('0.0.0.0');
    for (const signal of ['traces', 'logs']) {
      expect(cfg.service.pipelines[signal]!.receivers).toContain('otlp');
      expect(cfg.service.pipelines[signal]!.exporters).toContain(name);
    }
    expect(Object.keys(services['otel-collector']!.depends_on ?? {})).toContain('processor');
  });
});
