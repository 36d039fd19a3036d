// Headless Chromium from the Debian package (apt-get install chromium), driven by playwright-core,
// which never downloads a browser of its own. A fresh profile directory per launch.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.RAGSCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(process.cwd(), 'tests/browser/artifacts');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** `timezoneId`: the browser's own time zone (IANA name), e.g. to run the viewer away from UTC. */
export async function launchChromium(viewport = { width: 1600, height: 1000 }, timezoneId?: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set RAGSCOPE_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), 'ragscope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    // headless: false here only stops playwright adding its own --headless; --headless=new below is what runs
    headless: false,
    viewport,
    timezoneId,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}
