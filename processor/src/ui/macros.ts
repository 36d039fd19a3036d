/**
 * What Grafana does to a ClickHouse panel or alert query before ClickHouse sees it, reproduced so the
 * built-in dashboard viewer (processor/src/ui) sends ClickHouse exactly what Grafana would, and the tests
 * can run every provisioned query against a real (embedded) ClickHouse.
 *
 * Three stages, in Grafana's order:
 *  1. frontend, `applyConditionalAll` (grafana-clickhouse-datasource src/data/CHDatasource.ts):
 *     `$__conditionalAll(cond, $var)` → `cond`, or `1=1` when `$var` is All or empty;
 *  2. frontend, `templateSrv.replace(sql, scopedVars, format)` with the plugin's format function
 *     (multi-value → `'a','b'`, single value unquoted); built-in variables `$__interval`, `$__from`...;
 *  3. backend, `sqlutil.Interpolate` (grafana-plugin-sdk-go data/sqlutil/macros.go) with the plugin's
 *     macros (pkg/macros/macros.go): `$__timeFilter`, `$__timeFilter_ms`, `$__dateFilter`,
 *     `$__dateTimeFilter`/`$__dt`, `$__timeInterval`, `$__timeInterval_ms`, `$__interval_s`,
 *     `$__fromTime`, `$__toTime`, `$__fromTime_ms`, `$__toTime_ms`, plus the SDK defaults the plugin
 *     does not override (`$__timeFrom`, `$__timeTo`, `$__timeGroup`, `$__table`, `$__column`).
 *
 * Quirks are reproduced on purpose, because the point is to catch queries that would break in Grafana:
 *  - backend macro arguments are split on every comma (no nesting): `$__timeFilter(f(a, b))` is an error;
 *  - a macro written without parentheses swallows the next parenthesised group when one follows before
 *    any `)`: `$__interval_s AS s, count()` becomes `60`; write `$__fromTime()` or keep such macros
 *    directly before a `)`;
 *  - `$__conditionalAll`'s argument splitting ignores quotes; its variable must be written `$name`.
 * Alert rules run stage 3 only (no dashboard variables exist there).
 */

// ---------------------------------------------------------------------------------------------
// Template variables (frontend)
// ---------------------------------------------------------------------------------------------

export const ALL_VALUE = '$__all';

/** A dashboard variable with its current selection, as templateSrv sees it. */
export interface VariableState {
  name: string;
  multi?: boolean;
  includeAll?: boolean;
  /** Custom "All" value; when unset, All expands to every option value. */
  allValue?: string;
  /** Current value: a string for single-value variables, an array for multi-value ones; `$__all` for All. */
  current: string | string[];
  /** Every option value (without the All option), used to expand All. */
  options: string[];
}

function currentValueString(v: VariableState): string {
  // Grafana: `key?.current.value.toString()` (an array joins with commas).
  return Array.isArray(v.current) ? v.current.toString() : String(v.current);
}

/** Port of the plugin's private getMacroArgs (frontend): splits on top-level commas, ignores quotes. */
function getMacroArgs(query: string, argsIndex: number): string[] {
  const args: string[] = [];
  const re = /\(|\)|,/g;
  let bracketCount = 0;
  let lastArgEndIndex = 1;
  let m: RegExpExecArray | null;
  const argsSubstr = query.substring(argsIndex, query.length);
  while ((m = re.exec(argsSubstr)) !== null) {
    const found = m[0];
    if (found === '(') bracketCount++;
    else if (found === ')') bracketCount--;
    if (found === ',' && bracketCount === 1) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1));
      lastArgEndIndex = re.lastIndex;
    }
    if (bracketCount === 0) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1));
      return args;
    }
  }
  return [];
}

/** Port of the plugin's applyConditionalAll (frontend, before variable interpolation). */
export function applyConditionalAll(rawQuery: string, variables: readonly VariableState[]): string {
  if (!rawQuery) return rawQuery;
  const macro = '$__conditionalAll(';
  let macroIndex = rawQuery.lastIndexOf(macro);
  while (macroIndex !== -1) {
    const params = getMacroArgs(rawQuery, macroIndex + macro.length - 1);
    if (params.length !== 2) return rawQuery;
    const templateVar = params[1]!.trim();
    const key = variables.find((x) => x.name === templateVar.substring(1, templateVar.length));
    let phrase = params[0]!;
    const value = key ? currentValueString(key) : undefined;
    if (value === '' || value === ALL_VALUE) phrase = '1=1';
    // String.prototype.replace with a string pattern, exactly as the plugin does (first occurrence,
    // `$` patterns in the replacement honoured).
    rawQuery = rawQuery.replace(`${macro}${params[0]},${params[1]})`, phrase);
    macroIndex = rawQuery.lastIndexOf(macro);
  }
  return rawQuery;
}

