// The cluster form of the single-node migrations (RAGSCOPE_CLICKHOUSE_CLUSTER, docs/scaling.md). The migration
// files stay the one source of the schema: each statement is rewritten here by a small set of rules, and a
// statement no rule understands is an error, so a new migration cannot silently lack its cluster form.
//
//   CREATE TABLE IF NOT EXISTS t (...) ENGINE = XMergeTree(args) ...
//     → CREATE TABLE IF NOT EXISTS t_local ON CLUSTER c (...) ENGINE = ReplicatedXMergeTree('<path>', '{replica}', args) ...
//     + CREATE TABLE IF NOT EXISTS t ON CLUSTER c AS t_local ENGINE = Distributed(c, db, t_local[, sharding key])
//   CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO t AS SELECT ... FROM s
//     → the same ON CLUSTER, TO t_local, FROM s_local: every shard aggregates the rows it stores
//   CREATE VIEW IF NOT EXISTS v AS ...  → ON CLUSTER, body unchanged (it reads the Distributed tables)
//   CREATE OR REPLACE VIEW v AS ...     → the same (a later migration redefining a view)
//   ALTER TABLE mv MODIFY QUERY SELECT ... FROM s → ON CLUSTER, FROM s_local (as CREATE MATERIALIZED VIEW)
//   ALTER TABLE t MODIFY COLUMN ...     → on t_local and on the Distributed t, both ON CLUSTER
//   ALTER TABLE t MODIFY SETTING/TTL/INDEX ... → on t_local ON CLUSTER
//   ALTER TABLE t MODIFY SETTING non_replicated_deduplication_window = N → nothing (see below)
//   DROP VIEW IF EXISTS v                 → ON CLUSTER
//   DROP TABLE IF EXISTS t                → the Distributed t and t_local, both ON CLUSTER, SYNC
//   INSERT INTO t SELECT ... (a backfill)  → unchanged, run once on one node: it reads the Distributed tables
//     (every shard) and writes the Distributed t, whose sharding key routes each row to the shard of its trace.
//     The target needs a sharding key, and the backfill must be idempotent (the migration's aggregates are).
export class ClusterDdlError extends Error {}

export interface ClusterTarget {
  /** Cluster name from the servers' remote_servers (RAGSCOPE_CLICKHOUSE_CLUSTER). */
  cluster: string;
  /** Database the processor uses (RAGSCOPE_CLICKHOUSE_DATABASE): the Distributed tables name it. */
  database: string;
}

/** Suffix of the per-shard tables that hold the data; the user-facing names are Distributed tables. */
export const LOCAL_SUFFIX = '_local';

/** Keeper path of a replicated table: one replica set per shard; ClickHouse expands the macros. */
export const REPLICA_PATH = '/clickhouse/tables/{shard}/{database}/{table}';

/**
 * How the Distributed table of each stored table picks a shard for an inserted row. Rows of one trace land on
 * one shard (spans, their trace-id index, and what the materialized views derive from them: request_rollup,
 * response_lookup), so a request's spans and its per-request rollup row live together. The key is
 * deterministic: a replayed insert splits into the same per-shard blocks, so insert deduplication holds.
 * `null`: only materialized views write the table (on each shard, into its local table); a direct insert into
 * the Distributed table is refused by ClickHouse (no sharding key on several shards), which is what we want.
 * A table missing from this list has no cluster form: rendering its migration fails.
 */
export const SHARDING_KEYS: Readonly<Record<string, string | null>> = {
  otel_traces: 'cityHash64(TraceId)',
  otel_traces_trace_id_ts: 'cityHash64(TraceId)',
  // Log records without trace context would all hash to one shard: spread those by content instead.
  otel_logs: "if(TraceId != '', cityHash64(TraceId), cityHash64(Timestamp, Body))",
  genai_spans: 'cityHash64(TraceId)',
  request_rollup: 'cityHash64(TraceId)',
  // Written by its view on each shard and once by 0028's backfill through the Distributed table (same key).
  request_facts: 'cityHash64(TraceId)',
  conversation_turns: 'cityHash64(TraceId)',
  // Every version of a request's signal row on one shard, so FINAL (per shard) picks the latest.
  conversation_signals: 'cityHash64(TraceId)',
  conversation_signals_state: 'cityHash64(TenantId)',
  captured_query_texts: 'cityHash64(TraceId)',
  response_lookup: 'cityHash64(TraceId)',
  // All versions of one feedback id on one shard, so ReplacingMergeTree(Version) can collapse them.
  feedback: 'cityHash64(FeedbackId)',
  evaluations: "if(TraceId != '', cityHash64(TraceId), cityHash64(EvaluationId))",
  usage_cost_hourly: null,
  usage_cost_daily: null, // 0004's table; 0031 drops it (a view since)
  latency_hourly: null,
  retrieval_quality_hourly: null,
  query_patterns_daily: null,
  evaluations_daily: null,
  prediction_outcomes_daily: null,
  errors_hourly: null,
  user_usage_daily: null,
};

