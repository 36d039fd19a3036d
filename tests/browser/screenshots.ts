// `npm run screenshots`: regenerates docs/images/dashboard-overview.png and dashboard-latency.png, the
// built-in viewer showing what `npm run demo` produces. Starts a processor on a temp data dir and a free
// port, runs the demo's traffic against it, and photographs the dashboards in headless Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './chromium.js';
import { waitForRender } from './page.js';
import { removeDir, startProcessor } from '../helpers/processor.js';

const OUT = join(process.cwd(), 'docs/images');
const SHOTS: Array<{ uid: string; file: string; height: number }> = [
  { uid: 'ragscope-overview', file: 'dashboard-overview.png', height: 880 },
  { uid: 'ragscope-latency', file: 'dashboard-latency.png', height: 1200 },
];

async function runDemo(url: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['demo/dist/main.js', '--url', url, '--requests', '240', '--rate', '20'], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the demo exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const p = await startProcessor();
  try {
    console.log(`processor at ${p.url} (data in ${p.dataDir}); running the demo traffic ...`);
    await runDemo(p.url);
    mkdirSync(OUT, { recursive: true });
    const browser = await launchChromium({ width: 1440, height: 900 });
    try {
      const page = await browser.context.newPage();
      for (const s of SHOTS) {
        await page.setViewportSize({ width: 1440, height: s.height });
        await page.goto(`${p.url}/d/${s.uid}?from=now-3h&to=now&refresh=`);
        await waitForRender(page, 0);
        const errors = await page.$$eval('section.panel[data-state="error"] h2', (hs) => hs.map((h) => h.textContent));
        if (errors.length) throw new Error(`${s.uid}: panels in error: ${errors.join(', ')}`);
        await page.screenshot({ path: join(OUT, s.file) });
        console.log(`wrote docs/images/${s.file}`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    await p.stop();
    removeDir(p.dataDir);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
