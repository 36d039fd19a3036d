// A baseline revision of this repository, checked out once into .bench/baseline-<rev> (a detached git worktree
// sharing this checkout's node_modules) with its processor built: benchmarks run it next to the current code in
// the same run, so before/after ratios come from one machine at one time.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The checkout of `rev` (built: processor/dist), created on first use. */
export function baselineCheckout(rev: string): string {
  const dir = join(ROOT, '.bench', `baseline-${rev}`);
  if (!existsSync(join(dir, 'processor', 'dist', 'start.cjs')) && !existsSync(join(dir, 'processor', 'dist', 'main.js'))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'prune'], { cwd: ROOT });
    execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: ROOT, stdio: 'inherit' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    if (existsSync(join(ROOT, 'processor/node_modules'))) symlinkSync(join(ROOT, 'processor/node_modules'), join(dir, 'processor/node_modules'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(dir, 'processor')], { stdio: 'inherit' });
  }
  return dir;
}

/** The processor entry point of a checkout: start.cjs where the revision has it, else main.js. */
export function processorMain(dir: string): string {
  const start = join(dir, 'processor', 'dist', 'start.cjs');
  return existsSync(start) ? start : join(dir, 'processor', 'dist', 'main.js');
}
