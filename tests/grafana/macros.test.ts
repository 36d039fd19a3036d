import { describe, expect, it } from 'vitest';
import {
  ALL_VALUE,
  applyConditionalAll,
  BACKEND_MACRO_NAMES,
  calculateIntervalMs,
  expandPanelQuery,
  interpolateBackendMacros,
  MacroError,
  replaceTemplateVariables,
  roundInterval,
  type VariableState,
} from '../../processor/src/ui/macros.js';

// The plugin's own test fixture: 2014-11-12T11:45:26.371Z .. 2015-11-12T11:45:26.371Z
const from = new Date('2014-11-12T11:45:26.371Z');
const to = new Date('2015-11-12T11:45:26.371Z');
const q = { from, to, intervalMs: 20_000 };

describe('backend macros (clickhouse-datasource pkg/macros + sqlutil.Interpolate)', () => {
  it('expands the time macros to Unix seconds / milliseconds', () => {
    expect(interpolateBackendMacros('WHERE $__timeFilter(ts)', q)).toBe(
      'WHERE ts >= toDateTime(1415792726) AND ts <= toDateTime(1447328726)',
    );
    expect(interpolateBackendMacros('WHERE $__timeFilter_ms(ts)', q)).toBe(
      'WHERE ts >= fromUnixTimestamp64Milli(1415792726371) AND ts <= fromUnixTimestamp64Milli(1447328726371)',
    );
    expect(interpolateBackendMacros('WHERE $__dateFilter(d)', q)).toBe(
      "WHERE d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')",
    );
    expect(interpolateBackendMacros('WHERE $__dt(d, t)', q)).toBe(
      "WHERE (d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')) AND (t >= toDateTime(1415792726) AND t <= toDateTime(1447328726))",
    );
    expect(interpolateBackendMacros('SELECT $__fromTime, $__toTime)', q)).toBe(
      'SELECT toDateTime(1415792726), toDateTime(1447328726))',
    );
    expect(interpolateBackendMacros('SELECT $__fromTime_ms()', q)).toBe('SELECT fromUnixTimestamp64Milli(1415792726371)');
  });

  it('expands interval macros from the query interval (minimum 1 second)', () => {
    expect(interpolateBackendMacros('SELECT $__timeInterval(col) AS t', q)).toBe(
      'SELECT toStartOfInterval(toDateTime(col), INTERVAL 20 second) AS t',
    );
    expect(interpolateBackendMacros('SELECT $__timeInterval_ms(col) AS t', q)).toBe(
      'SELECT toStartOfInterval(toDateTime64(col, 3), INTERVAL 20000 millisecond) AS t',
    );
    expect(interpolateBackendMacros('toStartOfInterval(col, INTERVAL $__interval_s second)', q)).toBe(
      'toStartOfInterval(col, INTERVAL 20 second)',
    );
    expect(interpolateBackendMacros('INTERVAL $__interval_s second)', { ...q, intervalMs: 200 })).toBe('INTERVAL 1 second)');
  });

  it('splits arguments on every comma, as Go does: nested commas are an argument-count error', () => {
    expect(() => interpolateBackendMacros('WHERE $__timeFilter(coalesce(a, b))', q)).toThrow(MacroError);
  });

  it('reproduces the bare-macro quirk: a following parenthesised group is swallowed', () => {
    // Grafana really sends "SELECT 20 FROM t" for this; the tests must see the same thing.
    expect(interpolateBackendMacros('SELECT $__interval_s AS s, count() FROM t', q)).toBe('SELECT 20 FROM t');
    expect(interpolateBackendMacros('SELECT $__interval_s() AS s, count() FROM t', q)).toBe('SELECT 20 AS s, count() FROM t');
  });

  it('gives the same result in any macro order (Go iterates its map randomly)', () => {
    const sql =
      'SELECT $__timeInterval(Timestamp) AS t, count() FROM x WHERE $__timeFilter(Timestamp) AND d >= $__fromTime() AND $__dateFilter(d)';
    const reference = interpolateBackendMacros(sql, q);
    const reversed = interpolateBackendMacros(sql, q, [...BACKEND_MACRO_NAMES].reverse());
    expect(reversed).toBe(reference);
  });
});

