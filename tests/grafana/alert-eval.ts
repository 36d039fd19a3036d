/**
 * Grafana-managed alert evaluation, reproduced for tests (no Grafana server runs here):
 *
 *  - the data source result → "numeric long" numbers (Grafana SSE `isNumberTable` / `extractNumberSet`):
 *    a table with exactly one numeric column and otherwise only string columns; each row becomes one
 *    number labelled with the row's strings. Anything else is an error; zero rows is NoData;
 *  - reduce (`last`, `mean`, ...; on numbers a no-op apart from the mode: dropNN turns NaN/±Inf/null
 *    into null, replaceNN replaces them);
 *  - threshold (gt, lt, eq, ne, gte, lte, within_range (exclusive), outside_range (exclusive), *_included);
 *  - per instance: null → NoData, 0 → Normal, anything else → Alerting (NaN compares false → 0);
 *  - the state machine: Normal → Pending (condition true, `for` > 0) → Alerting once true for `for`;
 *    false → Normal; NoData → noDataState (OK = Normal); query errors → Error.
 */

export interface ResultColumn {
  name: string;
  type: string;
}

export interface QueryTable {
  meta: ResultColumn[];
  rows: unknown[][];
}

export type Labels = Record<string, string>;

export interface NumberValue {
  labels: Labels;
  value: number | null;
}

export class ConversionError extends Error {}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal.*)\)?$/;
const STRING = /^(Nullable\()?(LowCardinality\()?(Nullable\()?(String|FixedString\(\d+\))\)?\)?\)?$/;

export const labelKey = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(',');

/** SSE: data source frame → set of numbers (or 'nodata'). */
export function toNumberSet(t: QueryTable): NumberValue[] | 'nodata' {
  const numeric = t.meta.filter((c) => NUMERIC.test(c.type));
  const strings = t.meta.filter((c) => STRING.test(c.type));
  const other = t.meta.filter((c) => !NUMERIC.test(c.type) && !STRING.test(c.type));
  if (numeric.length !== 1 || other.length > 0) {
    throw new ConversionError(
      `not a numeric table: needs exactly one numeric column and only string columns, got ${t.meta.map((c) => `${c.name}:${c.type}`).join(', ')}`,
    );
  }
  if (t.rows.length === 0) return 'nodata';
  const vi = t.meta.indexOf(numeric[0]!);
  const seen = new Set<string>();
  return t.rows.map((row) => {
    const labels: Labels = {};
    for (const c of strings) labels[c.name] = String(row[t.meta.indexOf(c)] ?? '');
    const key = labelKey(labels);
    if (seen.has(key)) throw new ConversionError(`duplicate label set {${key}}: one alert instance per row needs unique labels`);
    seen.add(key);
    const raw = row[vi];
    const value = raw === null || raw === undefined ? null : Number(raw);
    return { labels, value };
  });
}

export interface ReduceSettings {
  reducer: 'last' | 'mean' | 'max' | 'min' | 'sum' | 'count' | 'median';
  mode?: 'dropNN' | 'replaceNN' | '';
  replaceWithValue?: number;
}

/** Reduce on numbers: the value passes through, mapped by the mode. */
export function reduceNumbers(values: NumberValue[], s: ReduceSettings): NumberValue[] {
  return values.map(({ labels, value }) => {
    let v = value;
    const nonNumber = v === null || !Number.isFinite(v);
    if (s.mode === 'dropNN' && nonNumber) v = null;
    if (s.mode === 'replaceNN' && nonNumber) v = s.replaceWithValue ?? 0;
    return { labels, value: v };
  });
}

export interface Evaluator {
  type: string;
  params: number[];
}

