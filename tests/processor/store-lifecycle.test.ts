import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, DEFAULT_MIGRATIONS_DIR, MigrationError, splitStatements, listMigrations } from '../../processor/src/store/migrations.js';
import { startProcessor, removeDir } from '../helpers/processor.js';
import { tracerProviderFor } from '../helpers/otel.js';
import { testNow } from '../helpers/clock.js';

describe('migrations', () => {
  it('lists numbered files in order and splits statements at line-ending semicolons', () => {
    const migrations = listMigrations();
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort((a, b) => a - b));
    expect(migrations[0].file).toBe('0001_otel_traces.sql');
    expect(splitStatements("SELECT 1;\n-- only a comment;\nSELECT ';' AS x;\n")).toEqual(["SELECT 1", "SELECT ';' AS x"]);
  });

  it('are applied once, recorded, harmless when run again, and survive a restart with the data', async () => {
    const first = await startProcessor();
    const dataDir = first.dataDir;
    try {
      const recorded = await first.query<{ n: string }>('SELECT count() AS n FROM schema_migrations');
      expect(Number(recorded[0].n)).toBe(listMigrations().length);

      const again = await migrate(first.processor.store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });
      expect(again.applied).toEqual([]);
      expect(again.skipped.length).toBe(listMigrations().length);

      const provider = tracerProviderFor(first.url, 'protobuf');
      // At the suite's instant, which the processor takes as now (not the wall clock).
      provider.getTracer('t').startSpan('survivor', { startTime: testNow() - 1000, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.provider.name': 'openai' } }).end(testNow());
      await provider.shutdown();
    } finally {
      await first.stop();
    }

    const second = await startProcessor({}, dataDir);
    try {
      const rows = await second.query<{ n: string }>("SELECT count() AS n FROM otel_traces WHERE SpanName = 'survivor'");
      expect(Number(rows[0].n)).toBe(1);
      const genai = await second.query<{ n: string }>("SELECT count() AS n FROM genai_spans WHERE RequestModel = 'gpt-4o-mini'");
      expect(Number(genai[0].n)).toBe(1);
      const recorded = await second.query<{ n: string }>('SELECT count() AS n FROM schema_migrations');
      expect(Number(recorded[0].n)).toBe(listMigrations().length);
    } finally {
      await second.stop();
      removeDir(dataDir);
    }
  });

  it('refuses a migration edited after it was applied, naming the file', async () => {
    const proc = await startProcessor();
    const dir = mkdtempSync(join(tmpdir(), 'ragscope-migrations-'));
    try {
      cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
      writeFileSync(join(dir, '0002_otel_logs.sql'), '-- edited\nSELECT 1;\n');
      await expect(migrate(proc.processor.store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 }, dir)).rejects.toThrow(
        /0002_otel_logs\.sql was changed after it was applied/,
      );
      await expect(migrate(proc.processor.store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 }, dir)).rejects.toBeInstanceOf(MigrationError);
    } finally {
      await proc.stop();
      removeDir(proc.dataDir);
      removeDir(dir);
    }
  });
});
