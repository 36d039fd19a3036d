// An embedded store in a temporary directory, opened the way the processor opens it, for tests that drive the
// store layer directly (no HTTP). One per test file: libchdb binds one data directory per process.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../processor/src/config.js';
import type { ClickHouseClient } from '@clickhouse/client';
import { openStore, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../processor/src/store/migrations.js';
import { afterAll, beforeAll } from 'vitest';
import { removeDir } from './processor.js';

export interface ScratchStore {
  store: StoreClients;
  dir: string;
  /** Closes the store and removes its directory. */
  close(): Promise<void>;
}

const LIMITS = { timeoutSeconds: 60, maxRows: 100_000, maxMemoryBytes: 1 << 30, maxResultBytes: 1 << 28 };

type TtlDays = { RAW_TTL_DAYS: number; ROLLUP_TTL_DAYS: number };
const LONG_TTL: TtlDays = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };

/** Opens a scratch store and applies every migration with `ttlDays` (long by default: data sits at the suite's instant, the engine's TTLs count from its real clock). */
export async function openScratchStore(prefix: string, ttlDays: TtlDays = LONG_TTL, beforeOpen?: (dataDir: string) => void): Promise<ScratchStore> {
  return openScratch(prefix, ttlDays, beforeOpen);
}

async function openScratch(prefix: string, ttlDays: TtlDays, beforeOpen?: (dataDir: string) => void, firstMissing?: string): Promise<ScratchStore> {
  const dir = mkdtempSync(join(tmpdir(), `ragscope-${prefix}-`));
  beforeOpen?.(join(dir, 'data'));
  const store = await openStore(loadConfig({ RAGSCOPE_DATA_DIR: join(dir, 'data') }), LIMITS);
  let migrationsDir: string | undefined;
  if (firstMissing !== undefined) {
    migrationsDir = join(dir, `migrations-before-${firstMissing}`);
    mkdirSync(migrationsDir);
    for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f < firstMissing)) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(migrationsDir, f));
  }
  await migrate(store.writer, ttlDays, migrationsDir);
  return {
    store,
    dir,
    async close() {
      await store.close();
      removeDir(dir);
    },
  };
}

/**
 * A scratch store for the whole test file: opened before its tests, closed after them. Read `store` / `dir`
 * inside tests (they exist once beforeAll has run). With `firstMissing` (e.g. '0031'), the store as an older
 * installation left it: only the migrations whose file names sort before it applied; an upgrade test stores data,
 * then runs `migrate`.
 */
export function useScratchStore(prefix: string, ttlDays?: TtlDays, firstMissing?: string): { readonly store: StoreClients; readonly dir: string } {
  let scratch: ScratchStore | undefined;
  beforeAll(async () => {
    scratch = await openScratch(prefix, ttlDays ?? LONG_TTL, undefined, firstMissing);
  }, 120_000);
  afterAll(async () => {
    await scratch?.close();
  });
  const opened = (): ScratchStore => {
    if (!scratch) throw new Error(`scratch store ${prefix} is not open (read it inside a test)`);
    return scratch;
  };
  return {
    get store() {
      return opened().store;
    },
    get dir() {
      return opened().dir;
    },
  };
}

/** The first value of a query's result, as text (TabSeparated, trimmed). */
export async function scalar(client: ClickHouseClient, sql: string): Promise<string> {
  return (await (await client.query({ query: sql, format: 'TabSeparated' })).text()).trim();
}

/** Rows in `table`. */
export async function rowCount(client: ClickHouseClient, table: string): Promise<number> {
  return Number(await scalar(client, `SELECT count() FROM ${table}`));
}
