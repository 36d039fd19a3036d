#!/usr/bin/env node
// `npm run demo`: the first-run experience. Finds the ragscope processor (or starts one on the embedded
// store), starts the simulated OpenAI and Anthropic APIs, runs the demo RAG app as a separate process with
// the instrumentation registered at startup (`node --import @ragscope/instrumentation/register`), shows a
// progress bar, then prints a summary read back from ClickHouse through the processor's SQL endpoint.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppMessage } from './app.js';
import { DEMO_HELP, defaultProcessorUrl, OptionsError, parseDemoOptions, type DemoOptions } from './options.js';
import { probe, startProcessor, type StartedProcessor } from './processor.js';
import { ProgressBar } from './progress.js';
import { startAnthropicStub, startOpenAIStub, type Stub } from './provider-stub.js';
import { EXPERIMENT } from './rag-app.js';
import { simulatedAnthropic, simulatedOpenAI } from './simulated-llm.js';
import { sqlClient } from './sql.js';
import { collectSummary, formatNext, formatSummary, sqlTime, summaryQueries, type Summary } from './summary.js';
import type { TrafficStats } from './traffic.js';

/** The repository root (demo/dist/main.js → ../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./app.js', import.meta.url));

class DemoError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The app's environment: the user's, minus their OTEL_* settings (which could send the telemetry elsewhere). */
function appEnv(o: DemoOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && !k.startsWith('RAGSCOPE_')) env[k] = v;
  return {
    ...env,
    OTEL_SERVICE_NAME: o.service,
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=demo,service.version=0.1.0',
    OTEL_EXPORTER_OTLP_ENDPOINT: o.otlp,
    // Export every second, with room for bursts (the default queue of 2048 spans fills at ~60 requests/s).
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    OTEL_BSP_MAX_QUEUE_SIZE: '16384',
    OTEL_BLRP_SCHEDULE_DELAY: '1000',
    OTEL_BLRP_MAX_QUEUE_SIZE: '8192',
    ...(process.env.RAGSCOPE_FINGERPRINT_SALT ? { RAGSCOPE_FINGERPRINT_SALT: process.env.RAGSCOPE_FINGERPRINT_SALT } : {}),
  };
}

interface AppRun {
  stats: TrafficStats | null;
  telemetry: { spansExported: number; spansDropped: number; logsExported: number; logsDropped: number; exportFailures: number } | null;
  code: number | null;
  output: string;
}

