// Retention follows the configuration on every start: migrations create tables with the TTL configured at
// that time (${RAW_TTL_DAYS} / ${ROLLUP_TTL_DAYS}); when the configuration changes later, this brings every
// table's TTL in line with ALTER TABLE ... MODIFY TTL. The TTL expression of each table is read from the
// migration that created it, so tables added by future migrations are covered without a list here.
import type { ClickHouseClient } from '@clickhouse/client';
import { droppedObjects, localName, type ClusterTarget } from './cluster-ddl.js';
import { DEFAULT_MIGRATIONS_DIR, listMigrations, splitStatements } from './migrations.js';

export interface TtlTemplate {
  table: string;
  /** TTL expression with the ${VAR} left in, e.g. "Hour + toIntervalDay(${ROLLUP_TTL_DAYS})". */
  expression: string;
  variable: string;
}

const CREATE_TABLE = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z_][A-Za-z0-9_]*)`?/i;
const TTL_CLAUSE = /\n\s*TTL\s+(.+?\$\{([A-Z0-9_]+)\}\))\s*(?:\n|$)/;

/** Tables whose TTL comes from a configuration variable, as declared in the migrations (and still there). */
export function ttlTemplates(dir: string = DEFAULT_MIGRATIONS_DIR): TtlTemplate[] {
  const out = new Map<string, TtlTemplate>();
  for (const migration of listMigrations(dir)) {
    // Strip comments so a commented-out TTL is never picked up.
    const sql = migration.sql.replace(/--[^\n]*/g, '');
    for (const statement of splitStatements(sql)) {
      // A table a later migration dropped has no TTL to follow (usage_cost_daily is a view since 0031).
      for (const dropped of droppedObjects(statement)) out.delete(dropped);
      const create = CREATE_TABLE.exec(statement);
      if (!create) continue;
      const ttl = TTL_CLAUSE.exec(statement);
      if (!ttl) continue;
      out.set(create[1], { table: create[1], expression: ttl[1].trim(), variable: ttl[2] });
    }
  }
  return [...out.values()];
}

/** ALTER TABLE … MODIFY TTL for a template (its table already the `_local` one on a cluster). */
export function modifyTtlStatement(t: TtlTemplate, variables: Record<string, number>, cluster?: ClusterTarget): string {
  const expression = t.expression.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => String(variables[name]));
  const on = cluster ? ` ON CLUSTER '${cluster.cluster}'` : '';
  return `ALTER TABLE ${t.table}${on} MODIFY TTL ${expression}`;
}

export interface RetentionChange {
  table: string;
  from: number | null;
  to: number;
}

/**
 * For each table with a configured TTL: compares the day count in system.tables with the configuration and
 * runs ALTER TABLE ... MODIFY TTL where they differ. Returns the changes made. On a cluster the data (and the
 * TTL) lives in the `<table>_local` tables on every node (cluster-ddl.ts).
 */
export async function applyRetention(
  client: ClickHouseClient,
  variables: Record<string, number>,
  dir: string = DEFAULT_MIGRATIONS_DIR,
  cluster?: ClusterTarget,
): Promise<RetentionChange[]> {
  const templates = ttlTemplates(dir)
    .filter((t) => t.variable in variables)
    .map((t) => (cluster ? { ...t, table: localName(t.table) } : t));
  if (templates.length === 0) return [];
  const rows = await (
    await client.query({
      query: 'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
      query_params: { names: templates.map((t) => t.table) },
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine_full: string }>();
  const engines = new Map(rows.map((r) => [r.name, r.engine_full]));
  const changes: RetentionChange[] = [];
  for (const t of templates) {
    const engine = engines.get(t.table);
    if (engine === undefined) continue;
    const want = variables[t.variable];
    const current = /\bTTL\b.*?toIntervalDay\((\d+)\)/.exec(engine);
    const have = current ? Number(current[1]) : null;
    if (have === want) continue;
    await client.command({ query: modifyTtlStatement(t, variables, cluster) });
    changes.push({ table: t.table, from: have, to: want });
  }
  return changes;
}
