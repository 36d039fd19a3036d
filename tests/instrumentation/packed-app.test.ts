// The package as a user installs it: an app folder (temp dir) that installs the PACKED package (`npm pack`
// of instrumentation/) next to current OpenTelemetry packages from the npm registry (the npm cache is
// fine), the real Anthropic and OpenAI SDKs and the app's own undici instrumentation, exporting OTLP/JSON
// to a local receiver.
// - One @opentelemetry/api copy: everything is traced, and the app's undici spans share ragscope's trace.
// - A forced two-copies layout: @anthropic-ai/sdk gets an api copy of its own that refuses ragscope's
//   global (a newer minor: no newer api release exists yet, so a copy of 1.10.0 whose version constant says
//   1.11.0). ragscope warns once (diag logger and stats()) and the Anthropic spans are still traced.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/otel.js';
import { startReceiver, type Receiver } from './helpers/otlp-receiver.js';
import { startAnthropicStub, startOpenAIStub, type Stub } from '../../demo/src/provider-stub.js';

const versionOf = (dir: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', dir, 'package.json'), 'utf8')) as { version: string }).version;

const APP = `
import { register, traceRag } from '@ragscope/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

const handle = register({
  serviceName: 'packed-app', endpoint: process.env.OTLP, protocol: 'http/json', shutdownOnExit: false,
  instrumentations: [new UndiciInstrumentation()],
});
await handle.ready;
const { default: Anthropic } = await import('@anthropic-ai/sdk');
const { default: OpenAI } = await import('openai');
const ids = await traceRag('answer', { userId: 'u-packed' }, async (request) => {
  const anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: process.env.STUB_ANTHROPIC, maxRetries: 0 });
  await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: process.env.STUB_OPENAI, maxRetries: 0 });
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const res = await fetch(process.env.STUB_OPENAI + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' });
  await res.text();
  return { traceId: request.traceId, spanId: request.spanId };
});
await handle.shutdown();
console.log(JSON.stringify({ ...ids, stats: handle.stats() }));
`;

let app: string;
let receiver: Receiver;
let openaiStub: Stub;
let anthropicStub: Stub;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'instrumentation'], { cwd: ROOT, stdio: 'pipe' });
  app = mkdtempSync(join(tmpdir(), 'ragscope-packed-app-'));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', app], { cwd: join(ROOT, 'instrumentation'), encoding: 'utf8' }).trim().split('\n').pop()!;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'packed-app',
      private: true,
      type: 'module',
      dependencies: {
        '@ragscope/instrumentation': `file:./${tarball}`,
        '@opentelemetry/api': versionOf('@opentelemetry/api'),
        '@opentelemetry/instrumentation-undici': versionOf('@opentelemetry/instrumentation-undici'),
        '@anthropic-ai/sdk': versionOf('@anthropic-ai/sdk'),
        openai: versionOf('openai'),
      },
    }),
  );
  writeFileSync(join(app, 'app.mjs'), APP);
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app, stdio: 'pipe' });
  receiver = await startReceiver();
  openaiStub = await startOpenAIStub();
  anthropicStub = await startAnthropicStub();
}, 600_000);
afterAll(async () => {
  await receiver?.close();
  await openaiStub?.close();
  await anthropicStub?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Every package.json of @opentelemetry/api under the app's node_modules, with its version. */
function apiCopies(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (path.endsWith(join('@opentelemetry', 'api')) && existsSync(join(path, 'package.json'))) found.push(path);
    else apiCopies(path, found);
  }
  return found;
}

interface AppRun {
  out: { traceId: string; spanId: string; stats: { spansDropped: number; foreignApiCopies: { version: string; resolvedBy: string[]; bridged: boolean }[] } };
  stderr: string;
}

function runApp(): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['app.mjs'],
      {
        cwd: app,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          OTLP: receiver.url,
          STUB_OPENAI: openaiStub.url,
          STUB_ANTHROPIC: anthropicStub.url,
          OTEL_LOG_LEVEL: 'warn',
          OTEL_BSP_SCHEDULE_DELAY: '50',
        },
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve({ out: JSON.parse(stdout.trim().split('\n').pop()!), stderr });
      },
    );
  });
}