/** MergeTree family engines the schema uses; each has a Replicated* twin taking (path, replica, ...args). */
const MERGE_TREE_ENGINES = new Set(['MergeTree', 'SummingMergeTree', 'AggregatingMergeTree', 'ReplacingMergeTree']);

/**
 * non_replicated_deduplication_window is the single-node stand-in for what Replicated tables do by default
 * (replicated_deduplication_window: 10000 blocks in current releases, >= the 1000 single-node tables keep).
 * On a Replicated table the setting has no effect, so its statement is left out rather than translated.
 */
const SKIPPED_SETTINGS = new Set(['non_replicated_deduplication_window']);

const IDENT = '`?([A-Za-z_][A-Za-z0-9_]*)`?';
const CREATE_TABLE = new RegExp(`^CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s*\\(`, 'i');
const CREATE_MV = new RegExp(`^CREATE\\s+MATERIALIZED\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s+TO\\s+${IDENT}\\s+AS\\s+([\\s\\S]+)$`, 'i');
const CREATE_VIEW = new RegExp(`^CREATE\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s+AS\\s+([\\s\\S]+)$`, 'i');
const CREATE_OR_REPLACE_VIEW = new RegExp(`^CREATE\\s+OR\\s+REPLACE\\s+VIEW\\s+${IDENT}\\s+AS\\s+([\\s\\S]+)$`, 'i');
const MODIFY_QUERY = new RegExp(`^ALTER\\s+TABLE\\s+${IDENT}\\s+MODIFY\\s+QUERY\\s+([\\s\\S]+)$`, 'i');
const INSERT_SELECT = new RegExp(`^INSERT\\s+INTO\\s+${IDENT}\\s*(?:\\([^)]*\\)\\s*)?(?:SETTINGS\\s+[^\\n]*\\n\\s*)?(?:WITH|SELECT)\\b`, 'i');
const DROP = new RegExp(`^DROP\\s+(VIEW|TABLE)\\s+(IF\\s+EXISTS\\s+)?${IDENT}\\s*$`, 'i');
const ALTER_TABLE = new RegExp(`^ALTER\\s+TABLE\\s+${IDENT}\\s+([\\s\\S]+)$`, 'i');

/** Removes `--` comments (outside string literals) so rules see only SQL. */
export function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'") {
      const end = endOfString(sql, i);
      out += sql.slice(i, end);
      i = end - 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      out += '\n';
    } else {
      out += ch;
    }
  }
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n')
    .trim();
}

function endOfString(sql: string, start: number): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\') i++;
    else if (sql[i] === "'") return i + 1;
  }
  throw new ClusterDdlError('unterminated string literal');
}

/** Index just past the parenthesis that closes the one at `open`, skipping string literals. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'") i = endOfString(sql, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new ClusterDdlError('unbalanced parentheses');
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const onCluster = (t: ClusterTarget) => `ON CLUSTER ${quote(t.cluster)}`;
export const localName = (table: string) => table + LOCAL_SUFFIX;

function shardingKey(table: string, where: string): string | null {
  if (!(table in SHARDING_KEYS)) {
    throw new ClusterDdlError(`${where}: table ${table} has no sharding key in cluster-ddl.ts SHARDING_KEYS (add one, or null if only materialized views write it)`);
  }
  return SHARDING_KEYS[table]!;
}

function requireIfNotExists(ifNotExists: string | undefined, what: string, where: string): void {
  // Without IF NOT EXISTS an ON CLUSTER statement re-run after a partial failure fails on the hosts that did it.
  if (!ifNotExists) throw new ClusterDdlError(`${where}: ${what} must say IF NOT EXISTS`);
}

function renderCreateTable(sql: string, match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const table = match[2]!;
  requireIfNotExists(match[1], `CREATE TABLE ${table}`, where);
  const key = shardingKey(table, where);
  const columnsEnd = closingParen(sql, match[0].length - 1);
  const columns = sql.slice(match[0].length - 1, columnsEnd);
  const rest = sql.slice(columnsEnd);
  const engine = /^\s*ENGINE\s*=\s*([A-Za-z]+)\s*/i.exec(rest);
  if (!engine || !MERGE_TREE_ENGINES.has(engine[1]!)) {
    throw new ClusterDdlError(`${where}: table ${table} has engine ${engine?.[1] ?? '(none)'}; cluster-ddl.ts knows ${[...MERGE_TREE_ENGINES].join(', ')}`);
  }
  let after = rest.slice(engine[0].length);
  let args = '';
  if (after.startsWith('(')) {
    const end = closingParen(after, 0);
    args = after.slice(1, end - 1).trim();
    after = after.slice(end);
  }
  const replicatedArgs = [quote(REPLICA_PATH), quote('{replica}'), ...(args ? [args] : [])].join(', ');
  const local = localName(table);
  return [
    `CREATE TABLE IF NOT EXISTS ${local} ${onCluster(t)} ${columns} ENGINE = Replicated${engine[1]}(${replicatedArgs})\n${after.trim()}`,
    `CREATE TABLE IF NOT EXISTS ${table} ${onCluster(t)} AS ${local} ENGINE = Distributed(${[quote(t.cluster), quote(t.database), quote(local), ...(key ? [key] : [])].join(', ')})`,
  ];
}

