import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../processor/src/config.js';
import { createProcessor, type Processor } from '../../processor/src/app.js';
import { createLogger } from '../../processor/src/logger.js';
import type { Clock } from '../../processor/src/clock.js';
import { testNow } from './clock.js';

/** Retention of test stores: data at the suite's instant stays whatever the real date. */
export const LONG_RETENTION_DAYS = 7300; // 20 years: toDateTime(t) + INTERVAL 36500 DAY would overflow DateTime (2106) and expire at once

export interface TestProcessor {
  processor: Processor;
  url: string;
  dataDir: string;
  /** Waits until everything acknowledged so far is in ClickHouse, then runs SQL on the writer session. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  stop(): Promise<void>;
}

/**
 * A real processor on an ephemeral loopback port with the embedded store in a temp dir. Its clock is the
 * suite's instant (testNow) unless `now` is given, and its retention is long enough for data placed there
 * on any day (the engine's TTLs count from its own real clock); tests of retention set their own.
 */
export async function startProcessor(env: Record<string, string> = {}, dataDir?: string, now: Clock = testNow): Promise<TestProcessor> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'ragscope-test-'));
  const config = loadConfig({
    RAGSCOPE_PORT: '0',
    RAGSCOPE_GRPC_PORT: '0',
    RAGSCOPE_DATA_DIR: dir,
    RAGSCOPE_BATCH_MAX_DELAY_MS: '20',
    RAGSCOPE_LOG_LEVEL: 'silent',
    RAGSCOPE_RAW_TTL_DAYS: String(LONG_RETENTION_DAYS),
    RAGSCOPE_ROLLUP_TTL_DAYS: String(LONG_RETENTION_DAYS),
    ...env,
  });
  const processor = await createProcessor(config, createLogger(config.logLevel), { now });
  const url = await processor.listen();
  return {
    processor,
    url,
    dataDir: dir,
    async query<T>(sql: string): Promise<T[]> {
      await processor.queue.flushed();
      const rs = await processor.store.writer.query({ query: sql, format: 'JSONEachRow' });
      return rs.json<T>();
    },
    async stop() {
      await processor.stop();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
