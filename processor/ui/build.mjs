// Builds the built-in dashboard viewer (processor/ui) into processor/dist/ui/static, served by the
// processor at GET /. Runs at `npm install` (root postinstall → npm run build). No CDN: every asset is local.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/ui/static/');
// chunk names carry a content hash: start empty so chunks of earlier builds do not pile up
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  // app.js (the page, the data request); a chunk with the renderers and uPlot, imported while the queries run;
  // a chunk with ECharts, imported only by dashboards with a bar or pie chart (echarts-loader.ts)
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
// app.css: ours with uPlot's stylesheet inlined (the @import resolved from node_modules)
await build({
  entryPoints: { app: here('style.css') },
  bundle: true,
  minify: true,
  outdir: out,
  logLevel: 'warning',
});
copyFileSync(here('index.html'), out + 'index.html');
