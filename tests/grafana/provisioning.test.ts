/**
 * The committed Grafana files are exactly what `npm run build:dashboards` generates, parse, and are
 * consistent: unique uids within Grafana's limits, every query pointing at the provisioned data source,
 * links between the dashboards, alert rules shaped query → reduce → threshold.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { generatedFiles } from '../../grafana/src/provisioning.js';
import { DATASOURCE } from '../../grafana/src/clickhouse.js';
import { ALERT_DEFAULTS, alertRules } from '../../grafana/src/alerts.js';
import { FILTER_VARIABLES } from '../../grafana/src/variables.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string) => readFileSync(ROOT + rel, 'utf8');
const files = generatedFiles();
const yamlDoc = <T>(rel: string) => parse(read(rel)) as T;

// The fields of the provisioned YAML documents the assertions below read (parsed, not validated: the tests check them).
interface DataSourceDoc {
  jsonData: Record<string, unknown> & { traces: { defaultTable: string } };
  secureJsonData: { password: string };
}
interface AlertQueryDoc {
  relativeTimeRange: { from: number };
  model: { conditions: { evaluator: { params: number[] } }[] };
}
interface AlertRuleDoc {
  uid: string;
  condition: string;
  data: AlertQueryDoc[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface ContactPointDoc {
  name: string;
  receivers: unknown[];
}
interface PolicyDoc {
  receiver: string;
  routes: { receiver: string }[];
  group_by: string[];
}

const dashboardFiles = readdirSync(ROOT + 'grafana/dashboards').filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => JSON.parse(read(`grafana/dashboards/${f}`)) as Dashboard);

function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels ?? []) {
    out.push(p as Panel);
    for (const inner of (p as RowPanel).panels ?? []) out.push(inner as Panel);
  }
  return out;
}

describe('generated files', () => {
  it('the committed files equal what the code generates (run `npm run build:dashboards`)', () => {
    for (const [rel, content] of files) {
      expect(existsSync(ROOT + rel), `${rel} is not committed`).toBe(true);
      expect(read(rel), `${rel} differs from the generator`).toBe(content);
    }
    const generatedDashboards = [...files.keys()].filter((k) => k.startsWith('grafana/dashboards/')).map((k) => k.slice('grafana/dashboards/'.length));
    expect(dashboardFiles.sort()).toEqual(generatedDashboards.sort());
  });

  it('every YAML file parses', () => {
    for (const rel of files.keys()) if (rel.endsWith('.yaml')) expect(() => parse(read(rel)), rel).not.toThrow();
  });
});

describe('data source and providers', () => {
  const ds = yamlDoc<{ datasources: DataSourceDoc[] }>('grafana/provisioning/datasources/ragscope.yaml').datasources;

  it('provisions the ClickHouse data source with a fixed uid and connection settings from the environment', () => {
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ uid: DATASOURCE.uid, type: 'grafana-clickhouse-datasource', name: DATASOURCE.name });
    for (const key of ['host', 'port', 'protocol', 'username', 'defaultDatabase']) expect(ds[0]!.jsonData[key], key).toMatch(/^\$[A-Z_]+$/);
    expect(ds[0]!.secureJsonData.password).toMatch(/^\$[A-Z_]+$/);
    expect(ds[0]!.jsonData.traces.defaultTable).toBe('otel_traces');
  });

  it('loads the dashboards into the "ragscope" folder', () => {
    const p = yamlDoc<{ providers: unknown[] }>('grafana/provisioning/dashboards/ragscope.yaml').providers;
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ folder: 'ragscope', type: 'file' });
  });
});

describe('dashboards', () => {
  it('are the eight ragscope dashboards', () => {
    expect(dashboards.map((d) => d.title).sort()).toEqual(
      [
        'ragscope / Overview',
        'ragscope / Latency',
        'ragscope / Tokens & cost',
        'ragscope / Retrieval quality',
        'ragscope / Feedback & evaluations',
        'ragscope / Experiments',
        'ragscope / Usage patterns',
        'ragscope / Conversations & users',
      ].sort(),
    );
  });

  it('have unique uids within Grafana\'s 40-character limit', () => {
    const uids = dashboards.map((d) => d.uid!);
    expect(new Set(uids).size).toBe(uids.length);
    for (const u of uids) expect(u, u).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
  });

  it('every panel, target and variable reads the provisioned data source', () => {
    for (const d of dashboards) {
      for (const p of allPanels(d)) {
        if (p.type === 'row' || p.type === 'text') continue;
        expect(p.datasource, `${d.uid}/${p.title}`).toEqual({ type: DATASOURCE.type, uid: DATASOURCE.uid });
        expect(p.targets?.length, `${d.uid}/${p.title} has no query`).toBeGreaterThan(0);
        for (const t of p.targets as unknown as Array<Record<string, unknown>>) {
          expect(t.datasource, `${d.uid}/${p.title}`).toEqual({ type: DATASOURCE.type, uid: DATASOURCE.uid });
          expect(t).toMatchObject({ editorType: 'sql' });
          expect(typeof t.rawSql).toBe('string');
          expect([0, 1]).toContain(t.format);
        }
      }
      for (const v of d.templating?.list ?? []) if (v.type === 'query') expect(v.datasource, `${d.uid}/$${v.name}`).toEqual({ type: DATASOURCE.type, uid: DATASOURCE.uid });
    }
  });

  it('have unique panel ids and fit the 24-column grid', () => {
    for (const d of dashboards) {
      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size, d.uid).toBe(ids.length);
      for (const p of allPanels(d)) {
        const g = p.gridPos!;
        expect(g.x + g.w, `${d.uid}/${p.title}`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('share the five filters (multi-select with All) and use $__conditionalAll for them', () => {
    for (const d of dashboards) {
      const vars = d.templating?.list ?? [];
      for (const name of FILTER_VARIABLES) {
        const v = vars.find((x) => x.name === name);
        expect(v, `${d.uid} lacks $${name}`).toBeDefined();
        expect(v).toMatchObject({ type: 'query', multi: true, includeAll: true });
        expect(v!.current?.value).toEqual(['$__all']);
      }
      const sql = allPanels(d)
        .flatMap((p) => (p.targets ?? []) as unknown as Array<{ rawSql: string }>)
        .map((t) => t.rawSql)
        .join('\n');
      // a filter variable is only ever used through $__conditionalAll (never a bare IN that breaks on All)
      for (const name of FILTER_VARIABLES) {
        const uses = sql.match(new RegExp(`\\$${name}\\b`, 'g'))?.length ?? 0;
        const guarded = sql.match(new RegExp(`\\$__conditionalAll\\([^\\n]*?\\(\\$${name}\\)[^\\n]*?, \\$${name}\\)`, 'g'))?.length ?? 0;
        expect(uses, `${d.uid}: $${name}`).toBe(guarded * 2);
      }
    }
  });

  it('link to each other (ragscope dashboards dropdown, keeping time range and variables)', () => {
    for (const d of dashboards) {
      expect(d.links).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'dashboards', tags: ['ragscope'], includeVars: true, keepTime: true })]));
      expect(d.tags).toContain('ragscope');
    }
    const urls = dashboards.flatMap((d) => allPanels(d).flatMap((p) => (p.links ?? []).map((l) => l.url ?? '')));
    for (const u of urls) {
      const uid = /^\/d\/([^?]+)/.exec(u)?.[1];
      expect(dashboards.some((d) => d.uid === uid), `panel link to unknown dashboard ${u}`).toBe(true);
    }
  });

  it('the slowest-requests table links each trace id to the trace view (otel_traces)', () => {
    const latency = dashboards.find((d) => d.uid === 'ragscope-latency')!;
    const slowest = allPanels(latency).find((p) => p.title === 'Slowest requests')!;
    const link = slowest.fieldConfig!.overrides!.flatMap((o) => o.properties).find((p) => p.id === 'links')!.value[0];
    expect(link.internal.datasourceUid).toBe(DATASOURCE.uid);
    expect(link.internal.query).toMatchObject({ format: 3, queryType: 'traces', editorType: 'sql' });
    expect(link.internal.query.rawSql).toContain('FROM otel_traces');
    expect(link.internal.query.rawSql).toContain("'${__value.raw}'");
  });
});

describe('alerting', () => {
  const rulesDoc = yamlDoc<{ groups: Array<{ name: string; folder: string; interval: string; rules: AlertRuleDoc[] }> }>('grafana/provisioning/alerting/rules.yaml');
  const rules = rulesDoc.groups.flatMap((g) => g.rules);

  it('rules have unique uids within Grafana\'s 40-character limit, in the ragscope folder', () => {
    const uids = rules.map((r) => r.uid as string);
    expect(new Set(uids).size).toBe(uids.length);
    for (const u of uids) expect(u).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    for (const g of rulesDoc.groups) expect(g.folder).toBe('ragscope');
    expect(uids.sort()).toEqual(alertRules().map((r) => r.uid).sort());
  });

  it('each rule is ClickHouse query → reduce → threshold on the provisioned data source', () => {
    for (const r of rules) {
      const [a, b, c] = r.data;
      expect(r.condition).toBe('C');
      expect(a).toMatchObject({ refId: 'A', datasourceUid: DATASOURCE.uid, model: { datasource: { uid: DATASOURCE.uid }, editorType: 'sql', format: 1 } });
      expect(a!.relativeTimeRange.from).toBeGreaterThan(0);
      expect(b).toMatchObject({ refId: 'B', datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A' } });
      expect(c).toMatchObject({ refId: 'C', datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B' } });
      expect(c!.model.conditions[0].evaluator.params.length).toBeGreaterThan(0);
    }
  });

  it('labels carry no $ (Grafana expands environment variables in provisioned labels) and annotations link a dashboard', () => {
    const uids = new Set(dashboards.map((d) => d.uid));
    for (const r of rules) {
      for (const [k, v] of Object.entries(r.labels as Record<string, string>)) expect(`${k}=${v}`).not.toContain('$');
      expect(r.annotations.summary).toBeTruthy();
      expect(uids.has(r.annotations.__dashboardUid__), r.uid).toBe(true);
      expect(r.annotations.dashboard).toMatch(/^\/d\/ragscope-/);
      const d = dashboards.find((x) => x.uid === r.annotations.__dashboardUid__)!;
      expect(allPanels(d).some((p) => String(p.id) === r.annotations.__panelId__), `${r.uid}: panel ${r.annotations.__panelId__}`).toBe(true);
      // template syntax: every {{ has its }}
      for (const v of Object.values(r.annotations as Record<string, string>)) expect(v.split('{{').length, v).toBe(v.split('}}').length);
    }
  });

  it('thresholds are the documented defaults', () => {
    const byUid = new Map(rules.map((r) => [r.uid as string, r.data[2].model.conditions[0].evaluator.params[0] as number]));
    expect(byUid.get('ragscope-latency-p95-sla')).toBe(ALERT_DEFAULTS.latency.slaMs);
    expect(byUid.get('ragscope-error-rate')).toBe(ALERT_DEFAULTS.errorRate.threshold);
    expect(byUid.get('ragscope-cost-anomaly')).toBe(ALERT_DEFAULTS.costAnomaly.factor);
    expect(byUid.get('ragscope-thumbs-down-spike')).toBe(ALERT_DEFAULTS.thumbsDown.increase);
    const doc = read('docs/grafana.md');
    for (const spec of alertRules()) expect(doc, `docs/grafana.md does not document ${spec.uid}`).toContain(spec.uid);
  });

  it('a webhook contact point whose URL comes from the environment, and a notification policy routing to it', () => {
    const cp = yamlDoc<{ contactPoints: ContactPointDoc[] }>('grafana/provisioning/alerting/contact-points.yaml').contactPoints;
    expect(cp[0]!.receivers[0]).toMatchObject({ type: 'webhook', settings: { url: '$RAGSCOPE_ALERT_WEBHOOK_URL' } });
    const pol = yamlDoc<{ policies: PolicyDoc[] }>('grafana/provisioning/alerting/policies.yaml').policies;
    expect(pol[0]!.receiver).toBe(cp[0]!.name);
    for (const r of pol[0]!.routes) expect(r.receiver).toBe(cp[0]!.name);
    expect(pol[0]!.group_by).toEqual(expect.arrayContaining(['alertname', 'service']));
  });
});
