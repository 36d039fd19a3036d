// Retention follows the configuration: tables are created with the configured TTLs (raw 30 days, rollups
// 400 days by default, ttl_only_drop_parts), and a changed configuration is applied to existing tables at
// the next start (ALTER TABLE ... MODIFY TTL).
import { describe, expect, it } from 'vitest';
import { startProcessor, removeDir } from '../helpers/processor.js';
import { ttlTemplates } from '../../processor/src/store/retention.js';

const RAW = ['otel_traces', 'otel_logs', 'genai_spans', 'evaluations'];
// usage_cost_daily is a view over usage_cost_hourly since migration 0031: it keeps what the hourly rollup keeps.
const ROLLUPS = ['usage_cost_hourly', 'latency_hourly', 'request_rollup', 'retrieval_quality_hourly', 'query_patterns_daily', 'errors_hourly', 'feedback', 'evaluations_daily', 'prediction_outcomes_daily', 'response_lookup', 'user_usage_daily', 'request_facts'];

async function ttlDays(query: (sql: string) => Promise<{ name: string; engine_full: string }[]>): Promise<Record<string, number | null>> {
  const rows = await query('SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()');
  return Object.fromEntries(rows.map((r) => [r.name, /toIntervalDay\((\d+)\)/.exec(r.engine_full) ? Number(/toIntervalDay\((\d+)\)/.exec(r.engine_full)![1]) : null]));
}

describe('retention', () => {
  it('reads each table\'s TTL variable from its migration', () => {
    const byTable = Object.fromEntries(ttlTemplates().map((t) => [t.table, t.variable]));
    for (const t of RAW) expect(byTable[t], t).toBe('RAW_TTL_DAYS');
    for (const t of ROLLUPS) expect(byTable[t], t).toBe('ROLLUP_TTL_DAYS');
    // Created with a TTL by 0004 and dropped by 0031: no TTL left to follow (an ALTER on the view would fail).
    expect(byTable.usage_cost_daily).toBeUndefined();
  });

  it('defaults 30 / 400 days with ttl_only_drop_parts, then follows a changed configuration on restart', async () => {
    // Empty values mean "not set": the processor's own defaults, not the test helper's long retention.
    const first = await startProcessor({ RAGSCOPE_RAW_TTL_DAYS: '', RAGSCOPE_ROLLUP_TTL_DAYS: '' });
    const dataDir = first.dataDir;
    try {
      const days = await ttlDays((sql) => first.query(sql));
      for (const t of RAW) expect(days[t], t).toBe(30);
      for (const t of ROLLUPS) expect(days[t], t).toBe(400);
      const settings = await first.query<{ name: string; engine_full: string }>(
        `SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN (${[...RAW, ...ROLLUPS].map((t) => `'${t}'`).join(', ')})`,
      );
      expect(settings).toHaveLength(RAW.length + ROLLUPS.length);
      for (const r of settings) expect(r.engine_full, r.name).toMatch(/ttl_only_drop_parts = 1/);
    } finally {
      await first.stop();
    }
    const second = await startProcessor({ RAGSCOPE_RAW_TTL_DAYS: '7', RAGSCOPE_ROLLUP_TTL_DAYS: '90' }, dataDir);
    try {
      const days = await ttlDays((sql) => second.query(sql));
      for (const t of RAW) expect(days[t], t).toBe(7);
      for (const t of ROLLUPS) expect(days[t], t).toBe(90);
    } finally {
      await second.stop();
      removeDir(dataDir);
    }
  });
});