function runApp(o: DemoOptions, stubs: { openai: Stub; anthropic: Stub }, bar: ProgressBar, onChild: (c: ChildProcess) => void): Promise<AppRun> {
  const args = [
    ...['--requests', String(o.requests), '--rate', String(o.rate), '--duration', String(o.duration)],
    ...['--concurrency', String(o.concurrency), '--seed', String(o.seed), '--latency', String(o.latency), '--faults', String(o.faults)],
    ...['--burst', String(o.burst), '--openai-url', stubs.openai.url, '--anthropic-url', stubs.anthropic.url, '--progress', 'ipc'],
  ];
  const child = fork(APP, args, {
    cwd: ROOT,
    env: appEnv(o),
    // Registered at startup, exactly as the docs tell users to do it.
    execArgv: ['--import', '@ragscope/instrumentation/register'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: Ctrl-C reaches only this process, which stops the app gracefully.
    detached: true,
  });
  onChild(child);
  const run: AppRun = { stats: null, telemetry: null, code: null, output: '' };
  const seen = new Set<string>();
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    run.output += text;
    for (const line of text.split('\n')) {
      // Show each distinct warning once (e.g. an SDK deprecation notice), above the progress bar.
      const l = line.trimEnd();
      if (l && !seen.has(l) && seen.size < 20) {
        seen.add(l);
        bar.log(`  app: ${l}`);
      }
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  child.on('message', (m: AppMessage) => {
    if (m.type === 'progress') bar.update(m.stats, m.inFlight);
    else if (m.type === 'done') {
      run.stats = m.stats;
      run.telemetry = m.telemetry;
      bar.update(m.stats, 0);
    }
  });
  return new Promise((resolvePromise) =>
    child.on('exit', (code) => {
      run.code = code;
      resolvePromise(run);
    }),
  );
}

/** Polls until every request and feedback the app sent is stored (the Collector path batches for a while). */
async function waitForData(sql: ReturnType<typeof sqlClient>, o: DemoOptions, from: string, to: string, expected: TrafficStats, log: (s: string) => void): Promise<void> {
  const q = summaryQueries({ tenant: o.tenant, service: o.service, from, to });
  const deadline = Date.now() + o.wait * 1000;
  // What the processor acknowledged is in its write-ahead log; /v1/flush answers once it is queryable.
  const flushed = await fetch(`${o.url}/v1/flush?timeout_ms=${o.wait * 1000}`, { method: 'POST' }).catch((err: Error) => err);
  if (flushed instanceof Error || !flushed.ok) log(`  warning: the processor did not confirm it stored everything (${flushed instanceof Error ? flushed.message : flushed.status})`);
  for (;;) {
    const [[r], [f]] = await Promise.all([sql<{ stored: number }>(q.requests), sql<{ feedback: number }>(q.feedback)]);
    const stored = Number(r?.stored ?? 0);
    const feedback = Number(f?.feedback ?? 0);
    if (stored >= expected.started && feedback >= expected.feedback) return;
    const last = `${stored} of ${expected.started} requests and ${feedback} of ${expected.feedback} feedback events stored`;
    if (Date.now() > deadline) {
      log(`  warning: after ${o.wait} s only ${last}; the summary shows what is stored so far`);
      return;
    }
    await sleep(500);
  }
}

async function main(): Promise<number> {
  let o: DemoOptions;
  try {
    o = parseDemoOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`demo: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (o.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  // With --json -, stdout carries only the JSON document; everything else goes to stderr.
  const out = o.json === '-' ? process.stderr : process.stdout;
  const say = (line = '') => out.write(`${line}\n`);
  const started = Date.now();

  // 1. The processor.
  let processor: StartedProcessor | undefined;
  let child: ChildProcess | undefined;
  let interrupted = 0;
  const cleanup = () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (processor && !o.keep && processor.child.exitCode === null) processor.child.kill('SIGTERM');
  };
  process.on('exit', cleanup);
  process.on('SIGINT', () => {
    interrupted++;
    if (interrupted === 1 && child?.connected) {
      out.write('\n');
      say('  stopping: finishing the requests in flight (Ctrl-C again to quit now)');
      child.send({ type: 'stop' });
    } else {
      cleanup();
      process.exit(130);
    }
  });

  const p = await probe(o.url);
  if (p.state === 'other') throw new DemoError(`${p.detail}. Point the demo at a ragscope processor with --url (the docker compose one is http://localhost:4319; its /sql needs RAGSCOPE_SQL_TOKEN).`);
  if (p.state === 'ready' || p.state === 'starting') {
    say(`ragscope demo: using the processor at ${o.url}${p.state === 'ready' && p.store ? ` (${p.store} store)` : ''}; dashboards at ${o.url}/`);
    if (p.state === 'starting') {
      const deadline = Date.now() + 60_000;
      while ((await probe(o.url)).state !== 'ready') {
        if (Date.now() > deadline) throw new DemoError(`the processor at ${o.url} did not become ready within 60 s`);
        await sleep(250);
      }
    }
  } else {
    const dataDir = resolve(o.dataDir || join(ROOT, 'data'));
    say(`ragscope demo: no processor at ${o.url}; starting one on the embedded store in ${dataDir} ...`);
    processor = await startProcessor({ url: o.url, root: ROOT, dataDir, env: process.env });
    say(`  processor ready in ${(processor.startMs / 1000).toFixed(1)} s (pid ${processor.pid}, log ${processor.logFile})`);
  }

  // 2. The simulated provider APIs, in this process: the app reaches them over HTTP like the real ones.
  const simulation = { seed: o.seed, latencyScale: o.latency, faultScale: o.faults };
  const stubs = { openai: await startOpenAIStub(simulatedOpenAI(simulation)), anthropic: await startAnthropicStub(simulatedAnthropic(simulation)) };
  const what = o.requests > 0 ? `${o.requests} requests` : 'requests';
  say(
    `  simulated OpenAI API at ${stubs.openai.url}, Anthropic API at ${stubs.anthropic.url}\n` +
      `  running the RAG app: ${what} at ${o.rate}/s${o.duration > 0 ? ` for up to ${o.duration} s` : ''}, ${o.concurrency} at a time (seed ${o.seed}); telemetry → ${o.otlp}`,
  );

  // 3. The app, with a progress bar.
  const bar = new ProgressBar(out as NodeJS.WriteStream, o.requests, o.duration);
  const runStart = Date.now();
  const run = await runApp(o, stubs, bar, (c) => (child = c));
  const runEnd = Date.now();
  bar.finish();
  await Promise.all([stubs.openai.close(), stubs.anthropic.close()]);
  if (!run.stats) {
    throw new DemoError(`the demo app exited with code ${run.code} before finishing:\n${run.output.trim().split('\n').slice(-20).join('\n')}`);
  }
  const t = run.telemetry;
  say(
    `  app done in ${((runEnd - runStart) / 1000).toFixed(1)} s: ${run.stats.done} requests (${run.stats.failed} failed), ${run.stats.feedback} feedback` +
      (t ? `; telemetry exported ${t.spansExported} spans and ${t.logsExported} log events, dropped ${t.spansDropped + t.logsDropped}` : ''),
  );

  // 4. The summary, from ClickHouse.
  let summary: Summary | undefined;
  let exitCode = 0;
  if (o.summary) {
    const sql = sqlClient(o.url);
    const scope = { tenant: o.tenant, service: o.service, from: sqlTime(runStart), to: sqlTime(runEnd + 1000, true) };
    try {
      await waitForData(sql, o, scope.from, scope.to, run.stats, say);
      summary = await collectSummary(sql, scope, ROOT, EXPERIMENT);
      const ctx = { sent: { requests: run.stats.started, feedback: run.stats.feedback }, url: o.url, defaultUrl: o.url === defaultProcessorUrl({}) };
      say();
      say(formatSummary(summary, ctx));
      say();
      say(formatNext(summary, ctx));
    } catch (err) {
      say(`  could not read the summary: ${(err as Error).message}`);
      exitCode = 1;
    }
  }
  if (o.json && summary) {
    const doc = JSON.stringify({ summary, app: run.stats, telemetry: run.telemetry, seed: o.seed }, null, 2);
    if (o.json === '-') process.stdout.write(`${doc}\n`);
    else writeFileSync(o.json, `${doc}\n`);
  }

  // 5. Stop the processor the demo started, unless asked to keep it.
  if (processor) {
    if (o.keep) {
      processor.child.unref();
      say(`\nThe processor keeps running at ${o.url} (pid ${processor.pid}); stop it with: kill ${processor.pid}`);
      say(`Dashboards (the Grafana dashboards, built in): ${o.url}/`);
    } else {
      await processor.stop();
      say('\nStopped the processor the demo started (the data stays in the store: `npm start` serves it again; --keep leaves it running).');
      say(`Dashboards: \`npm start\`, then open ${o.url}/ (or run the demo with --keep).`);
    }
  }
  say(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`demo: ${err instanceof DemoError ? err.message : (err as Error)?.stack ?? err}`);
    process.exitCode = 1;
  },
);