export function thresholdHolds(v: number, e: Evaluator): boolean {
  const [a = NaN, b = NaN] = e.params;
  switch (e.type) {
    case 'gt':
      return v > a;
    case 'lt':
      return v < a;
    case 'eq':
      return v === a;
    case 'ne':
      return v !== a;
    case 'gte':
      return v >= a;
    case 'lte':
      return v <= a;
    case 'within_range':
      return v > Math.min(a, b) && v < Math.max(a, b);
    case 'outside_range':
      return v < Math.min(a, b) || v > Math.max(a, b);
    case 'within_range_included':
      return v >= Math.min(a, b) && v <= Math.max(a, b);
    case 'outside_range_included':
      return v <= Math.min(a, b) || v >= Math.max(a, b);
    default:
      throw new Error(`unknown threshold type ${e.type}`);
  }
}

export type InstanceResult = 'Alerting' | 'Normal' | 'NoData';

export interface ConditionResult {
  labels: Labels;
  value: number | null;
  result: InstanceResult;
}

/** One evaluation: query result → reduce → threshold → per-instance result. */
export function evaluateCondition(t: QueryTable, reduce: ReduceSettings, evaluator: Evaluator): ConditionResult[] | 'nodata' {
  const numbers = toNumberSet(t);
  if (numbers === 'nodata') return 'nodata';
  return reduceNumbers(numbers, reduce).map(({ labels, value }) => {
    if (value === null) return { labels, value, result: 'NoData' as const };
    return { labels, value, result: thresholdHolds(value, evaluator) ? ('Alerting' as const) : ('Normal' as const) };
  });
}

/** Go duration ("5m", "1h30m", "0s") → seconds. */
export function durationSeconds(d: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let m: RegExpExecArray | null;
  let matched = '';
  while ((m = re.exec(d)) !== null) {
    matched += m[0];
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n * 86400;
  }
  if (matched !== d) throw new Error(`bad duration "${d}"`);
  return total;
}

export type AlertState = 'Normal' | 'Pending' | 'Alerting' | 'NoData' | 'Error';

export interface InstanceState {
  labels: Labels;
  state: AlertState;
  /** when the current Pending/Alerting episode started (ms) */
  since: number;
  value: number | null;
}

/** Grafana's per-rule state manager (simplified: no keep_firing_for, stale series resolve at once). */
export class RuleState {
  readonly instances = new Map<string, InstanceState>();
  constructor(
    private readonly forSeconds: number,
    private readonly noDataState: 'OK' | 'NoData' | 'Alerting' | 'KeepLast',
  ) {}

  /** Applies one evaluation at time `t` (ms). */
  step(t: number, results: ConditionResult[] | 'nodata'): void {
    const seen = new Set<string>();
    const list = results === 'nodata' ? [] : results;
    for (const r of list) {
      const key = labelKey(r.labels);
      seen.add(key);
      const prev = this.instances.get(key);
      let outcome: InstanceResult | 'Alerting' = r.result;
      if (outcome === 'NoData') {
        if (this.noDataState === 'OK') outcome = 'Normal';
        else if (this.noDataState === 'Alerting') outcome = 'Alerting';
        else if (this.noDataState === 'KeepLast') outcome = prev?.state === 'Alerting' ? 'Alerting' : 'Normal';
      }
      if (outcome === 'NoData') {
        this.instances.set(key, { labels: r.labels, state: 'NoData', since: t, value: r.value });
      } else if (outcome === 'Normal') {
        this.instances.set(key, { labels: r.labels, state: 'Normal', since: t, value: r.value });
      } else {
        const episodeStart = prev && (prev.state === 'Pending' || prev.state === 'Alerting') ? prev.since : t;
        const state: AlertState = prev?.state === 'Alerting' || (t - episodeStart) / 1000 >= this.forSeconds ? 'Alerting' : 'Pending';
        this.instances.set(key, { labels: r.labels, state, since: episodeStart, value: r.value });
      }
    }
    for (const [key, inst] of this.instances) if (!seen.has(key)) this.instances.set(key, { ...inst, state: 'Normal', since: t });
  }

  firing(): InstanceState[] {
    return [...this.instances.values()].filter((i) => i.state === 'Alerting');
  }
}
