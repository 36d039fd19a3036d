/**
 * Evaluates the provisioned alert rules (grafana/provisioning/alerting/rules.yaml, what ships) against a
 * store, the way Grafana would: query over the rule's relative time range with the plugin's macros,
 * reduce, threshold, and the pending/firing state machine at the group's interval.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { parse } from 'yaml';
import { durationSeconds, evaluateCondition, RuleState, type ConditionResult, type ReduceSettings, type Evaluator } from './alert-eval.js';
import { expandAlertQuery } from '../../processor/src/ui/macros.js';
import { runSql } from './harness.js';

export const RULES_FILE = fileURLToPath(new URL('../../grafana/provisioning/alerting/rules.yaml', import.meta.url));

export interface ProvisionedRule {
  uid: string;
  title: string;
  group: string;
  intervalSeconds: number;
  forSeconds: number;
  noDataState: 'OK' | 'NoData' | 'Alerting' | 'KeepLast';
  rawSql: string;
  fromSeconds: number;
  toSeconds: number;
  intervalMs: number;
  reduce: ReduceSettings;
  evaluator: Evaluator;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface FileQuery {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: Record<string, unknown>;
}

export function loadProvisionedRules(file = RULES_FILE): ProvisionedRule[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: Array<{ name: string; interval: string; rules: Array<Record<string, unknown>> }> };
  const out: ProvisionedRule[] = [];
  for (const g of doc.groups) {
    for (const r of g.rules) {
      const data = r.data as FileQuery[];
      const byRef = new Map(data.map((q) => [q.refId, q]));
      const cond = byRef.get(r.condition as string);
      if (!cond || cond.model.type !== 'threshold') throw new Error(`${String(r.uid)}: condition is not a threshold expression`);
      const red = byRef.get(cond.model.expression as string);
      if (!red || red.model.type !== 'reduce') throw new Error(`${String(r.uid)}: threshold does not read a reduce expression`);
      const src = byRef.get(red.model.expression as string);
      if (!src || !src.relativeTimeRange) throw new Error(`${String(r.uid)}: reduce does not read a data source query`);
      const settings = (red.model.settings ?? {}) as { mode?: 'dropNN' | 'replaceNN'; replaceWithValue?: number };
      const conditions = cond.model.conditions as Array<{ evaluator: Evaluator }>;
      out.push({
        uid: r.uid as string,
        title: r.title as string,
        group: g.name,
        intervalSeconds: durationSeconds(g.interval),
        forSeconds: durationSeconds(r.for as string),
        noDataState: r.noDataState as ProvisionedRule['noDataState'],
        rawSql: src.model.rawSql as string,
        fromSeconds: src.relativeTimeRange.from,
        toSeconds: src.relativeTimeRange.to,
        intervalMs: Number(src.model.intervalMs ?? 1000),
        reduce: { reducer: red.model.reducer as ReduceSettings['reducer'], mode: settings.mode, replaceWithValue: settings.replaceWithValue },
        evaluator: conditions[0]!.evaluator,
        labels: (r.labels ?? {}) as Record<string, string>,
        annotations: (r.annotations ?? {}) as Record<string, string>,
      });
    }
  }
  return out;
}

export interface Timing {
  queries: number;
  totalMs: number;
  maxMs: number;
}

export const timing: Timing = { queries: 0, totalMs: 0, maxMs: 0 };

/** One evaluation of a rule at time t (ms). */
export async function evaluateAt(client: ClickHouseClient, rule: ProvisionedRule, t: number): Promise<ConditionResult[] | 'nodata'> {
  const sql = expandAlertQuery(rule.rawSql, {
    from: new Date(t - rule.fromSeconds * 1000),
    to: new Date(t - rule.toSeconds * 1000),
    intervalMs: rule.intervalMs,
  });
  const res = await runSql(client, sql);
  timing.queries++;
  timing.totalMs += res.ms;
  timing.maxMs = Math.max(timing.maxMs, res.ms);
  return evaluateCondition(res, rule.reduce, rule.evaluator);
}

/**
 * Runs the rule's evaluations from `start` to `end` (ms, inclusive) on its group's interval grid and
 * returns the final states; `onStep` sees every intermediate result.
 */
export async function sweep(
  client: ClickHouseClient,
  rule: ProvisionedRule,
  start: number,
  end: number,
  onStep?: (t: number, r: ConditionResult[] | 'nodata', s: RuleState) => void,
): Promise<RuleState> {
  const state = new RuleState(rule.forSeconds, rule.noDataState);
  const step = rule.intervalSeconds * 1000;
  const first = Math.ceil(start / step) * step;
  for (let t = first; t <= end; t += step) {
    const r = await evaluateAt(client, rule, t);
    state.step(t, r);
    onStep?.(t, r, state);
  }
  return state;
}
