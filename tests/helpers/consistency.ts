// Does every rollup agree with the raw rows it is fed from, and is every span stored once? One query, so
// exactly-once tests can assert it after anything (retries, replays, crashes).
import { expect } from 'vitest';

export interface Totals {
  traces: number;
  uniqueTraces: number;
  genai: number;
  uniqueGenai: number;
  counted: number;
  hourlyCalls: number;
  dailyCalls: number;
  latencyCalls: number;
  requestSpans: number;
  countedCost: string;
  hourlyCost: string;
  dailyCost: string;
  countedInputTokens: number;
  hourlyInputTokens: number;
}

export const TOTALS_SQL = `
SELECT
  (SELECT count() FROM otel_traces) AS traces,
  (SELECT uniqExact(TraceId, SpanId) FROM otel_traces) AS uniqueTraces,
  (SELECT count() FROM genai_spans) AS genai,
  (SELECT uniqExact(TraceId, SpanId) FROM genai_spans) AS uniqueGenai,
  (SELECT count() FROM genai_spans WHERE UsageCounted = 1) AS counted,
  (SELECT sum(Calls) FROM usage_cost_hourly) AS hourlyCalls,
  (SELECT sum(Calls) FROM usage_cost_daily) AS dailyCalls,
  (SELECT sum(Calls) FROM latency_hourly) AS latencyCalls,
  (SELECT sum(Spans) FROM request_rollup) AS requestSpans,
  (SELECT toString(sum(ifNull(CostUSD, 0))) FROM genai_spans WHERE UsageCounted = 1) AS countedCost,
  (SELECT toString(sum(CostUSD)) FROM usage_cost_hourly) AS hourlyCost,
  (SELECT toString(sum(CostUSD)) FROM usage_cost_daily) AS dailyCost,
  (SELECT sum(ifNull(InputTokens, 0)) FROM genai_spans WHERE UsageCounted = 1) AS countedInputTokens,
  (SELECT sum(InputTokens) FROM usage_cost_hourly) AS hourlyInputTokens
FORMAT JSONEachRow`;

export function parseTotals(row: Record<string, unknown>): Totals {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = k.endsWith('Cost') ? String(v) : Number(v);
  return out as unknown as Totals;
}

const decimal = (s: string) => Number(s === '' ? 0 : s);

/** Every span once in each raw table; every rollup equal to the raw rows it is fed from. */
export function expectConsistent(t: Totals, label = ''): void {
  expect(t.traces, `${label} otel_traces rows = distinct spans`).toBe(t.uniqueTraces);
  expect(t.genai, `${label} genai_spans rows = distinct spans`).toBe(t.uniqueGenai);
  expect(t.hourlyCalls, `${label} usage_cost_hourly calls`).toBe(t.counted);
  expect(t.dailyCalls, `${label} usage_cost_daily calls`).toBe(t.counted);
  expect(t.latencyCalls, `${label} latency_hourly calls`).toBe(t.counted);
  expect(t.requestSpans, `${label} request_rollup spans`).toBe(t.genai);
  expect(t.hourlyInputTokens, `${label} usage_cost_hourly input tokens`).toBe(t.countedInputTokens);
  expect(decimal(t.hourlyCost), `${label} usage_cost_hourly cost`).toBe(decimal(t.countedCost));
  expect(decimal(t.dailyCost), `${label} usage_cost_daily cost`).toBe(decimal(t.countedCost));
}
