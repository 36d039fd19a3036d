import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClusterDdlError, clusterMigrationsTable, createdObject, droppedObjects, renderClusterStatement, type ClusterTarget } from './cluster-ddl.js';

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
  /** Cluster mode: what differs between the nodes (a host missing a table or a recorded migration); empty = consistent. */
  drift: string[];
}

export interface MigrateOptions {
  /** Server mode on a ClickHouse cluster (RAGSCOPE_CLICKHOUSE_CLUSTER): statements rendered by cluster-ddl.ts. */
  cluster?: ClusterTarget;
  /**
   * Nothing else writes to the store while migrations run (the embedded store: one process per data
   * directory). Then a view changed with MODIFY QUERY is detached and attached again at once, see
   * reattachAlteredViews.
   */
  exclusive?: boolean;
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

/** Variables every migration may use without the caller naming them. */
export const DEFAULT_VARIABLES: Readonly<Record<string, string | number>> = { DEFAULT_TENANT: 'default' };

export function substituteVariables(sql: string, given: Record<string, string | number>, file: string): string {
  const variables = { ...DEFAULT_VARIABLES, ...given };
  return sql.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    if (!(name in variables)) throw new MigrationError(`${file}: unknown variable \${${name}}`);
    return String(variables[name]);
  });
}

const MIGRATIONS_COLUMNS = `
      version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)
    `;

/**
 * The statements a migration runs: its own text (variables substituted) on one node, the cluster form
 * (cluster-ddl.ts) on a cluster. The checksum always covers the file, the single source of both.
 */
export function renderMigration(migration: Migration, variables: Record<string, string | number>, cluster?: ClusterTarget): string[] {
  const statements = splitStatements(substituteVariables(migration.sql, variables, migration.file));
  if (!cluster) return statements;
  try {
    return statements.flatMap((statement) => renderClusterStatement(statement, cluster, migration.file));
  } catch (err) {
    if (err instanceof ClusterDdlError) throw new MigrationError(err.message);
    throw err;
  }
}

/**
 * Applies pending migrations in version order and records each in `schema_migrations`.
 * Statements are written to be idempotent (IF NOT EXISTS), so a run interrupted half-way is
 * simply re-applied. An applied migration whose file changed is an error: add a new one instead.
 * On a cluster every statement runs ON CLUSTER, schema_migrations is replicated to every node, and the
 * nodes are compared afterwards (`drift`).
 */
export async function migrate(
  client: ClickHouseClient,
  variables: Record<string, string | number>,
  dir: string = DEFAULT_MIGRATIONS_DIR,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const { cluster } = options;
  await client.command({
    query: cluster
      ? clusterMigrationsTable(cluster, MIGRATIONS_COLUMNS)
      : `CREATE TABLE IF NOT EXISTS schema_migrations (${MIGRATIONS_COLUMNS}) ENGINE = MergeTree ORDER BY version`,
  });
  const appliedRows = await (
    await client.query({ query: 'SELECT version, checksum FROM schema_migrations', format: 'JSONEachRow' })
  ).json<{ version: number; checksum: string }>();
  const applied = new Map(appliedRows.map((r) => [Number(r.version), r.checksum]));

  const result: MigrationResult = { applied: [], skipped: [], drift: [] };
  const migrations = listMigrations(dir);
  for (const migration of migrations) {
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
    const statements = renderMigration(migration, variables, cluster);
    for (const statement of statements) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new MigrationError(`${migration.file}: ${(err as Error).message}\nstatement: ${statement.slice(0, 200)}`);
      }
    }
    if (options.exclusive && !cluster) await reattachAlteredViews(client, statements);
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
      // Two processors starting together on a cluster both apply (idempotently) and both record: the token
      // makes the second record a duplicate block that the replicated table drops.
      ...(cluster ? { clickhouse_settings: { insert_deduplication_token: `migration:${migration.version}:${migration.checksum}` } } : {}),
    });
    result.applied.push(migration.file);
  }
  if (cluster) result.drift = await clusterDrift(client, cluster, migrations, variables);
  return result;
}

/** The views a migration's statements change with `ALTER TABLE <view> MODIFY QUERY`. */
export function alteredViews(statements: string[]): string[] {
  const views = statements.map((s) => /^ALTER\s+TABLE\s+(\S+)\s+MODIFY\s+QUERY\b/i.exec(s.replace(/^--.*$/gm, '').trim())?.[1]);
  return [...new Set(views.filter((v): v is string => v !== undefined))];
}

