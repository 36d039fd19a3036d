/**
 * One definition per number: every provisioned panel and alert rule says where its number comes from, a
 * panel that claims a named query runs that file's SQL, and the "low rated" definition lives only in the
 * low_rated_feedback view (migration 0020). Reads the committed JSON (what ships); no store needed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { queryPanels } from '../../grafana/src/dashboard.js';
import { alertRules } from '../../grafana/src/alerts.js';
import { namedQuerySql } from '../../grafana/src/named-queries.js';
import { listNamedQueries, loadNamedQuery } from '../../processor/src/query/named-queries.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));
const MIGRATIONS_DIR = fileURLToPath(new URL('../../clickhouse/migrations/', import.meta.url));
const dashboards: Dashboard[] = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(DASHBOARD_DIR + f, 'utf8')) as Dashboard);
const panels = dashboards.flatMap((d) =>
  queryPanels(d).map((p) => ({
    where: `${d.uid}/${p.title}`,
    description: p.description ?? '',
    sql: ((p.targets ?? []) as unknown as Array<{ rawSql: string }>).map((t) => t.rawSql).join('\n'),
  })),
);
/** Whitespace-insensitive: wrapped named queries are re-indented inside the panel SQL. */
const flat = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('where each number comes from', () => {
  it('every panel description ends with its definition: a named query, the shared view, or what it computes differently', () => {
    expect(panels.length).toBeGreaterThan(70);
    const missing = panels.filter((p) => !/ (Runs the named query `[a-z0-9_]+` \(clickhouse\/queries\/[a-z0-9_]+\.sql\)\.|Reads the view `[a-z_]+` .*|Own query: .{40,})$/s.test(p.description));
    expect(missing.map((p) => p.where)).toEqual([]);
  });

  it('a panel that runs a named query contains that file’s SQL with the Grafana bindings', () => {
    const named = panels.filter((p) => p.description.includes('Runs the named query'));
    expect(named.length).toBeGreaterThanOrEqual(10);
    const files = new Set(listNamedQueries().map((q) => q.name));
    for (const p of named) {
      const name = /Runs the named query `([a-z0-9_]+)`/.exec(p.description)![1]!;
      expect(files.has(name), `${p.where}: ${name}`).toBe(true);
      // month_end_cost_projection binds `from` to the last 7 days, the confidence panels bind `threshold` to the
      // dashboard variable: compare with the same binding
      const candidates = [namedQuerySql(name), namedQuerySql(name, {}, { from: '$__toTime() - toIntervalDay(7)' })];
      if (loadNamedQuery(name).parameters.some((q) => q.name === 'threshold')) candidates.push(namedQuerySql(name, {}, { threshold: 'toFloat64($confidence_threshold)' }));
      expect(candidates.map(flat).some((c) => flat(p.sql).includes(c)), `${p.where} does not contain ${name}.sql`).toBe(true);
      expect(p.sql, p.where).not.toMatch(/(?<!\$)\{[a-z_]+:[A-Z][A-Za-z0-9()]*\}/); // no unbound ClickHouse parameter left
    }
  });

  it('every alert rule states why it has its own query', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) expect('differs' in r.definition && r.definition.differs.length > 40, r.uid).toBe(true);
  });

  it('"low rated" is defined once: in the low_rated_feedback view, read by the named query and the panels', () => {
    const view = readdirSync(MIGRATIONS_DIR).filter((f) => readFileSync(MIGRATIONS_DIR + f, 'utf8').includes('CREATE VIEW IF NOT EXISTS low_rated_feedback'));
    expect(view).toEqual(['0020_low_rated_feedback.sql']);
    const q = loadNamedQuery('low_rated_requests');
    expect(q.sql).toContain('low_rated_feedback(');
    expect(q.sql).not.toMatch(/NormalizedScore\s*</);
    const lowPanels = panels.filter((p) => /low-rated/i.test(p.where));
    expect(lowPanels.length).toBe(3);
    for (const p of lowPanels) expect(p.sql, p.where).toContain('low_rated_feedback(');
    // the old panel-only definition (thumbs down or rating 1-2) is gone everywhere
    for (const p of panels) expect(p.sql, p.where).not.toMatch(/Rating\s*<=\s*2/);
  });

  it('binding a named query refuses parameters it does not declare and dashboard-bound ones', () => {
    expect(() => namedQuerySql('low_rated_requests', { limt: 10 })).toThrow(/no parameter limt/);
    expect(() => namedQuerySql('low_rated_requests', { tenant: 'x' })).toThrow(/bound to the dashboard/);
    expect(() => namedQuerySql('low_rated_requests', { limit: -1 })).toThrow(/limit:UInt32/);
    expect(namedQuerySql('low_rated_requests', { limit: 7 })).toMatch(/LIMIT 7\b/);
  });
});
