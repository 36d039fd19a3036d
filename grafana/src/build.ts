/**
 * npm run build:dashboards — regenerates every Grafana file from grafana/src and removes stale ones.
 * `--check` exits 1 (and lists the differences) instead of writing, for CI.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './provisioning.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWNED_DIRS = ['grafana/dashboards', 'grafana/provisioning/datasources', 'grafana/provisioning/dashboards', 'grafana/provisioning/alerting'];

function listOwned(): string[] {
  const out: string[] = [];
  for (const dir of OWNED_DIRS) {
    const abs = join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs)) if (/\.(json|ya?ml)$/.test(f)) out.push(`${dir}/${f}`);
  }
  return out;
}

const check = process.argv.includes('--check');
const files = generatedFiles();
const problems: string[] = [];
for (const [rel, content] of files) {
  const abs = join(ROOT, rel);
  const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
  if (current === content) continue;
  if (check) problems.push(`${current === undefined ? 'missing' : 'differs'}: ${rel}`);
  else {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    console.log(`wrote ${rel}`);
  }
}
for (const rel of listOwned()) {
  if (files.has(rel)) continue;
  if (check) problems.push(`stale: ${rel}`);
  else {
    rmSync(join(ROOT, rel));
    console.log(`removed ${rel}`);
  }
}
if (check && problems.length) {
  console.error(problems.join('\n') + '\nrun `npm run build:dashboards`');
  process.exit(1);
}
console.log(`${files.size} files ${check ? 'up to date' : 'generated'}`);