function renderMaterializedView(match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const [, ifNotExists, view, target, body] = match as unknown as [string, string | undefined, string, string, string];
  requireIfNotExists(ifNotExists, `CREATE MATERIALIZED VIEW ${view}`, where);
  shardingKey(target, where);
  return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${view} ${onCluster(t)} TO ${localName(target)} AS ${localViewBody(view, body, where)}`];
}

/** A materialized view's SELECT with its one source table replaced by the shard's local table. */
function localViewBody(view: string, body: string, where: string): string {
  // A view that joins or looks up another table would read one shard's part of it: that needs thought, not a rule.
  if (/\bJOIN\b|\bIN\s*\(\s*SELECT\b/i.test(body)) {
    throw new ClusterDdlError(`${where}: materialized view ${view} reads a second table; cluster-ddl.ts has no rule for it`);
  }
  const sources = [...body.matchAll(new RegExp(`\\bFROM\\s+${IDENT}`, 'gi'))];
  if (sources.length !== 1) throw new ClusterDdlError(`${where}: materialized view ${view} must read exactly one table (found ${sources.length})`);
  const source = sources[0]![1]!;
  shardingKey(source, where);
  const from = sources[0]!;
  return body.slice(0, from.index) + `FROM ${localName(source)}` + body.slice(from.index + from[0].length);
}

/** ALTER TABLE mv MODIFY QUERY: every shard's view reads its local source table, as when it was created. */
function renderModifyQuery(match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const [, view, body] = match as unknown as [string, string, string];
  return [`ALTER TABLE ${view} ${onCluster(t)} MODIFY QUERY ${localViewBody(view, body, where)}`];
}

function renderView(match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const [, ifNotExists, view, body] = match as unknown as [string, string | undefined, string, string];
  requireIfNotExists(ifNotExists, `CREATE VIEW ${view}`, where);
  return [`CREATE VIEW IF NOT EXISTS ${view} ${onCluster(t)} AS ${body}`];
}

/** Splits an ALTER's action list at top-level commas. */
function alterActions(actions: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < actions.length; i++) {
    const ch = actions[i]!;
    if (ch === "'") i = endOfString(actions, i) - 1;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(actions.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(actions.slice(start).trim());
  return out;
}

const COLUMN_ACTION = /^(ADD|MODIFY|DROP|RENAME|COMMENT)\s+COLUMN\b/i;
const LOCAL_ACTION = /^(MODIFY\s+SETTING|RESET\s+SETTING|MODIFY\s+TTL|REMOVE\s+TTL|ADD\s+INDEX|DROP\s+INDEX|MATERIALIZE\s+INDEX|ADD\s+PROJECTION|DROP\s+PROJECTION|MATERIALIZE\s+PROJECTION)\b/i;

function renderAlter(match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const [, table, actionText] = match as unknown as [string, string, string];
  shardingKey(table, where);
  const actions = alterActions(actionText);
  const setting = /^MODIFY\s+SETTING\s+([A-Za-z_]+)\s*=/i.exec(actions[0]!);
  if (actions.length === 1 && setting && SKIPPED_SETTINGS.has(setting[1]!)) return [];
  if (actions.every((a) => COLUMN_ACTION.test(a))) {
    // Column changes apply to the data (local tables) and to the Distributed table's own column list.
    return [
      `ALTER TABLE ${localName(table)} ${onCluster(t)} ${actionText}`,
      `ALTER TABLE ${table} ${onCluster(t)} ${actionText}`,
    ];
  }
  if (actions.every((a) => LOCAL_ACTION.test(a) && !SKIPPED_SETTINGS.has(/^MODIFY\s+SETTING\s+([A-Za-z_]+)/i.exec(a)?.[1] ?? ''))) {
    return [`ALTER TABLE ${localName(table)} ${onCluster(t)} ${actionText}`];
  }
  throw new ClusterDdlError(`${where}: ALTER TABLE ${table} mixes or uses actions cluster-ddl.ts has no rule for: ${actionText.slice(0, 120)}`);
}

/** A view dropped on every node; a stored table as its Distributed table and its local tables. */
function renderDrop(match: RegExpExecArray, t: ClusterTarget, where: string): string[] {
  const [, kind, ifExists, name] = match as unknown as [string, string, string | undefined, string];
  // Without IF EXISTS a re-run after a partial failure fails on the hosts that already dropped it.
  if (!ifExists) throw new ClusterDdlError(`${where}: DROP ${kind.toUpperCase()} ${name} must say IF EXISTS`);
  if (kind.toUpperCase() === 'VIEW') return [`DROP VIEW IF EXISTS ${name} ${onCluster(t)}`];
  shardingKey(name, where);
  // SYNC: the replicated local table's Keeper metadata goes now, not after the Atomic database's drop delay.
  return [`DROP TABLE IF EXISTS ${name} ${onCluster(t)} SYNC`, `DROP TABLE IF EXISTS ${localName(name)} ${onCluster(t)} SYNC`];
}

/** A backfill: the same statement on the Distributed tables (see the header); the target must be shardable. */
function renderInsertSelect(sql: string, match: RegExpExecArray, where: string): string[] {
  const table = match[1]!;
  if (shardingKey(table, where) === null) {
    throw new ClusterDdlError(`${where}: INSERT INTO ${table} needs a sharding key in cluster-ddl.ts SHARDING_KEYS (its Distributed table refuses inserts without one)`);
  }
  return [sql];
}

/**
 * The cluster form of one single-node statement (variables already substituted): zero or more statements.
 * `where` names the migration in errors.
 */
export function renderClusterStatement(statement: string, target: ClusterTarget, where: string): string[] {
  const sql = stripComments(statement);
  if (/\bON\s+CLUSTER\b/i.test(sql)) throw new ClusterDdlError(`${where}: write migrations for one node; ON CLUSTER is added in cluster mode`);
  let m: RegExpExecArray | null;
  if ((m = CREATE_TABLE.exec(sql))) return renderCreateTable(sql, m, target, where);
  if ((m = CREATE_MV.exec(sql))) return renderMaterializedView(m, target, where);
  if ((m = CREATE_VIEW.exec(sql))) return renderView(m, target, where);
  if ((m = CREATE_OR_REPLACE_VIEW.exec(sql))) return [`CREATE OR REPLACE VIEW ${m[1]} ${onCluster(target)} AS ${m[2]}`];
  if ((m = MODIFY_QUERY.exec(sql))) return renderModifyQuery(m, target, where);
  if ((m = ALTER_TABLE.exec(sql))) return renderAlter(m, target, where);
  if ((m = DROP.exec(sql))) return renderDrop(m, target, where);
  if ((m = INSERT_SELECT.exec(sql))) return renderInsertSelect(sql, m, where);
  throw new ClusterDdlError(`${where}: no cluster form for this statement (add a rule to processor/src/store/cluster-ddl.ts): ${sql.slice(0, 120)}`);
}

/** schema_migrations on a cluster: ONE replica set spanning every node (no {shard} in the path), so a
 *  migration recorded by any processor is visible on every node once replication catches up. */
export function clusterMigrationsTable(target: ClusterTarget, columns: string): string {
  return `CREATE TABLE IF NOT EXISTS schema_migrations ${onCluster(target)} (${columns}) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}') ORDER BY version`;
}

/**
 * The object a statement (rendered or single-node) creates, as the drift report lists a node's objects
 * (driftQueries): its name, and for a plain view "name (view)", so a node where a table was not yet replaced
 * by a view of the same name (0031) is told apart.
 */
export function createdObject(statement: string): string | undefined {
  const m = /^CREATE\s+(TABLE|VIEW|MATERIALIZED\s+VIEW)\s+IF\s+NOT\s+EXISTS\s+`?([A-Za-z_][A-Za-z0-9_]*)/i.exec(stripComments(statement));
  if (!m) return undefined;
  return m[1]!.toUpperCase() === 'VIEW' ? viewLabel(m[2]!) : m[2];
}

/** The objects a statement drops, under every label createdObject may have given them. */
export function droppedObjects(statement: string): string[] {
  const m = /^DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?`?([A-Za-z_][A-Za-z0-9_]*)/i.exec(stripComments(statement));
  return m ? [m[1]!, viewLabel(m[1]!)] : [];
}

export const viewLabel = (name: string): string => `${name} (view)`;
