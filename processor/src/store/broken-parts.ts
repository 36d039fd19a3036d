import type { ClickHouseClient } from '@clickhouse/client';
import { Gauge, type Registry } from 'prom-client';

/** A data part ClickHouse moved to detached/ instead of loading it (its rows are not queryable). */
export interface BrokenPart {
  table: string;
  name: string;
  reason: string;
}

/**
 * Reasons under which ClickHouse detaches a part on its own: a part that fails its checks at start is
 * renamed `broken-on-start_…` (older servers: `broken_…`); `unexpected` parts are not in the table's
 * metadata. Parts a user detached (reason '') are not reported.
 */
const REPORTED_REASONS = ['broken', 'broken-on-start', 'unexpected', 'noquorum', 'covered-by-broken'];

export async function findBrokenParts(client: ClickHouseClient, database: string): Promise<BrokenPart[]> {
  // `database` is a validated identifier (config.ts); inlined, not bound: see query/sql-cancel.ts.
  const reasons = REPORTED_REASONS.map((r) => `'${r}'`).join(', ');
  const rs = await client.query({
    query: `SELECT table, name, reason FROM system.detached_parts WHERE database = '${database}' AND reason IN (${reasons}) ORDER BY table, name`,
    format: 'JSONEachRow',
  });
  return rs.json<BrokenPart>();
}

/** What to tell an operator about broken parts: rows are missing from queries until the parts are dealt with. */
export function recoveryAdvice(database: string, parts: readonly BrokenPart[]): string {
  const tables = [...new Set(parts.map((p) => p.table))].join(', ');
  return (
    `${parts.length} data part(s) of ${tables} were detached as broken at start: their rows are missing from every query and ` +
    `rollup totals no longer match the raw tables. The files are kept in the table's detached/ directory. To recover: ` +
    `stop the processor, restore the part from a backup (or re-send the spans), or try ` +
    `\`ALTER TABLE ${database}.<table> ATTACH PART '<name without its reason prefix>'\` after renaming the directory if the data is intact; ` +
    `once given up, remove it with \`ALTER TABLE ${database}.<table> DROP DETACHED PART '<name>' SETTINGS allow_drop_detached = 1\`. ` +
    `List them with: SELECT table, name, reason, path FROM system.detached_parts WHERE database = '${database}'`
  );
}

/** The start-time report: a gauge on /metrics, the parts kept for /readyz. */
export class BrokenPartsReport {
  private readonly gauge: Gauge;
  parts: BrokenPart[] = [];

  constructor(registry: Registry) {
    this.gauge = new Gauge({
      name: 'ragscope_broken_detached_parts',
      help: 'Data parts ClickHouse detached as broken (or unexpected) at start: their rows are not queryable (see /readyz)',
      registers: [registry],
    });
    this.gauge.set(0);
  }

  set(parts: BrokenPart[]): void {
    this.parts = parts;
    this.gauge.set(parts.length);
  }
}
