// What every benchmark that runs a processor of its own needs: a free loopback port and a wait for /readyz.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Waits until `check` holds (exceptions count as "not yet"), polling every 100 ms. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  return waitFor(`the processor at ${url} to be ready`, async () => (await fetch(`${url}/readyz`)).ok, timeoutMs);
}
