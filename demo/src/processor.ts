// Finding or starting the ragscope processor for `npm run demo`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Probe =
  | { state: 'ready'; store?: string }
  | { state: 'starting' }
  | { state: 'absent' }
  | { state: 'other'; detail: string };

/** GET /readyz: a ragscope processor answers `{"status":"ready",...}` (503 while starting or stopping). */
export async function probe(url: string, timeoutMs = 2000): Promise<Probe> {
  let res: Response;
  try {
    res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EADDRNOTAVAIL') return { state: 'absent' };
    return { state: 'other', detail: `no answer from ${url}/readyz (${code ?? (err as Error).message})` };
  }
  const text = await res.text().catch(() => '');
  let body: { status?: unknown; store?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    /* not a ragscope processor */
  }
  if (res.ok && body?.status === 'ready') return { state: 'ready', store: typeof body.store === 'string' ? body.store : undefined };
  if (body && typeof body.status === 'string') return { state: 'starting' };
  return { state: 'other', detail: `${url}/readyz answered HTTP ${res.status}: not a ragscope processor` };
}

export interface StartedProcessor {
  child: ChildProcess;
  pid: number;
  logFile: string;
  startMs: number;
  /** SIGTERM, then wait for the processor to flush and exit. */
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Spawns `node processor/dist/start.cjs` (the processor entry) for `url` (loopback only) on the embedded store in `dataDir`, in its
 * own process group (Ctrl-C in the terminal reaches the demo, which then stops it in order), logging to a
 * file. Resolves once /readyz says ready.
 */
export async function startProcessor(o: { url: string; root: string; dataDir: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<StartedProcessor> {
  const u = new URL(o.url);
  if (!LOOPBACK.has(u.hostname)) throw new Error(`no processor answers at ${o.url}, and the demo only starts one on this machine (127.0.0.1)`);
  const main = join(o.root, 'processor/dist/start.cjs');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
  const logFile = join(tmpdir(), `ragscope-demo-processor-${port}.log`);
  const fd = openSync(logFile, 'w');
  const started = Date.now();
  const child = spawn(process.execPath, [main], {
    cwd: o.root,
    env: {
      ...o.env,
      RAGSCOPE_HOST: host,
      RAGSCOPE_PORT: port,
      // The demo sends OTLP/HTTP; no gRPC listener on the shared 4317 unless asked for.
      RAGSCOPE_GRPC_PORT: o.env.RAGSCOPE_GRPC_PORT ?? 'off',
      RAGSCOPE_DATA_DIR: o.dataDir,
      RAGSCOPE_LOG_LEVEL: o.env.RAGSCOPE_LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const deadline = started + (o.timeoutMs ?? 90_000);
  for (;;) {
    if (exited) throw new Error(`the processor exited during startup (code ${exited.code}${exited.signal ? `, ${exited.signal}` : ''}); its log (${logFile}):\n${tail(logFile)}`);
    const p = await probe(o.url, 1000);
    if (p.state === 'ready') break;
    if (p.state === 'other') {
      child.kill('SIGTERM');
      throw new Error(p.detail);
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the processor did not become ready within ${Math.round((o.timeoutMs ?? 90_000) / 1000)} s; its log (${logFile}):\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    child,
    pid: child.pid!,
    logFile,
    startMs: Date.now() - started,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exit;
      clearTimeout(force);
    },
  };
}
