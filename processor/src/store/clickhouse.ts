import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, parseError, type ClickHouseClient } from '@clickhouse/client';
import type { Config } from '../config.js';
import { splitOlderLines } from './older-lines.js';
import { insertFormat, lineColumns } from './row-lines.js';
import type { LineBlock } from './shipper.js';
import type { Row, TableName } from './write-queue.js';
import { linesBytes, type RowFormat } from './wal-record.js';
import { randomUUID } from 'node:crypto';
import { LineRow } from './json-bytes.js';
import { FileInsert } from './file-insert.js';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/**
 * The client JSON.stringify's each inserted row. Rows the pipeline already wrote as text (row-lines.ts) pass
 * through unchanged; row objects are stringified as before. The writer clients of both store modes use this,
 * so the same rows produce the same request body for chdb and a server.
 */
export function stringifyRow(row: unknown): string {
  return typeof row === 'string' ? row : row instanceof LineRow ? row.line() : JSON.stringify(row);
}
const ROW_JSON = { stringify: stringifyRow };

/**
 * Inserts one table's rows through a writer client: row lines (row-lines.ts) or row objects. Every insert
 * names its deduplication token: the embedded engine keeps per-query settings for the session, so an insert
 * without one would reuse the previous insert's token. Unless given, a fresh token: never deduplicated.
 */
export async function insertRows(client: ClickHouseClient, table: TableName, rows: Row[], token: string = randomUUID()): Promise<void> {
  await client.insert({ table, values: rows, ...insertFormat(table, rows), clickhouse_settings: dedupeSettings(token) });
}

/**
 * chdb's raw passthrough insert on one embedded session: the body is a Buffer handed to the engine as is, and
 * the statement's SETTINGS clause applies to this insert only. The client's insert on the chdb connection
 * instead joins the rows into one string, trims it and prepends the statement (two multi-MB strings per insert,
 * ~10 µs per otel_traces row on this box: docs/benchmarks.md, "Speed on one machine").
 */
type RawInsert = (params: { table: string; format: RowFormat; columns?: string[]; values: Buffer; settings: Record<string, string | number> }) => Promise<unknown>;

/** The raw insert of each embedded writer client (openEmbeddedStore); server clients have none. */
const rawInserts = new WeakMap<ClickHouseClient, RawInsert>();
/** The file insert of each embedded writer client (store/file-insert.ts), for today's row lines. */
const fileInserts = new WeakMap<ClickHouseClient, FileInsert>();

/**
 * Inserts lines from the write-ahead log: the same bytes in the same order, under a deterministic token. Lines
 * an older processor wrote (fewer columns, older-lines.ts) are inserted with the columns they have, one insert
 * per width under a token derived from this one, so a retry of the same lines is deduplicated the same way.
 * On an embedded writer session the lines go to the engine as one Buffer (a file the engine reads, file-insert.ts;
 * chdb's raw insert for lines that are not JSONCompactEachRow with a column list): `body` when
 * given (the lines' bytes from the write-ahead-log records, wal-record.ts), else written from the lines.
 * Elsewhere through the client.
 */
export async function insertLines(client: ClickHouseClient, table: TableName, format: RowFormat, lines: string[], token: string, body?: Buffer): Promise<void> {
  await insertBlock(client, table, format, { count: lines.length, body: body && [body], lines: () => lines }, token);
}

/**
 * insertLines for a block of lines the shipper holds (shipper.ts LineBlock): on an embedded session with the
 * block's bytes, the lines are never made into strings unless the insert fails and has to look at them.
 */
export async function insertBlock(client: ClickHouseClient, table: TableName, format: RowFormat, block: LineBlock, token: string): Promise<void> {
  if (format !== 'JSONCompactEachRow') {
    await insertGroup(client, table, format, block, undefined, token);
    return;
  }
  try {
    // What insertFormat(table, lines) gives for lines (strings all) when there are some.
    const columns = block.count > 0 ? lineColumns(table) : undefined;
    await insertGroup(client, table, format, block, columns, token);
  } catch (err) {
    // The common case pays nothing: lines are only measured after today's column list failed.
    const groups = splitOlderLines(table, block.lines());
    if (!groups) throw err;
    for (const g of groups) await insertGroup(client, table, format, { count: g.lines.length, lines: () => g.lines }, g.columns, `${token}/w${g.width}`);
  }
}

