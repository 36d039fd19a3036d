import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../processor/src/config.js';
import { createProcessor, type Processor } from '../../processor/src/app.js';
import { createLogger } from '../../processor/src/logger.js';

export interface TestProcessor {
  processor: Processor;
  url: string;
  dataDir: string;
  /** Runs SQL on the writer session (sees everything written). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  stop(): Promise<void>;
}

/** A real processor on an ephemeral loopback port with the embedded store in a temp dir. */
export async function startProcessor(env: Record<string, string> = {}, dataDir?: string): Promise<TestProcessor> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'ragscope-test-'));
  const config = loadConfig({
    RAGSCOPE_PORT: '0',
    RAGSCOPE_DATA_DIR: dir,
    RAGSCOPE_BATCH_MAX_DELAY_MS: '20',
    RAGSCOPE_LOG_LEVEL: 'silent',
    ...env,
  });
  const processor = await createProcessor(config, createLogger(config.logLevel));
  const url = await processor.listen();
  return {
    processor,
    url,
    dataDir: dir,
    async query<T>(sql: string): Promise<T[]> {
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
