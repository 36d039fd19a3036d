import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';

/** clickhouse/migrations at the repository root (same relative depth from src/ and dist/). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../clickhouse/migrations/', import.meta.url));

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
  checksum: string;
  sql: string;
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export class MigrationError extends Error {}

export function listMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const match = MIGRATION_FILE.exec(file);
    if (!match) throw new MigrationError(`migration file name "${file}" must look like 0001_name.sql`);
    const version = Number(match[1]);
    if (seen.has(version)) throw new MigrationError(`two migration files share version ${match[1]}`);
    seen.add(version);
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    return { version, name: match[2], file, sql, checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16) };
  });
}

/** Splits a migration into statements: each ends with ';' at the end of a line. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, '').trim() !== '');
}

export function substituteVariables(sql: string, variables: Record<string, string | number>, file: string): string {
  return sql.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    if (!(name in variables)) throw new MigrationError(`${file}: unknown variable \${${name}}`);
    return String(variables[name]);
  });
}

/**
 * Applies pending migrations in version order and records each in `schema_migrations`.
 * Statements are written to be idempotent (IF NOT EXISTS), so a run interrupted half-way is
 * simply re-applied. An applied migration whose file changed is an error: add a new one instead.
 */
export async function migrate(
  client: ClickHouseClient,
  variables: Record<string, string | number>,
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<MigrationResult> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)
    ) ENGINE = MergeTree ORDER BY version`,
  });
  const appliedRows = await (
    await client.query({ query: 'SELECT version, checksum FROM schema_migrations', format: 'JSONEachRow' })
  ).json<{ version: number; checksum: string }>();
  const applied = new Map(appliedRows.map((r) => [Number(r.version), r.checksum]));

  const result: MigrationResult = { applied: [], skipped: [] };
  for (const migration of listMigrations(dir)) {
    const previous = applied.get(migration.version);
    if (previous !== undefined) {
      if (previous !== migration.checksum) {
        throw new MigrationError(
          `${migration.file} was changed after it was applied (checksum ${previous} → ${migration.checksum}); add a new migration instead`,
        );
      }
      result.skipped.push(migration.file);
      continue;
    }
    const sql = substituteVariables(migration.sql, variables, migration.file);
    for (const statement of splitStatements(sql)) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new MigrationError(`${migration.file}: ${(err as Error).message}\nstatement: ${statement.slice(0, 200)}`);
      }
    }
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
    result.applied.push(migration.file);
  }
  return result;
}