/** The plugin's format function, passed to templateSrv.replace. */
function clickhouseFormat(value: string | string[]): string {
  if (Array.isArray(value)) return `'${value.join("','")}'`;
  return value;
}

function explicitFormat(value: string | string[], fmt: string): string {
  const arr = Array.isArray(value) ? value : [value];
  switch (fmt) {
    case 'singlequote':
      return arr.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return arr.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'doublequote':
      return arr.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'csv':
    case 'raw':
      return arr.join(',');
    case 'pipe':
      return arr.join('|');
    case 'text':
      return arr.join(' + ');
    default:
      throw new Error(`variable format "${fmt}" is not reproduced by this expander`);
  }
}

/** Grafana's variable regex (public/app/features/variables/utils.ts). */
const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

export interface BuiltinVariables {
  from: Date;
  to: Date;
  intervalMs: number;
}

/** Grafana's secondsToHms, used for `$__interval`'s text form. */
export function secondsToHms(seconds: number): string {
  const numYears = Math.floor(seconds / 31536000);
  if (numYears) return numYears + 'y';
  const numDays = Math.floor((seconds % 31536000) / 86400);
  if (numDays) return numDays + 'd';
  const numHours = Math.floor(((seconds % 31536000) % 86400) / 3600);
  if (numHours) return numHours + 'h';
  const numMinutes = Math.floor((((seconds % 31536000) % 86400) % 3600) / 60);
  if (numMinutes) return numMinutes + 'm';
  const numSeconds = Math.floor((((seconds % 31536000) % 86400) % 3600) % 60);
  if (numSeconds) return numSeconds + 's';
  const numMilliseconds = Math.floor(seconds * 1000.0);
  if (numMilliseconds) return numMilliseconds + 'ms';
  return 'less than a millisecond';
}

function builtinValue(name: string, b: BuiltinVariables | undefined): string | undefined {
  if (!b) return undefined;
  const rangeMs = b.to.getTime() - b.from.getTime();
  switch (name) {
    case '__interval':
      return secondsToHms(b.intervalMs / 1000);
    case '__interval_ms':
      return String(b.intervalMs);
    case '__from':
      return String(b.from.getTime());
    case '__to':
      return String(b.to.getTime());
    case '__range_ms':
      return String(rangeMs);
    case '__range_s':
      return String(Math.round(rangeMs / 1000));
    case '__range':
      return `${Math.round(rangeMs / 1000)}s`;
    default:
      return undefined;
  }
}

/** templateSrv.replace(sql, scopedVars, pluginFormat) for the variables this project uses. */
export function replaceTemplateVariables(
  sql: string,
  variables: readonly VariableState[],
  builtins?: BuiltinVariables,
): string {
  return sql.replace(VARIABLE_REGEX, (match, var1, var2, fmt2, var3, _fieldPath, fmt3) => {
    const name: string = var1 || var2 || var3;
    const fmt: string | undefined = fmt2 || fmt3;
    const variable = variables.find((v) => v.name === name);
    if (!variable) {
      const b = builtinValue(name, builtins);
      return b === undefined ? match : b;
    }
    let value: string | string[] = variable.current;
    const isAll = value === ALL_VALUE || (Array.isArray(value) && value[0] === ALL_VALUE);
    if (isAll) {
      if (variable.allValue !== undefined && variable.allValue !== '') {
        // custom all values are not formatted unless a format is explicit
        return fmt ? explicitFormat(variable.allValue, fmt) : variable.allValue;
      }
      value = [...variable.options];
    }
    return fmt ? explicitFormat(value, fmt) : clickhouseFormat(value);
  });
}

// ---------------------------------------------------------------------------------------------
// Backend macros (grafana-plugin-sdk-go sqlutil.Interpolate + clickhouse-datasource pkg/macros)
// ---------------------------------------------------------------------------------------------

