// Migration 0031 on a store that already holds data: usage_cost_daily, a rollup table fed from usage_cost_hourly
// until then, becomes a view over usage_cost_hourly. Users' SQL, the named queries and the dashboards read it by
// the same name: the columns and their types must not change, nor the answers for the days already stored, and
// what arrives after the upgrade must show up in it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../processor/src/store/migrations.js';
import { generateDataset, loadDirect, syntheticPriceBook } from '../../tools/synthetic/index.js';
import { testNow } from '../helpers/clock.js';
import { useScratchStore } from '../helpers/scratch-store.js';

const VARS = { RAW_TTL_DAYS: 7300, ROLLUP_TTL_DAYS: 7300 };
const scratch = useScratchStore('daily-view', VARS, '0031');

async function rows<T>(sql: string): Promise<T[]> {
  return (await scratch.store.writer.query({ query: sql, format: 'JSONEachRow' })).json<T>();
}

// Every column, per day and group, with decimals as text so they compare exactly.
const DAILY = `SELECT TenantId, Day, ServiceName, Environment, Provider, Model, Operation, Feature, Experiment, Variant,
    sum(Requests) AS Requests, sum(Calls) AS Calls, sum(Errors) AS Errors, sum(RateLimited) AS RateLimited,
    sum(StreamingCalls) AS StreamingCalls, sum(ResponseCacheHits) AS ResponseCacheHits, sum(CallsWithUsage) AS CallsWithUsage,
    sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens, sum(CacheReadTokens) AS CacheReadTokens,
    sum(CacheWriteTokens) AS CacheWriteTokens, sum(ReasoningTokens) AS ReasoningTokens,
    toString(sum(CostUSD)) AS CostUSD, toString(sum(CostInputUSD)) AS CostInputUSD, toString(sum(CostCacheReadUSD)) AS CostCacheReadUSD,
    toString(sum(CostCacheWriteUSD)) AS CostCacheWriteUSD, toString(sum(CostOutputUSD)) AS CostOutputUSD,
    toString(sum(CostReasoningUSD)) AS CostReasoningUSD, sum(ComputedCostCalls) AS ComputedCostCalls,
    sum(ReportedCostCalls) AS ReportedCostCalls, sum(UnpricedCalls) AS UnpricedCalls, round(sum(DurationSumMs), 3) AS DurationSumMs
  FROM usage_cost_daily
  GROUP BY ALL ORDER BY ALL`;
const COLUMNS = "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'usage_cost_daily' ORDER BY position";
const ENGINES = "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name LIKE 'usage\\_cost\\_daily%' ORDER BY name";

const now = testNow();

describe('migration 0031: usage_cost_daily as a view over usage_cost_hourly', () => {
  it('keeps the columns, their types and every stored day\'s answers, and shows what arrives afterwards', async () => {
    const store = scratch.store;
    const pricesFile = join(scratch.dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(syntheticPriceBook()));
    expect(await rows(ENGINES)).toEqual([
      { name: 'usage_cost_daily', engine: 'SummingMergeTree' },
      { name: 'usage_cost_daily_mv', engine: 'MaterializedView' },
    ]);
    const first = await loadDirect(store.writer, generateDataset({ seed: 'daily-view-1', requests: 400, days: 5, endMs: now - 86_400_000 }), { pricesFile, now: () => now });
    expect(first.genaiRows).toBeGreaterThan(1000);
    const columnsBefore = await rows<{ name: string; type: string }>(COLUMNS);
    const answersBefore = await rows<Record<string, unknown>>(DAILY);
    expect(columnsBefore).toHaveLength(32);
    expect(answersBefore.length).toBeGreaterThan(20);

    await migrate(store.writer, VARS);

    expect(await rows(ENGINES)).toEqual([{ name: 'usage_cost_daily', engine: 'View' }]);
    expect(await rows(COLUMNS)).toEqual(columnsBefore);
    expect(await rows(DAILY)).toEqual(answersBefore);

    // Traffic after the upgrade (a later day, so it adds groups): the view has it, summed per day like the
    // hourly rollup it reads.
    const second = await loadDirect(store.writer, generateDataset({ seed: 'daily-view-2', requests: 200, days: 1, endMs: now }), { pricesFile, now: () => now });
    expect(second.genaiRows).toBeGreaterThan(500);
    const [daily] = await rows<{ calls: string; cost: string; days: string }>('SELECT sum(Calls) AS calls, toString(sum(CostUSD)) AS cost, uniqExact(Day) AS days FROM usage_cost_daily');
    const [hourly] = await rows<{ calls: string; cost: string; days: string }>("SELECT sum(Calls) AS calls, toString(sum(CostUSD)) AS cost, uniqExact(toDate(Hour, 'UTC')) AS days FROM usage_cost_hourly");
    const [spans] = await rows<{ calls: string }>('SELECT count() AS calls FROM genai_spans WHERE UsageCounted = 1');
    expect(daily).toEqual(hourly);
    expect(Number(daily!.calls)).toBe(Number(spans!.calls));
    expect(Number(daily!.calls)).toBeGreaterThan(answersBefore.reduce((n, r) => n + Number(r.Calls), 0));
  });

  it('a day range reads only that range of usage_cost_hourly (the WHERE reaches its sort key)', async () => {
    const [{ explain }] = await rows<{ explain: string }>(
      `SELECT arrayStringConcat(groupArray(explain), '\\n') AS explain FROM (EXPLAIN indexes = 1
         SELECT sum(Calls) FROM usage_cost_daily WHERE TenantId = 'default' AND Day = toDate('${new Date(now).toISOString().slice(0, 10)}'))`,
    );
    // The view's Day filter is pushed into the hourly rollup's read, where the primary key (TenantId, Hour, …)
    // uses it as a range of Hour; a filter applied after the view's GROUP BY would leave the key condition empty.
    const primaryKey = explain.slice(explain.indexOf('PrimaryKey'));
    expect(primaryKey).toMatch(/Condition: and\(\(toDate\(Hour, 'UTC'\) in \[\d+, \d+\]\), \(TenantId in \['default', 'default'\]\)\)/);
  });
});
