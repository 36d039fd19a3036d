// Other copies of `@opentelemetry/api` in the app, and whether they can see ragscope's tracer provider.
//
// Libraries that trace themselves (@anthropic-ai/sdk >= 0.134) and the app's own instrumentations look up
// the tracer provider through the api copy *they* resolve. Copies of the same minor version share one
// global registration, but a newer copy refuses a global registered by an older one (its version check
// accepts only a global of the same major with a minor >= its own) and hands out no-op tracers: every span
// made through it would be lost without a word. So at registration ragscope resolves the api copies of the
// app and of the provider SDKs, says once (diag logger, stats()) which ones cannot see its provider, and
// bridges them: such a copy falls back to a ProxyTracerProvider of its own, and ragscope makes ragscope's
// provider that proxy's delegate (ProxyTracerProvider#setDelegate, public API). Spans made through it are
// then traced; they are started by ragscope's SDK, hence parented through ragscope's context manager.
// The copy's own context and propagation APIs stay no-ops (it cannot register globals), which only means
// that library sends no trace headers.

import { diag, trace, type TracerProvider } from '@opentelemetry/api';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ForeignApiCopy {
  /** Package directory of the copy. */
  dir: string;
  version: string;
  /** Who resolves it: `app` or a package name (`@anthropic-ai/sdk`, `openai`). */
  resolvedBy: string[];
  /** Whether ragscope's provider is now reachable through it (after bridging). */
  bridged: boolean;
}

type ApiModule = { trace?: { getTracerProvider(): TracerProvider } };
type Proxy = TracerProvider & { setDelegate?: (p: TracerProvider) => void; getDelegate?: () => TracerProvider };

/** Packages whose api copy matters: they trace themselves through the copy they resolve. */
const SELF_TRACING = ['@anthropic-ai/sdk', 'openai'];

function packageDir(req: NodeJS.Require, name: string): string | undefined {
  try {
    return dirname(req.resolve(`${name}/package.json`));
  } catch {
    try {
      // Packages whose `exports` hide package.json: walk up from the entry point.
      let dir = dirname(req.resolve(name));
      while (dir !== dirname(dir)) {
        try {
          if ((createRequire(join(dir, 'noop.js'))(join(dir, 'package.json')) as { name?: string }).name === name) return dir;
        } catch {
          /* keep looking */
        }
        dir = dirname(dir);
      }
    } catch {
      /* not installed */
    }
    return undefined;
  }
}

function apiDirFrom(fromDir: string): string | undefined {
  const dir = packageDir(createRequire(join(fromDir, 'noop.js')), '@opentelemetry/api');
  return dir === undefined ? undefined : realpathSync(dir);
}

/** The api copies the app and the self-tracing SDKs resolve, other than ragscope's own. */
export function findApiCopies(appDir: string, ownApiDir: string): Map<string, string[]> {
  const copies = new Map<string, string[]>();
  const add = (dir: string | undefined, by: string) => {
    if (dir === undefined || dir === ownApiDir) return;
    copies.set(dir, [...(copies.get(dir) ?? []), by]);
  };
  add(apiDirFrom(appDir), 'app');
  const appRequire = createRequire(join(appDir, 'noop.js'));
  for (const name of SELF_TRACING) {
    const dir = packageDir(appRequire, name);
    if (dir !== undefined) add(apiDirFrom(dir), name);
  }
  return copies;
}

/** Makes `provider` reachable through one module instance of a foreign api copy. True when it is. */
function bridge(api: ApiModule, ours: TracerProvider, provider: TracerProvider): boolean {
  const theirs = api.trace?.getTracerProvider() as Proxy | undefined;
  if (theirs === undefined) return false;
  if (theirs === ours) return true; // a compatible copy: it sees the shared global
  if (typeof theirs.setDelegate !== 'function') return false;
  if (theirs.getDelegate?.() !== provider) theirs.setDelegate(provider);
  return theirs.getDelegate?.() === provider;
}

export interface ApiCopyCheck {
  copies: ForeignApiCopy[];
  /** Settles when the ES-module instances of the copies are bridged too (they load asynchronously). */
  done: Promise<void>;
}

/**
 * Finds the foreign api copies, bridges the ones that cannot see ragscope's provider, and warns once
 * about them. `provider` is the SDK's tracer provider (the delegate of ragscope's global proxy).
 */
export function checkApiCopies(provider: TracerProvider, appDir: string, ownApiEntry: string): ApiCopyCheck {
  const ownDir = realpathSync(packageDirOfEntry(ownApiEntry));
  const ours = trace.getTracerProvider();
  const copies: ForeignApiCopy[] = [];
  const esm: Promise<void>[] = [];
  for (const [dir, resolvedBy] of findApiCopies(appDir, ownDir)) {
    const req = createRequire(join(dir, 'noop.js'));
    let version = 'unknown';
    try {
      version = (req(join(dir, 'package.json')) as { version?: string }).version ?? version;
      const cjs = req(dir) as ApiModule;
      if (cjs.trace?.getTracerProvider() === ours) continue; // shares ragscope's global: nothing to do
      const copy: ForeignApiCopy = { dir, version, resolvedBy, bridged: bridge(cjs, ours, provider) };
      copies.push(copy);
      // api >= 1.10 also ships an ES-module build (`exports`): a separate module instance with its own proxy.
      const entry = esmEntry(req, dir);
      if (entry !== undefined) esm.push(
        import(pathToFileURL(join(dir, entry)).href).then(
          (m: ApiModule) => {
            copy.bridged = copy.bridged && bridge(m, ours, provider);
          },
          () => {},
        ),
      );
    } catch (err) {
      diag.debug(`@ragscope/instrumentation: could not inspect @opentelemetry/api at ${dir}`, err);
    }
  }
  if (copies.length > 0) {
    diag.warn(
      `@ragscope/instrumentation: ${copies.length} other copy(ies) of @opentelemetry/api cannot see ragscope's tracer provider: ` +
        copies.map((c) => `${c.version} at ${c.dir} (used by ${c.resolvedBy.join(', ')})`).join('; ') +
        `. ragscope bridged them so their spans are still traced, but their context and propagation APIs are no-ops. ` +
        `Install one @opentelemetry/api version (npm ls @opentelemetry/api; see docs/instrumentation.md).`,
    );
  }
  return { copies, done: Promise.all(esm).then(() => {}) };
}

function packageDirOfEntry(entry: string): string {
  let dir = dirname(entry);
  while (dir !== dirname(dir)) {
    try {
      if ((createRequire(join(dir, 'noop.js'))(join(dir, 'package.json')) as { name?: string }).name === '@opentelemetry/api') return dir;
    } catch {
      /* keep looking */
    }
    dir = dirname(dir);
  }
  return dirname(entry);
}

/** The ES-module entry of an api copy that has one besides its CommonJS entry (api >= 1.10), else undefined. */
function esmEntry(req: NodeJS.Require, dir: string): string | undefined {
  const pj = req(join(dir, 'package.json')) as { exports?: Record<string, { default?: { default?: string } | string }> };
  const dot = pj.exports?.['.'];
  return typeof dot?.default === 'string' ? dot.default : dot?.default?.default;
}

/** The directory an app's module resolution starts from: that of its entry script, else the working directory. */
export function appDirectory(mainPath: string | undefined = process.argv[1]): string {
  return mainPath ? dirname(resolvePath(mainPath)) : process.cwd();
}