async function insertGroup(client: ClickHouseClient, table: TableName, format: RowFormat, block: LineBlock, columns: [string, ...string[]] | undefined, token: string): Promise<void> {
  const raw = rawInserts.get(client);
  if (!raw) {
    await client.insert({ table, values: block.lines(), format, ...(columns ? { columns } : {}), clickhouse_settings: dedupeSettings(token) });
    return;
  }
  if (block.count === 0) return;
  const file = fileInserts.get(client);
  if (file && format === 'JSONCompactEachRow' && columns) {
    // Its engine errors come from the client, already in the client's shape; a file it cannot write is an outage.
    await file.insert(table, format, columns, block.body ?? [linesBytes(block.lines())], token);
    return;
  }
  try {
    await raw({ table, format, values: oneBuffer(block.body) ?? linesBytes(block.lines()), settings: dedupeSettings(token), ...(columns ? { columns: columns.map(unquote) } : {}) });
  } catch (err) {
    // The same error shape as the client's (code and type from the engine's message), for the shipper's
    // data-error test (shipper.ts isDataError) and its split-and-dead-letter.
    const mapped = parseError((err as Error)?.message ?? String(err));
    (mapped as Error & { cause?: unknown }).cause = err;
    throw mapped;
  }
}

function oneBuffer(chunks: readonly Buffer[] | undefined): Buffer | undefined {
  return chunks === undefined ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** chdb's raw insert takes column names unquoted (it checks them as identifiers: dotted Nested names pass). */
function unquote(column: string): string {
  return column.startsWith('`') ? column.slice(1, -1) : column;
}

function dedupeSettings(token: string) {
  // The token also deduplicates the blocks the materialized views write, so the rollups never count a block twice.
  return { insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 } as const;
}

export type StoreMode = 'embedded' | 'server';

/** A read-only reader whose results arrive as a stream of bytes in the requested format. */
export interface StreamReader {
  /**
   * Runs `sql` with `{name:Type}` parameters bound by the engine and resolves once the engine has accepted it
   * (errors before the first byte reject here); the iterable then yields the result as produced. One stream
   * at a time per reader.
   */
  stream(sql: string, params: Record<string, unknown>, format: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
  close(): void;
}

/** Two clients on one store: `writer` for ingest and migrations, `reader` locked read-only for users' SQL. */
export interface StoreClients {
  mode: StoreMode;
  database: string;
  writer: ClickHouseClient;
  reader: ClickHouseClient;
  /** Settings to pass with every reader query (server mode; embedded mode locks them on its session). */
  readerQuerySettings: Record<string, string | number>;
  /**
   * A read-only client for queries that fix a setting in their own SETTINGS clause (the dashboards'
   * `SETTINGS join_use_nulls = 1`). Server mode: the reader (readonly=2 lets a query set it). Embedded
   * mode: a read-only session with the same limits and these settings preset, one per distinct set,
   * because readonly=1 accepts a SETTINGS clause only when it leaves the session's value unchanged.
   * Callers must pass only settings that change query semantics, never limits.
   */
  readerWith(settings: Record<string, string | number>): Promise<ClickHouseClient>;
  /**
   * Another reader with the same read-only lock and limits. Embedded mode: a new session, because one chdb
   * session runs one query at a time correctly (its output buffer is shared); server mode: `reader` itself.
   * Closed with the store. `preset`: settings fixed on the new session, as for readerWith.
   */
  openReader(preset?: Record<string, string | number>): Promise<ClickHouseClient>;
  /**
   * A reader that streams a result chunk by chunk as the engine produces it (exports), with the same read-only
   * lock and limits. Server mode: the reader's HTTP response stream. Embedded mode: a chdb session of its own
   * (the client's chdb connection materializes whole results before handing them over). Closed with the store.
   */
  openStreamReader(): Promise<StreamReader>;
  /** With semantic settings preset (a tenant's row filter); the caller closes it. */
  openStreamReader(preset: Record<string, string | number>): Promise<StreamReader>;
  /**
   * Another writer (ingest inserts, store/table-writers.ts). Embedded mode: a new session on the store, closed
   * with it; server mode: `writer` itself.
   */
  openWriter(): Promise<ClickHouseClient>;
  close(): Promise<void>;
}

export interface ReaderLimits {
  timeoutSeconds: number;
  maxRows: number;
  /** max_memory_usage of each reader query: the engine runs in-process in embedded mode. */
  maxMemoryBytes: number;
  /** max_result_bytes of each reader query. */
  maxResultBytes: number;
  /** max_threads of each reader query (0 or unset: the engine's default, one per core). */
  maxThreads?: number;
}

function readerSettings(limits: ReaderLimits): Record<string, string | number> {
  return {
    max_execution_time: limits.timeoutSeconds,
    max_result_rows: limits.maxRows,
    max_result_bytes: limits.maxResultBytes,
    result_overflow_mode: 'throw',
    max_memory_usage: limits.maxMemoryBytes,
    // Threads one query may use: the engine's default is one per core, so two heavy queries took every core
    // from ingestion. 0 = the engine's default.
    ...(limits.maxThreads ? { max_threads: limits.maxThreads } : {}),
  };
}

export async function openStore(config: Config, limits: ReaderLimits): Promise<StoreClients> {
  return config.clickhouseUrl ? openServerStore(config, limits) : openEmbeddedStore(config, limits);
}

/**
 * Cluster mode (RAGSCOPE_CLICKHOUSE_CLUSTER): synchronous inserts into the Distributed tables, and subqueries on
 * Distributed tables inside distributed queries (the feedback views, the feedback joins) run once, globally,
 * instead of being refused ('deny' is ClickHouse's default).
 */
export const CLUSTER_SETTINGS = { distributed_foreground_insert: 1, distributed_product_mode: 'global' } as const;

async function openServerStore(config: Config, limits: ReaderLimits): Promise<StoreClients> {
  const auth = { url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword };
  const bootstrap = createClient(auth);
  try {
    // On a cluster the database must exist on every node before the ON CLUSTER migrations.
    const onCluster = config.clickhouseCluster ? ` ON CLUSTER '${config.clickhouseCluster}'` : '';
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}${onCluster}` });
  } finally {
    await bootstrap.close();
  }
  const writer = createClient({
    ...auth,
    database: config.database,
    application: 'ragscope-processor',
    json: ROW_JSON,
    // On a cluster, an insert into a Distributed table is answered once every shard's block is in a replica of
    // that shard, under the same deduplication token: a replay is dropped shard by shard (docs/scaling.md).
    ...(config.clickhouseCluster ? { clickhouse_settings: CLUSTER_SETTINGS } : {}),
  });
  const reader = createClient({
    ...auth,
    database: config.database,
    application: 'ragscope-sql',
    ...(config.clickhouseCluster ? { clickhouse_settings: CLUSTER_SETTINGS } : {}),
  });
  return {
    mode: 'server',
    database: config.database,
    writer,
    reader,
    // Over HTTP, settings travel with each request. readonly=2 forbids writes but lets the limits
    // below ride along in the same request (readonly=1 would reject them).
    // cancel_http_readonly_queries_on_client_close: a /sql client that leaves aborts our request, and the
    // server then stops the query instead of finishing it for nobody.
    readerQuerySettings: { readonly: 2, cancel_http_readonly_queries_on_client_close: 1, ...readerSettings(limits) },
    readerWith: async () => reader,
    openReader: async () => reader,
    openStreamReader: async (preset: Record<string, string | number> = {}) => ({
      stream: async (sql, params, format, signal) => {
        const settings = { ...preset, readonly: 2, cancel_http_readonly_queries_on_client_close: 1, ...readerSettings(limits), default_format: format } as const;
        const result = await reader.exec({ query: sql, query_params: params, clickhouse_settings: settings as never, abort_signal: signal });
        return result.stream as AsyncIterable<Uint8Array>;
      },
      close: () => undefined,
    }),
    openWriter: async () => writer,
    close: async () => {
      await Promise.all([writer.close(), reader.close()]);
    },
  };
}

async function openEmbeddedStore(config: Config, limits: ReaderLimits): Promise<StoreClients> {
  // Imported lazily so a server-mode deployment (e.g. the Docker image) never loads the ~500 MB engine.
  const { createChdbConnection } = await import('chdb/connection');
  // chdb types its connection against its own copy of @clickhouse/client-common; the runtime contract
  // is the same, only the duplicated declaration files differ.
  const path = resolve(config.dataDir);
  const connect = () => createChdbConnection({ path }) as unknown as ClientConnection;
  // A writer client on a connection of its own, with that connection's raw insert for insertLines.
  const writerClient = (): ClickHouseClient => {
    const connection = createChdbConnection({ path });
    const client = createClient({ connection: connection as unknown as ClientConnection, json: ROW_JSON });
    rawInserts.set(client, connection.chdb.rawInsert as RawInsert);
    const file = FileInsert.open(client, config.database, join(path, 'insert-files'), `writer-${++writerCount}`);
    if (file) fileInserts.set(client, file);
    return client;
  };
  let writerCount = 0;
  // Files of inserts a previous process did not finish (a crash): their rows are still in the write-ahead log.
  rmSync(join(path, 'insert-files'), { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  const writer = writerClient();
  await writer.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
  await writer.command({ query: `USE ${config.database}` });
  const writers: ClickHouseClient[] = [];
  const openWriter = async (): Promise<ClickHouseClient> => {
    const client = writerClient();
    writers.push(client);
    await client.command({ query: `USE ${config.database}` });
    return client;
  };

  // chdb applies per-query settings as session-wide SETs, so a read-only lock must live on its own
  // session (a second connection on the same path has its own settings).
  const readers: ClickHouseClient[] = [];
  const openReader = async (preset: Record<string, string | number> = {}): Promise<ClickHouseClient> => {
    const client = createClient({ connection: connect() });
    readers.push(client);
    await client.command({ query: `USE ${config.database}` });
    for (const [name, value] of Object.entries({ ...preset, ...readerSettings(limits) })) {
      await client.command({ query: `SET ${name} = ${settingLiteral(value)}` });
    }
    await client.command({ query: 'SET readonly = 1' });
    return client;
  };
  const reader = await openReader();
  const presetReaders = new Map<string, Promise<ClickHouseClient>>();
  const { Session } = await import('chdb');
  const streamReaders: StreamReader[] = [];

  return {
    mode: 'embedded',
    database: config.database,
    writer,
    reader,
    readerQuerySettings: {},
    readerWith: (settings) => {
      const key = JSON.stringify(Object.entries(settings).sort());
      if (Object.keys(settings).length === 0) return Promise.resolve(reader);
      let client = presetReaders.get(key);
      if (!client) presetReaders.set(key, (client = openReader(settings)));
      return client;
    },
    openReader: (preset) => openReader(preset),
    openStreamReader: async (preset?: Record<string, string | number>) => {
      if (preset) return embeddedStreamReader(Session, path, config.database, { ...preset, ...readerSettings(limits) });
      const reader = embeddedStreamReader(Session, path, config.database, readerSettings(limits));
      streamReaders.push(reader);
      return reader;
    },
    openWriter,
    close: async () => {
      for (const reader of streamReaders) reader.close();
      for (const client of [...readers, ...writers]) await client.close();
      await writer.close();
    },
  };
}

type ChdbSession = InstanceType<typeof import('chdb').Session>;

/**
 * A chdb session used only for streamed reads: same database, limits and read-only lock as the /sql readers.
 * `queryStreamBind` binds the parameters in the engine (values never enter the SQL) and yields chunks as the
 * engine fills them; the first chunk is awaited before resolving so that errors before any data reject here.
 *
 * chdb formats every chunk as a document of its own: `...WithNames` formats repeat their header in each chunk
 * (dropped here after the first), and Parquet would be one file per chunk, which no reader accepts
 * concatenated. Parquet is therefore produced whole by the engine on this session (bounded by the same
 * max_result_bytes / max_result_rows as /sql) and sent as one piece; a ClickHouse server streams it.
 */
function embeddedStreamReader(Session: typeof import('chdb').Session, path: string, database: string, settings: Record<string, string | number>): StreamReader {
  const session: ChdbSession = new Session(path);
  session.query(`USE ${database}`);
  for (const [name, value] of Object.entries(settings)) session.query(`SET ${name} = ${settingLiteral(value)}`);
  session.query('SET readonly = 1');
  return {
    async stream(sql, params, format, signal) {
      if (format === 'Parquet') {
        const whole = (await session.queryBindAsync(sql, params, { format, signal })).bytes();
        return [whole];
      }
      const chunks = session.queryStreamBind(sql, params, { format, signal })[Symbol.asyncIterator]();
      const first = await chunks.next();
      const repeatsHeader = /WithNames/.test(format);
      return (async function* () {
        try {
          if (first.done) return;
          const head = first.value.raw();
          yield head;
          const header = repeatsHeader ? headerLines(head, format.endsWith('WithNamesAndTypes') ? 2 : 1) : undefined;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            const bytes = next.value.raw();
            yield header && startsWith(bytes, header) ? bytes.subarray(header.length) : bytes;
          }
        } finally {
          await chunks.return?.(); // a consumer that stops early: the engine stops too
        }
      })();
    },
    close: () => session.close(),
  };
}

function settingLiteral(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The first `count` lines of a chunk, newlines included. */
function headerLines(chunk: Uint8Array, count: number): Uint8Array {
  let end = 0;
  for (let i = 0; i < count; i++) {
    const nl = chunk.indexOf(10, end);
    if (nl < 0) return chunk.subarray(0, 0);
    end = nl + 1;
  }
  return chunk.subarray(0, end);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length > 0 && bytes.length >= prefix.length && Buffer.from(bytes.buffer, bytes.byteOffset, prefix.length).equals(prefix);
}
