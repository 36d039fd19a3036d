// The processor as users start it (`npm start` → processor/dist/start.cjs) in a child process, on an
// ephemeral port. For tests that need the real entry point (thread-pool sizing) or a real restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const PROCESSOR_ENTRY = join(ROOT, 'processor/dist/start.cjs');

export interface SpawnedProcessor {
  url: string;
  child: ChildProcess;
  /** Parsed pino log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** SIGTERM (graceful: flushes) and wait for exit. */
  stop(): Promise<number | null>;
}

export async function spawnProcessor(dataDir: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<SpawnedProcessor> {
  const child = spawn(process.execPath, [PROCESSOR_ENTRY], {
    cwd: ROOT,
    env: { ...process.env, RAGSCOPE_PORT: '0', RAGSCOPE_GRPC_PORT: '0', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_BATCH_MAX_DELAY_MS: '20', RAGSCOPE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`processor did not start in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.url === 'string') {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          /* not a log line */
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`processor exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  return {
    url,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Polls `check` until it returns a truthy value (generous deadline; no fixed sleeps in assertions). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An OTLP/JSON trace request with one chat span (ids from `n`), stamped at `startMs`. */
export function chatSpanRequest(n: number, startMs: number): string {
  const hex = (v: number, len: number) => v.toString(16).padStart(len, '0');
  const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sql-guard-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId: hex(n, 32),
                spanId: hex(n, 16),
                name: 'chat gpt-4o',
                kind: 3,
                startTimeUnixNano: ns(startMs),
                endTimeUnixNano: ns(startMs + 500),
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: '100' } },
                  { key: 'gen_ai.usage.output_tokens', value: { intValue: '20' } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}
