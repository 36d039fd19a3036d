// The docker compose `demo` service and demo/Dockerfile, checked without a Docker engine: the image gets
// every file it copies, runs the app registered at startup with options the app accepts, points it at the
// Collector's OTLP/HTTP receiver, and pins the SDK versions the repository is tested with. The app's
// standalone mode (provider stubs in-process, as in the container) runs for real.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAppOptions } from '../../demo/src/options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

type Service = {
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
};
const services = (parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> }).services;
const demo = services.demo!;
const dockerfile = read('demo/Dockerfile');

/** JSON-form instruction arguments, e.g. ENTRYPOINT ["a", "b"]. */
function jsonInstruction(name: string): string[] {
  const m = new RegExp(`^${name}\\s+(\\[.*\\])\\s*$`, 'm').exec(dockerfile);
  expect(m, `${name} in demo/Dockerfile`).not.toBeNull();
  return JSON.parse(m![1]!) as string[];
}

/** Whether a path is in the build context under a `*` + `!include` style .dockerignore. */
function inContext(path: string, ignore: string): boolean {
  let included = true;
  for (const raw of ignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '');
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}(/.*)?$`);
    if (re.test(path.replace(/\/$/, ''))) included = negated;
  }
  return included;
}

describe('docker compose demo service', () => {
  it('builds demo/Dockerfile from the repository root, with its own ignore file', () => {
    expect(demo.build).toEqual({ context: '.', dockerfile: 'demo/Dockerfile' });
    expect(existsSync(join(ROOT, 'demo/Dockerfile.dockerignore'))).toBe(true);
  });

  it('the build context has every file the Dockerfile copies', () => {
    const ignore = read('demo/Dockerfile.dockerignore');
    const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true);
      expect(inContext(src, ignore), `${src} is in the build context`).toBe(true);
    }
    // ...and none of the local build output or dependencies.
    expect(inContext('node_modules/openai/package.json', ignore)).toBe(false);
    expect(inContext('demo/dist/app.js', ignore)).toBe(false);
    expect(inContext('processor/src/app.ts', ignore)).toBe(false);
  });

  it('registers the instrumentation at startup and passes options the app accepts', () => {
    const entrypoint = jsonInstruction('ENTRYPOINT');
    expect(entrypoint).toEqual(['node', '--import', '@ragscope/instrumentation/register', 'dist/app.js']);
    for (const args of [jsonInstruction('CMD'), demo.command!]) {
      const o = parseAppOptions(args);
      expect(o.requests, 'continuous traffic').toBe(0);
      expect(o.duration).toBe(0);
      expect(o.rate).toBeGreaterThan(0);
    }
  });

  it("exports OTLP/HTTP to the Collector's HTTP receiver, which forwards traces and logs (feedback) to the processor", () => {
    const endpoint = new URL(demo.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(services[endpoint.hostname], 'the endpoint host is a compose service').toBeDefined();
    expect(endpoint.hostname).toBe('otel-collector');
    const collector = parse(read('deploy/otel-collector.yaml')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: Record<string, { exporters: string[] }> };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint.split(':').pop()).toBe(endpoint.port);
    for (const signal of ['traces', 'logs']) {
      const exporters = collector.service.pipelines[signal]!.exporters.map((e) => collector.exporters[e]!.endpoint);
      expect(exporters, signal).toContain('http://processor:4318');
    }
    expect(demo.environment!.OTEL_SERVICE_NAME).toBe('ragscope-demo');
    expect(Object.keys(demo.depends_on ?? {})).toContain('otel-collector');
  });

  it('installs the SDK versions the repository is tested with (root lockfile)', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };
    const deps = (JSON.parse(read('demo/package.json')) as { dependencies: Record<string, string> }).dependencies;
    expect(deps.openai).toBe(lock.packages['node_modules/openai']!.version);
    expect(deps['@anthropic-ai/sdk']).toBe(lock.packages['node_modules/@anthropic-ai/sdk']!.version);
    expect(deps['@ragscope/instrumentation']).toBe('file:../instrumentation');
  });
});

describe('the app on its own (as in the container)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'demo'], { cwd: ROOT, stdio: 'pipe' });
  }, 180_000);

  it('starts the provider stubs in-process, answers, and reports progress as log lines', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
      execFile(
        process.execPath,
        ['--import', '@ragscope/instrumentation/register', 'demo/dist/app.js', '--requests', '5', '--rate', '20', '--latency', '0.2', '--faults', '0'],
        // No exporter: this checks the app, not the export (tests/demo/demo.test.ts does that).
        { cwd: ROOT, timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } },
        (err, out, errOut) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      ),
    );
    expect(code, stdout + stderr).toBe(0);
    expect(stdout).toContain('[ragscope-demo] 36 documents indexed; 5 requests at 20/s');
    expect(stdout).toMatch(/\[ragscope-demo\] done: 5 requests \(0 failed\)/);
  }, 60_000);
});