export interface BackendQuery {
  from: Date;
  to: Date;
  /** The query's interval (dashboards: computed from range and width; alert rules: the model's intervalMs). */
  intervalMs: number;
}

type MacroFunc = (q: BackendQuery, args: string[]) => string;

export class MacroError extends Error {}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const toDateTime = (d: Date) => `toDateTime(${unix(d)})`;
const toDateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
// Go formats the time.Time the SDK builds from epoch milliseconds; the plugin container runs in UTC.
const toDate = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;

function expectArgs(name: string, args: string[], n: number): void {
  if (args.length !== n) {
    throw new MacroError(`$__${name}: unexpected number of arguments: expected ${n} argument${n === 1 ? '' : 's'}, received ${args.length}`);
  }
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const BACKEND_MACROS: Record<string, MacroFunc> = {
  fromTime: (q) => toDateTime(q.from),
  toTime: (q) => toDateTime(q.to),
  fromTime_ms: (q) => toDateTime64(q.from),
  toTime_ms: (q) => toDateTime64(q.to),
  timeFilter: (q, a) => (expectArgs('timeFilter', a, 1), `${a[0]} >= ${toDateTime(q.from)} AND ${a[0]} <= ${toDateTime(q.to)}`),
  timeFilter_ms: (q, a) => (expectArgs('timeFilter_ms', a, 1), `${a[0]} >= ${toDateTime64(q.from)} AND ${a[0]} <= ${toDateTime64(q.to)}`),
  dateFilter: (q, a) => (expectArgs('dateFilter', a, 1), `${a[0]} >= ${toDate(q.from)} AND ${a[0]} <= ${toDate(q.to)}`),
  dateTimeFilter: (q, a) => dateTimeFilter(q, a),
  dt: (q, a) => dateTimeFilter(q, a),
  timeInterval: (q, a) => {
    expectArgs('timeInterval', a, 1);
    const seconds = Math.trunc(Math.max(q.intervalMs / 1000, 1));
    return `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${seconds} second)`;
  },
  timeInterval_ms: (q, a) => {
    expectArgs('timeInterval_ms', a, 1);
    const ms = Math.trunc(Math.max(Math.trunc(q.intervalMs), 1));
    return `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${ms} millisecond)`;
  },
  interval_s: (q) => String(Math.trunc(Math.max(q.intervalMs / 1000, 1))),
  // SDK defaults, used because the plugin does not define these names
  timeFrom: (q, a) => (expectArgs('timeFrom', a, 1), `${a[0]} >= '${rfc3339(q.from)}'`),
  timeTo: (q, a) => (expectArgs('timeTo', a, 1), `${a[0]} <= '${rfc3339(q.to)}'`),
  timeGroup: () => {
    throw new MacroError('$__timeGroup is the SDK default (SQL Server datepart syntax): not valid ClickHouse');
  },
  table: () => '',
  column: () => '',
};

function dateTimeFilter(q: BackendQuery, a: string[]): string {
  expectArgs('dateTimeFilter', a, 2);
  const d = `(${a[0]} >= ${toDate(q.from)} AND ${a[0]} <= ${toDate(q.to)})`;
  const t = `(${a[1]} >= ${toDateTime(q.from)} AND ${a[1]} <= ${toDateTime(q.to)})`;
  return `${d} AND ${t}`;
}

/** Port of sqlutil.getMacroMatches: [fullMatch, argsString][] for one macro name. */
function getMacroMatches(input: string, name: string): Array<[string, string]> {
  const rgx = new RegExp(`\\$__${name}\\b`, 'g');
  const out: Array<[string, string]> = [];
  for (const hit of input.matchAll(rgx)) {
    const macroStart = hit.index;
    const inputCopy = input.slice(macroStart);
    let macroEnd = 0;
    let argStart = 0;
    let forceBreak = false;
    let depth = 0;
    for (let idx = 0; idx < inputCopy.length; idx++) {
      if ((depth === 0 && macroEnd > 0) || forceBreak) break;
      const r = inputCopy[idx];
      if (r === '(') {
        depth++;
        if (argStart === 0) argStart = idx + 1;
      } else if (r === ')') {
        if (depth === 0) {
          macroEnd = 0;
          forceBreak = true;
          continue;
        }
        depth--;
        macroEnd = idx + 1;
      }
    }
    if (macroEnd === 0) macroEnd = hit[0].length;
    const macroString = inputCopy.slice(0, macroEnd);
    const args = argStart > 0 ? inputCopy.slice(argStart, macroEnd - 1) : '';
    out.push([macroString, args]);
  }
  return out;
}

/** Default iteration order; Go iterates its macro map in random order (see `order`). */
export const BACKEND_MACRO_NAMES = Object.keys(BACKEND_MACROS);

/** Port of sqlutil.Interpolate with the ClickHouse plugin's macros. */
export function interpolateBackendMacros(rawSql: string, q: BackendQuery, order: readonly string[] = BACKEND_MACRO_NAMES): string {
  let sql = rawSql;
  for (const key of order) {
    const macro = BACKEND_MACROS[key];
    if (!macro) throw new Error(`unknown macro ${key}`);
    for (const [full, argString] of getMacroMatches(sql, key)) {
      const args = argString.split(',').map((s) => s.trim());
      const res = macro({ ...q }, args);
      sql = sql.split(full).join(res);
    }
  }
  return sql;
}

// ---------------------------------------------------------------------------------------------
// Intervals (Grafana frontend, @grafana/data rangeutil)
// ---------------------------------------------------------------------------------------------

/** rangeutil.roundInterval. */
export function roundInterval(interval: number): number {
  const ladder: Array<[number, number]> = [
    [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000],
    [3500, 2000], [7500, 5000], [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000],
    [90000, 60000], [210000, 120000], [450000, 300000], [750000, 600000], [1050000, 900000],
    [1500000, 1200000], [2700000, 1800000], [5400000, 3600000], [9000000, 7200000],
    [16200000, 10800000], [32400000, 21600000], [86400000, 43200000], [604800000, 86400000],
    [1814400000, 604800000], [3628800000, 2592000000],
  ];
  for (const [limit, value] of ladder) if (interval < limit) return value;
  return 31536000000;
}

const UNIT_SECONDS: Record<string, number> = { y: 31536000, M: 2592000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** rangeutil.intervalToMs ("1h" → 3600000; a bare number is seconds). */
export function intervalToMs(str: string): number {
  if (Number(str)) return parseInt(str, 10) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|[Mwdhmsy])$/.exec(str);
  if (!m) throw new Error(`invalid interval "${str}"`);
  return UNIT_SECONDS[m[2]!]! * 1000 * parseInt(m[1]!, 10);
}

/** rangeutil.calculateInterval: the panel's interval for a range, resolution (max data points) and min interval. */
export function calculateIntervalMs(rangeMs: number, maxDataPoints: number, minInterval?: string): number {
  const lowLimitMs = minInterval ? intervalToMs(minInterval) : 1;
  const intervalMs = roundInterval(rangeMs / maxDataPoints);
  return Math.max(intervalMs, lowLimitMs);
}

// ---------------------------------------------------------------------------------------------
// Whole pipeline
// ---------------------------------------------------------------------------------------------

export interface PanelQueryContext {
  from: Date;
  to: Date;
  variables: readonly VariableState[];
  /** Panel width in points (Grafana uses the panel's pixel width unless maxDataPoints is set). */
  maxDataPoints: number;
  /** The panel's min interval (`interval` field), e.g. "1h". */
  minInterval?: string;
}

/** A dashboard panel's rawSql as ClickHouse receives it. */
export function expandPanelQuery(rawSql: string, ctx: PanelQueryContext, order?: readonly string[]): string {
  const intervalMs = calculateIntervalMs(ctx.to.getTime() - ctx.from.getTime(), ctx.maxDataPoints, ctx.minInterval);
  let sql = applyConditionalAll(rawSql, ctx.variables);
  sql = replaceTemplateVariables(sql, ctx.variables, { from: ctx.from, to: ctx.to, intervalMs });
  return interpolateBackendMacros(sql, { from: ctx.from, to: ctx.to, intervalMs }, order);
}

/** An alert rule query's rawSql as ClickHouse receives it (no dashboard variables in alerting). */
export function expandAlertQuery(rawSql: string, q: BackendQuery, order?: readonly string[]): string {
  return interpolateBackendMacros(rawSql, q, order);
}