/**
 * After `ALTER TABLE v MODIFY QUERY`, the engine (26.7) derives the deduplication ids of the blocks v writes
 * differently in that process than after a restart: a range inserted right after the migration, cut short by a
 * crash and repeated by the next process under the same token, was stored twice in v's rollup (seen as a
 * latency_hourly double count in tests/processor/crash-restart.test.ts; reproduced alone in
 * tests/processor/modify-query-dedup.test.ts). Detaching and attaching v loads it as a restart would, so both
 * processes agree. Only without concurrent writers: while v is detached, inserts would bypass it.
 */
async function reattachAlteredViews(client: ClickHouseClient, statements: string[]): Promise<void> {
  for (const view of alteredViews(statements)) {
    await client.command({ query: `DETACH TABLE ${view}` });
    await client.command({ query: `ATTACH TABLE ${view}` });
  }
}

/** What one node holds: the ragscope database's tables and views, and the migrations its schema_migrations lists. */
export interface NodeSchema {
  host: string;
  objects: string[];
  versions: number[];
}

/**
 * Compares every node with what the migrations create. A node missing an object or a migration record
 * (a node that was down or added later, an ON CLUSTER statement that failed on it) is named with what it lacks.
 */
export function compareNodes(expectedObjects: string[], expectedVersions: number[], nodes: NodeSchema[], hostCount: number): string[] {
  const problems: string[] = [];
  if (nodes.length < hostCount) problems.push(`${hostCount - nodes.length} of ${hostCount} hosts did not answer`);
  for (const node of [...nodes].sort((a, b) => a.host.localeCompare(b.host))) {
    const objects = new Set(node.objects);
    const versions = new Set(node.versions.map(Number));
    const missingObjects = expectedObjects.filter((o) => !objects.has(o));
    const missingVersions = expectedVersions.filter((v) => !versions.has(v));
    if (missingObjects.length > 0) problems.push(`${node.host}: missing ${missingObjects.join(', ')}`);
    if (missingVersions.length > 0) problems.push(`${node.host}: schema_migrations lacks ${missingVersions.join(', ')}`);
  }
  return problems;
}

/** The objects a list of migrations creates in the given mode (schema_migrations included). */
export function expectedObjects(migrations: Migration[], variables: Record<string, string | number>, cluster?: ClusterTarget): string[] {
  // In order: a later migration may drop what an earlier one created (0031 replaces a table by a view).
  const objects = new Set(['schema_migrations']);
  for (const statement of migrations.flatMap((m) => renderMigration(m, variables, cluster))) {
    for (const dropped of droppedObjects(statement)) objects.delete(dropped);
    const created = createdObject(statement);
    if (created !== undefined) objects.add(created);
  }
  return [...objects].sort();
}

/** A system.tables row's object as createdObject (cluster-ddl.ts) names it: "name", or "name (view)" for a plain view. */
export const OBJECT_LABEL_SQL = "if(engine = 'View', concat(name, ' (view)'), name)";

/** The queries the drift report runs on a cluster (exported so tests can have ClickHouse parse them). */
export function driftQueries(cluster: ClusterTarget): { hosts: string; objects: string; versions: string } {
  const c = `'${cluster.cluster}'`;
  return {
    hosts: `SELECT count() AS hosts FROM system.clusters WHERE cluster = ${c}`,
    // Each replica answers for itself: hostName() is evaluated on the node that holds the rows.
    objects: `SELECT hostName() AS host, groupArray(${OBJECT_LABEL_SQL}) AS objects FROM clusterAllReplicas(${c}, system.tables) WHERE database = '${cluster.database}' GROUP BY host SETTINGS skip_unavailable_shards = 1`,
    versions: `SELECT hostName() AS host, groupArray(version) AS versions FROM clusterAllReplicas(${c}, ${cluster.database}.schema_migrations) GROUP BY host SETTINGS skip_unavailable_shards = 1`,
  };
}

async function clusterDrift(client: ClickHouseClient, cluster: ClusterTarget, migrations: Migration[], variables: Record<string, string | number>): Promise<string[]> {
  const rows = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  const q = driftQueries(cluster);
  const [{ hosts }] = await rows<{ hosts: string }>(q.hosts);
  const objects = await rows<{ host: string; objects: string[] }>(q.objects);
  const versions = await rows<{ host: string; versions: number[] }>(q.versions);
  const byHost = new Map(versions.map((v) => [v.host, v.versions]));
  const nodes = objects.map((o) => ({ host: o.host, objects: o.objects, versions: byHost.get(o.host) ?? [] }));
  return compareNodes(expectedObjects(migrations, variables, cluster), migrations.map((m) => m.version), nodes, Number(hosts));
}