describe('frontend: $__conditionalAll and template variables', () => {
  const vars = (current: string | string[]): VariableState[] => [
    { name: 'service', multi: true, includeAll: true, current, options: ['api', 'worker'] },
  ];
  const sql = 'SELECT 1 WHERE $__conditionalAll(ServiceName IN ($service), $service)';

  it('degrades to 1=1 when All (or nothing) is selected', () => {
    expect(applyConditionalAll(sql, vars([ALL_VALUE]))).toBe('SELECT 1 WHERE 1=1');
    expect(applyConditionalAll(sql, vars([]))).toBe('SELECT 1 WHERE 1=1');
  });

  it('keeps the condition and quotes multi-values', () => {
    const kept = applyConditionalAll(sql, vars(['api', 'worker']));
    expect(kept).toBe('SELECT 1 WHERE ServiceName IN ($service)');
    expect(replaceTemplateVariables(kept, vars(['api', 'worker']))).toBe("SELECT 1 WHERE ServiceName IN ('api','worker')");
    expect(replaceTemplateVariables(kept, vars(['api']))).toBe("SELECT 1 WHERE ServiceName IN ('api')");
  });

  it('expands All to every option when used outside $__conditionalAll', () => {
    expect(replaceTemplateVariables('x IN ($service)', vars([ALL_VALUE]))).toBe("x IN ('api','worker')");
  });

  it('leaves a single-value variable unquoted and unknown names untouched', () => {
    const single: VariableState[] = [{ name: 'sla_ms', current: '2000', options: ['2000'] }];
    expect(replaceTemplateVariables('d > $sla_ms AND $__timeFilter(t) AND $nope', single)).toBe('d > 2000 AND $__timeFilter(t) AND $nope');
    expect(replaceTemplateVariables('${sla_ms} ${sla_ms:singlequote}', single)).toBe("2000 '2000'");
  });

  it('does not touch $__interval_s but does replace $__interval (a frequent mistake)', () => {
    const b = { from, to, intervalMs: 3_600_000 };
    expect(replaceTemplateVariables('INTERVAL $__interval_s second)', [], b)).toBe('INTERVAL $__interval_s second)');
    expect(replaceTemplateVariables('INTERVAL $__interval)', [], b)).toBe('INTERVAL 1h)');
  });

  it('runs the whole pipeline in Grafana order', () => {
    const out = expandPanelQuery(
      'SELECT $__timeInterval(Timestamp) AS time, count() FROM t WHERE $__timeFilter(Timestamp) AND $__conditionalAll(ServiceName IN ($service), $service) GROUP BY time',
      { from, to, variables: vars(['api']), maxDataPoints: 1000, minInterval: '1h' },
    );
    expect(out).toBe(
      "SELECT toStartOfInterval(toDateTime(Timestamp), INTERVAL 21600 second) AS time, count() FROM t WHERE Timestamp >= toDateTime(1415792726) AND Timestamp <= toDateTime(1447328726) AND ServiceName IN ('api') GROUP BY time",
    );
  });
});

describe('interval calculation (@grafana/data rangeutil)', () => {
  it('rounds to Grafana interval steps and honours the min interval', () => {
    expect(roundInterval(86_400_000 / 1000)).toBe(60_000); // 24h over 1000 points → 1m
    expect(roundInterval(7 * 86_400_000 / 1000)).toBe(600_000); // 7d → 10m
    expect(calculateIntervalMs(86_400_000, 1000)).toBe(60_000);
    expect(calculateIntervalMs(86_400_000, 1000, '1h')).toBe(3_600_000);
    expect(calculateIntervalMs(30 * 86_400_000, 1000, '1h')).toBe(3_600_000);
    expect(calculateIntervalMs(90 * 86_400_000, 1000, "1h")).toBe(7_200_000); // 90d → 2h
  });
});
