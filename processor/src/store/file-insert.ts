// The embedded store's insert of write-ahead-log lines: the block's bytes are written to a file and the
// engine reads them itself (`INSERT … SELECT * FROM file(…)`), instead of taking them inline through chdb's
// raw insert. Same rows, same token, same views; for otel_traces' large rows it costs about half the engine
// CPU per row at the shipper's batch sizes (18-21 vs 30-41 µs per row at 16 384 rows, the file's write
// included; genai_spans the same either way: docs/benchmarks.md, "Speed on one machine"). chdb-node takes
// no binary formats inline, and its inline path parses the same text more slowly than the engine's file reader.
import { mkdirSync } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { writeAllAt } from './write-all.js';

/** SQL string literal. */
function literal(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** file() reads glob patterns in its path: a directory holding one of these characters cannot be used. */
const GLOB = /[*?{}[\]]/;

export class FileInsert {
  private readonly types = new Map<string, Promise<Map<string, string>>>();
  private inserts = 0;

  private constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly dir: string,
    private readonly name: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** One per writer session; undefined when `dir` cannot be named in file(). */
  static open(client: ClickHouseClient, database: string, dir: string, name: string): FileInsert | undefined {
    return GLOB.test(dir) ? undefined : new FileInsert(client, database, dir, name);
  }

  /**
   * Inserts `body` (lines of `format`, one per row, in the order of `columns`; the pieces as the write-ahead-log
   * records hold them, written with one writev instead of joined: a batch is tens of MB) under `token`.
   */
  async insert(table: string, format: string, columns: readonly string[], body: readonly Buffer[], token: string): Promise<void> {
    const types = await this.columnTypes(table);
    const structure = columns.map((quoted) => {
      const type = types.get(unquote(quoted));
      if (!type) throw new Error(`${table}: no column ${quoted}`);
      return `${quoted} ${type}`;
    });
    // A file per insert: two inserts on one session at once would otherwise overwrite each other's rows.
    const path = join(this.dir, `${this.name}-${++this.inserts}.jsonl`);
    try {
      // The directory again each time: one removed while the processor runs would otherwise fail every insert.
      await mkdir(this.dir, { recursive: true });
      const handle = await open(path, 'w');
      try {
        await writeAllAt(handle, body, 0);
      } finally {
        await handle.close();
      }
      await this.client.command({
        query:
          `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM file(${literal(path)}, ${literal(format)}, ${literal(structure.join(', '))}) ` +
          // The token also deduplicates the blocks the materialized views write, as for every insert.
          `SETTINGS insert_deduplication_token = ${literal(token)}, deduplicate_blocks_in_dependent_materialized_views = 1`,
      });
    } finally {
      // Also after a failed write (a full disk): the shipper retries under a new name, and partial files left
      // behind would use up whatever space the disk regained.
      await unlink(path).catch(() => undefined);
    }
  }

  private columnTypes(table: string): Promise<Map<string, string>> {
    let types = this.types.get(table);
    if (!types) {
      types = this.client
        .query({ query: `SELECT name, type FROM system.columns WHERE database = ${literal(this.database)} AND table = ${literal(table)}`, format: 'JSONEachRow' })
        .then((rs) => rs.json<{ name: string; type: string }>())
        .then((rows) => new Map(rows.map((r) => [r.name, r.type])));
      types.catch(() => this.types.delete(table));
      this.types.set(table, types);
    }
    return types;
  }
}

function unquote(column: string): string {
  return column.startsWith('`') ? column.slice(1, -1) : column;
}