describe('the packed package installed into an app next to current OpenTelemetry packages', () => {
  it('one @opentelemetry/api copy: everything traced, undici spans share ragscope trace, trace context on the wire', async () => {
    const copies = apiCopies(join(app, 'node_modules'));
    expect(copies).toEqual([join(app, 'node_modules', '@opentelemetry', 'api')]);
    const before = { openai: openaiStub.requests.length, anthropic: anthropicStub.requests.length };
    const { out, stderr } = await runApp();
    expect(out.stats.foreignApiCopies).toEqual([]);
    expect(stderr).not.toContain('other copy');
    const spans = receiver.spans().filter((s) => s.traceId === out.traceId);
    const scopes = spans.map((s) => s.scope);
    expect(spans.find((s) => s.spanId === out.spanId)?.name).toBe('invoke_workflow answer');
    const anthropic = spans.find((s) => s.name === 'chat claude-sonnet-4-6');
    expect(anthropic?.scope).toMatch(/^com\.anthropic\.sdk/);
    expect(anthropic?.parentSpanId).toBe(out.spanId);
    expect(anthropic?.attributes).toMatchObject({ 'gen_ai.usage.output_tokens': 200, 'user.id': 'u-packed' });
    expect(spans.find((s) => s.name === 'chat gpt-4o-mini')?.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'user.id': 'u-packed' });
    // The app's own undici instrumentation sees ragscope's provider: one client span per request (3), in the same trace.
    const undici = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-undici');
    expect(undici.length, scopes.join(',')).toBe(3);
    for (const s of undici) expect(s.attributes['user.id']).toBe('u-packed');
    // ... and it propagates that trace (but no baggage) on the wire.
    const sent = [...openaiStub.requests.slice(before.openai), ...anthropicStub.requests.slice(before.anthropic)];
    expect(sent).toHaveLength(3);
    for (const r of sent) {
      expect(String(r.headers.traceparent)).toContain(out.traceId);
      expect(r.headers.baggage).toBeUndefined();
    }
  }, 120_000);

  it('a forced second api copy under @anthropic-ai/sdk that refuses the global: warned once, still traced', async () => {
    const top = join(app, 'node_modules', '@opentelemetry', 'api');
    const nested = join(app, 'node_modules', '@anthropic-ai', 'sdk', 'node_modules', '@opentelemetry', 'api');
    cpSync(top, nested, { recursive: true });
    for (const file of ['dist/version.cjs', 'dist/version.mjs', 'package.json']) {
      const path = join(nested, file);
      const text = readFileSync(path, 'utf8');
      const patched = file === 'package.json' ? text.replace(/"version": "1\.10\.\d+"/, '"version": "1.11.0"') : text.replace(/VERSION = "1\.10\.\d+"/, 'VERSION = "1.11.0"');
      expect(patched, file).not.toBe(text);
      writeFileSync(path, patched);
    }
    try {
      const { out, stderr } = await runApp();
      expect(out.stats.foreignApiCopies).toHaveLength(1);
      expect(out.stats.foreignApiCopies[0]).toMatchObject({ version: '1.11.0', resolvedBy: ['@anthropic-ai/sdk'], bridged: true });
      expect(stderr.match(/other copy\(ies\) of @opentelemetry\/api/g) ?? []).toHaveLength(1);
      const spans = receiver.spans().filter((s) => s.traceId === out.traceId);
      const anthropic = spans.find((s) => s.name === 'chat claude-sonnet-4-6');
      expect(anthropic?.scope).toMatch(/^com\.anthropic\.sdk/);
      expect(anthropic?.parentSpanId).toBe(out.spanId);
      expect(anthropic?.attributes).toMatchObject({ 'gen_ai.usage.output_tokens': 200, 'user.id': 'u-packed' });
      expect(spans.some((s) => s.name === 'chat gpt-4o-mini')).toBe(true);
    } finally {
      rmSync(join(app, 'node_modules', '@anthropic-ai', 'sdk', 'node_modules'), { recursive: true, force: true });
    }
  }, 120_000);
});
