import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../logger.js';
import { semanticSettings } from '../query/read-only.js';
import type { ReaderPool } from '../query/reader-pool.js';
import type { StoreClients } from '../store/clickhouse.js';
import { Dashboards } from './dashboards.js';

export interface ReadPathOptions {
  store: StoreClients;
  readers: ReaderPool;
  dashboards: Dashboards;
  logger?: Logger;
  /** True once the processor is stopping: the warm-up ends early (the caller awaits it before closing the store). */
  stopping(): boolean;
}

/**
 * What a processor does for its dashboards right after the store opens, off the request path: opens the reader
 * sessions their queries need (one per preset their SQL asks for, ReaderPool.prewarm), then touches every table.
 * Never fails (a failure is logged); await it before closing the store.
 */
export async function prepareReadPath(o: ReadPathOptions): Promise<void> {
  try {
    const presets = new Map(Dashboards.all(o.dashboards).map((sql) => semanticSettings(sql)).map((p) => [JSON.stringify(p), p]));
    if (!o.stopping()) await o.readers.prewarm([...presets.values()]);
    if (!o.stopping()) await warmUpTables(await o.store.openReader(), o.logger, o.stopping);
  } catch (err) {
    o.logger?.warn({ err }, 'could not prepare the read path ahead');
  }
}

/**
 * Touches every table of the store once (`SELECT 1 FROM t WHERE 0`), off the request path, right after the
 * store opens. The first query on a table after a processor start pays for loading it (measured here: the
 * first variable query of the Overview 146-179 ms on a just-opened 1 M-span store, 12-29 ms after this
 * touch, which itself takes ~20 ms a table); a dashboard's first load would otherwise pay it table by
 * table, along its chain of variable queries. Runs on a read-only session of its own, never on a /sql
 * slot. Views are left alone: reading a view loads the tables under it, already touched here.
 */
export async function warmUpTables(reader: ClickHouseClient, logger?: Logger, stopping: () => boolean = () => false): Promise<number> {
  const rs = await reader.query({
    query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree%' ORDER BY name",
    format: 'JSONEachRow',
  });
  const tables = ((await rs.json()) as Array<{ name: string }>).map((t) => t.name);
  for (const name of tables) {
    if (stopping()) break;
    try {
      await reader.command({ query: `SELECT 1 FROM \`${name.replace(/`/g, '``')}\` WHERE 0` });
    } catch (err) {
      logger?.debug({ err, table: name }, 'warm-up: could not touch table');
    }
  }
  return tables.length;
}
