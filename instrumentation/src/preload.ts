// Support for `import '@ragscope/instrumentation/register'` as the first import of an ESM app.
//
// An ESM app's static imports are all loaded and linked before the first of them runs, so when
// register.js runs, `openai` is already loaded, past any loader hook. It is not evaluated yet, though: by
// importing it here (the same URL, so the same module instance) and patching the classes' prototypes, the
// app's own `import OpenAI from 'openai'` gets the instrumented classes before its first line runs.
// Under `--import`, the loader hook would have been enough; patching is idempotent, so this is harmless.

import { diag } from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RagscopeHandle } from './sdk.js';

/** Whether the app's entry point is an ES module. */
export function mainIsEsm(mainPath: string | undefined = process.argv[1]): boolean {
  if (!mainPath) return false;
  if (mainPath.endsWith('.mjs') || mainPath.endsWith('.mts')) return true;
  if (mainPath.endsWith('.cjs') || mainPath.endsWith('.cts')) return false;
  let dir = dirname(resolvePath(mainPath));
  for (;;) {
    try {
      const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string };
      return pj.type === 'module';
    } catch {
      /* keep looking */
    }
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

type ExportsValue = string | null | { [condition: string]: ExportsValue } | ExportsValue[];

function pickEsm(e: ExportsValue | undefined): string | undefined {
  if (typeof e === 'string') return e;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return undefined;
  for (const cond of ['node', 'import', 'default']) {
    const r = pickEsm(e[cond]);
    if (r) return r;
  }
  return undefined;
}

/** The file URL an ESM `import pkg` from `fromFile` resolves to (main entry only), if installed. */
export function resolveEsmEntry(pkg: string, fromFile: string): string | undefined {
  const req = createRequire(fromFile);
  let pkgJsonPath: string | undefined;
  try {
    pkgJsonPath = req.resolve(`${pkg}/package.json`);
  } catch {
    try {
      let dir = dirname(req.resolve(pkg));
      for (;;) {
        try {
          const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
          if (pj.name === pkg) {
            pkgJsonPath = join(dir, 'package.json');
            break;
          }
        } catch {
          /* keep looking */
        }
        const up = dirname(dir);
        if (up === dir) return undefined;
        dir = up;
      }
    } catch {
      return undefined;
    }
  }
  const pj = JSON.parse(readFileSync(pkgJsonPath, 'utf8')) as { exports?: ExportsValue; module?: string; main?: string };
  const exp = pj.exports && typeof pj.exports === 'object' && !Array.isArray(pj.exports) && '.' in pj.exports ? pj.exports['.'] : pj.exports;
  const rel = pickEsm(exp ?? undefined) ?? pj.module ?? pj.main ?? 'index.js';
  return pathToFileURL(join(dirname(pkgJsonPath), rel)).href;
}

/** Imports and patches the provider SDKs an ESM app may have linked before register ran. */
export async function preloadProviders(handle: RagscopeHandle, mainPath: string | undefined = process.argv[1]): Promise<void> {
  if (process.env.RAGSCOPE_PRELOAD === 'false' || !mainIsEsm(mainPath)) return;
  const from = mainPath ? resolvePath(mainPath) : join(process.cwd(), 'index.js');
  const url = resolveEsmEntry('openai', from);
  if (!url) return;
  try {
    const ns: unknown = await import(url);
    handle.instrumentModules({ openai: ns });
  } catch (err) {
    diag.debug('@ragscope/instrumentation: could not preload openai', err);
  }
}
