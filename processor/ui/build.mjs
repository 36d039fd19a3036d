// Builds the built-in dashboard viewer (processor/ui) into processor/dist/ui/static, served by the
// processor at GET /. Runs at `npm install` (root postinstall → npm run build). No CDN: every asset is local.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/ui/static/');
mkdirSync(out, { recursive: true });
await build({
  // app.js (the page, the data request) and a chunk with the renderers and ECharts, imported on the side
  entryPoints: { app: here('src/main.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  outdir: out,
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});
copyFileSync(here('style.css'), out + 'app.css');
copyFileSync(here('index.html'), out + 'index.html');
