// The docker compose `cluster` profile (docs/scaling.md) and deploy/cluster/, checked without a Docker engine
// (none runs here, so the cluster itself was never started): every ClickHouse host of remote_servers is a
// service with matching hostname and macros, shards and replicas are unique, Keeper is where the servers look
// for it, the processors run in cluster mode against cluster nodes with the same cluster name and credentials,
// and the load balancer routes by trace id to one forwarding Collector per processor.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_NAMES, loadConfig } from '../../processor/src/config.js';
import { CLUSTER_SETTINGS } from '../../processor/src/store/clickhouse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string) => readFileSync(ROOT + rel, 'utf8');

type Service = {
  image?: string;
  hostname?: string;
  profiles?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown>;
  command?: string[];
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const cluster = Object.entries(services).filter(([, s]) => s.profiles?.includes('cluster'));
const named = (prefix: string) => cluster.filter(([n]) => n.startsWith(prefix)).map(([n]) => n);

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
/** Text of every <tag>…</tag> in an XML text (the deploy files are plain, attribute-free where read here). */
const tags = (xml: string, tag: string) => [...xml.replace(/<!--[\s\S]*?-->/g, '').matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!.trim());
const tag = (xml: string, t: string) => {
  const all = tags(xml, t);
  expect(all, `<${t}>`).toHaveLength(1);
  return all[0]!;
};

const clusterXml = read('deploy/cluster/clickhouse/config.d/cluster.xml');
const clusterName = /<remote_servers[^>]*>\s*<([A-Za-z_][A-Za-z0-9_]*)>/.exec(clusterXml)![1]!;
const shards = tags(clusterXml, 'shard').map((s) => ({ internal: tag(s, 'internal_replication'), hosts: tags(s, 'replica').map((r) => ({ host: tag(r, 'host'), port: tag(r, 'port') })) }));

describe('docker compose profile `cluster`', () => {
  it('has Keeper, 2 shards × 2 replicas, 2 processors, a forwarder per processor and the load balancer', () => {
    expect(cluster.map(([n]) => n).sort()).toEqual(['ch-s1r1', 'ch-s1r2', 'ch-s2r1', 'ch-s2r2', 'collector-1', 'collector-2', 'keeper', 'otel-collector-lb', 'processor-1', 'processor-2']);
    expect(shards).toHaveLength(2);
    for (const s of shards) {
      expect(s.hosts).toHaveLength(2);
      expect(s.internal, 'Distributed inserts one replica, replication does the rest').toBe('true');
    }
    expect(services.keeper!.image).toMatch(/^clickhouse\/clickhouse-keeper:/);
  });

  it('every remote_servers host is a ClickHouse service with that hostname, and its macros name its shard and a unique replica', () => {
    const replicas = new Set<string>();
    shards.forEach((shard, i) => {
      for (const { host, port } of shard.hosts) {
        const s = services[host];
        expect(s, `${host} is a compose service`).toBeDefined();
        expect(s!.image).toMatch(/^clickhouse\/clickhouse-server:/);
        expect(s!.hostname).toBe(host);
        expect(port).toBe('9000');
        expect(mounted(host, '/etc/clickhouse-server/config.d/cluster.xml')).toBe('deploy/cluster/clickhouse/config.d/cluster.xml');
        const macros = read(mounted(host, '/etc/clickhouse-server/config.d/macros.xml'));
        expect(Number(tag(macros, 'shard')), `${host} shard`).toBe(i + 1);
        expect(tag(macros, 'cluster')).toBe(clusterName);
        const replica = tag(macros, 'replica');
        expect(replicas.has(replica), `replica ${replica} unique`).toBe(false);
        replicas.add(replica);
        expect(tag(macros, 'interserver_http_host')).toBe(host);
        // a data volume per node
        expect((s!.volumes ?? []).some((v) => v.endsWith(':/var/lib/clickhouse') && v.split(':')[0]! in compose.volumes)).toBe(true);
      }
    });
    expect(replicas.size).toBe(4);
    expect(named('ch-')).toHaveLength(4);
  });

  it('the servers find Keeper where it listens', () => {
    const node = tag(tag(clusterXml, 'zookeeper'), 'node');
    const keeperXml = read(mounted('keeper', '/etc/clickhouse-keeper/keeper_config.xml'));
    expect(tag(node, 'host')).toBe('keeper');
    expect(services.keeper!.hostname).toBe('keeper');
    expect(tag(node, 'port')).toBe(tag(keeperXml, 'tcp_port'));
    const raft = tags(keeperXml, 'server');
    expect(raft).toHaveLength(1);
    expect(tag(raft[0]!, 'hostname')).toBe('keeper');
    expect(tag(raft[0]!, 'id')).toBe(tag(keeperXml, 'server_id'));
    expect(tag(clusterXml, 'path'), 'distributed_ddl queue for ON CLUSTER').toMatch(/^\/clickhouse\//);
    for (const ch of named('ch-')) expect(Object.keys(services[ch]!.depends_on ?? {})).toContain('keeper');
    // nodes authenticate each other's distributed queries with a shared secret from the environment
    expect(clusterXml).toMatch(/<secret from_env="([A-Z_]+)"\/>/);
    const secretEnv = /<secret from_env="([A-Z_]+)"\/>/.exec(clusterXml)![1]!;
    const secrets = new Set(named('ch-').map((ch) => env(ch)[secretEnv]));
    expect(secrets.size).toBe(1);
    expect([...secrets][0]).not.toBe('');
  });

  it('runs the processors in cluster mode against cluster nodes, with the cluster name and the nodes\' credentials', () => {
    const nodes = new Set<string>();
    for (const p of named('processor-')) {
      const e = env(p);
      for (const n of Object.keys(e)) expect(CONFIG_ENV_NAMES, n).toContain(n);
      const config = loadConfig(e);
      expect(config.clickhouseCluster).toBe(clusterName);
      const url = new URL(config.clickhouseUrl!);
      expect(shards.flatMap((s) => s.hosts.map((h) => h.host))).toContain(url.hostname);
      expect(url.port).toBe('8123');
      nodes.add(url.hostname);
      const ch = env(url.hostname);
      expect(config.clickhouseUser).toBe(ch.CLICKHOUSE_USER);
      expect(config.clickhousePassword).toBe(ch.CLICKHOUSE_PASSWORD);
      expect(config.database).toBe(ch.CLICKHOUSE_DB);
      expect((services[p]!.volumes ?? []).some((v) => v.endsWith(':/var/lib/ragscope')), `${p} keeps its write-ahead log`).toBe(true);
    }
    expect(nodes.size, 'processors write through different nodes').toBe(2);
  });

  it('the load balancer sends each trace (spans and logs) to one forwarder, each forwarder to one processor', () => {
    const lb = parse(read(mounted('otel-collector-lb', '/etc/otelcol-contrib/config.yaml'))) as {
      exporters: { loadbalancing: { routing_key: string; resolver: { static: { hostnames: string[] } } } };
      service: { pipelines: Record<string, { exporters: string[] }> };
    };
    expect(lb.exporters.loadbalancing.routing_key).toBe('traceID');
    for (const signal of ['traces', 'logs']) expect(lb.service.pipelines[signal]!.exporters).toEqual(['loadbalancing']);
    const targets = lb.exporters.loadbalancing.resolver.static.hostnames;
    expect(targets).toHaveLength(2);
    const processors = new Set<string>();
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect(named('collector-')).toContain(host);
      const fwd = parse(read(mounted(host!, '/etc/otelcol-contrib/config.yaml'))) as {
        receivers: { otlp: { protocols: { grpc: { endpoint: string } } } };
        exporters: Record<string, { endpoint: string }>;
        service: { pipelines: Record<string, { exporters: string[] }> };
      };
      expect(fwd.receivers.otlp.protocols.grpc.endpoint.split(':').pop()).toBe(port);
      const exporter = fwd.exporters['otlphttp/ragscope']!;
      const variable = /^\$\{env:([A-Z_]+)\}$/.exec(exporter.endpoint)![1]!;
      const url = new URL(env(host!)[variable]!);
      expect(named('processor-')).toContain(url.hostname);
      expect(url.port).toBe(env(url.hostname).RAGSCOPE_PORT);
      expect(env(url.hostname).RAGSCOPE_HOST).toBe('0.0.0.0');
      processors.add(url.hostname);
      for (const signal of ['traces', 'logs']) expect(fwd.service.pipelines[signal]!.exporters).toContain('otlphttp/ragscope');
      expect(Object.keys(services[host!]!.depends_on ?? {})).toContain(url.hostname);
    }
    expect(processors.size, 'one forwarder per processor: trace affinity is kept').toBe(2);
  });

  it('sets on every node what cluster mode needs, as the processor does', () => {
    const users = read('deploy/cluster/clickhouse/users.d/cluster-profiles.xml');
    const profile = tag(tag(users, 'profiles'), 'default');
    for (const [name, v] of Object.entries(CLUSTER_SETTINGS)) expect(tag(profile, name), name).toBe(String(v));
    expect(tag(tag(tag(users, 'profiles'), 'ragscope_grafana'), 'distributed_product_mode')).toBe(CLUSTER_SETTINGS.distributed_product_mode);
    for (const ch of named('ch-')) expect(mounted(ch, '/etc/clickhouse-server/users.d/cluster-profiles.xml')).toBe('deploy/cluster/clickhouse/users.d/cluster-profiles.xml');
  });

  it('publishes host ports that do not collide with the single-node stack, so both can run', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':').slice(0, -1).join(':')));
    expect(hostPorts.length).toBeGreaterThan(6);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(services['otel-collector-lb']!.ports).toEqual(expect.arrayContaining([expect.stringMatching(/:4317$/), expect.stringMatching(/:4318$/)]));
  });
});
