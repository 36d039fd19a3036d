/**
 * Common dashboard frame: uid, tags, time range, the shared filter variables, links to the other
 * ragscope dashboards, and stable panel ids.
 */
import { DashboardBuilder, DashboardLinkBuilder, DashboardLinkType, DashboardCursorSync, RowBuilder, TimePickerBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { filterVariables } from './variables.js';

export const TAG = 'ragscope';

/** Dashboard uids (≤ 40 chars, Grafana's limit). */
export const UID = {
  overview: 'ragscope-overview',
  latency: 'ragscope-latency',
  tokensCost: 'ragscope-tokens-cost',
  retrieval: 'ragscope-retrieval',
  feedback: 'ragscope-feedback',
  experiments: 'ragscope-experiments',
  usage: 'ragscope-usage',
  conversations: 'ragscope-conversations',
} as const;

export type Section = { row?: string; collapsed?: boolean; panels: Array<cog.Builder<Panel>> };

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  sections: Section[];
  extraVariables?: Array<cog.Builder<VariableModel>>;
  time?: { from: string; to: string };
}

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG])
    .editable()
    .timezone('browser')
    .time(spec.time ?? { from: 'now-24h', to: 'now' })
    .refresh('5m')
    .tooltip(DashboardCursorSync.Crosshair)
    .timepicker(new TimePickerBuilder().refreshIntervals(['1m', '5m', '15m', '30m', '1h']))
    .link(
      new DashboardLinkBuilder('ragscope')
        .type(DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true)
        .targetBlank(false)
        .icon('external link')
        .tooltip('')
        .url(''),
    );
  for (const v of filterVariables()) d.withVariable(v);
  for (const v of spec.extraVariables ?? []) d.withVariable(v);
  for (const s of spec.sections) {
    if (s.row !== undefined) {
      const row = new RowBuilder(s.row).collapsed(s.collapsed ?? false);
      if (s.collapsed) {
        for (const p of s.panels) row.withPanel(p);
        d.withRow(row);
      } else {
        d.withRow(row);
        for (const p of s.panels) d.withPanel(p);
      }
    } else {
      for (const p of s.panels) d.withPanel(p);
    }
  }
  const built = d.build();
  relayout(built);
  // The SDK fills dashboard-link fields meaningless on panel links, and `placement: inControlsMenu`
  // would tuck the dashboards dropdown into Grafana 12+'s controls menu: keep links plain and visible.
  for (const l of built.links ?? []) delete (l as { placement?: string }).placement;
  for (const p of built.panels ?? []) {
    const panel = p as Panel;
    if (panel.links) panel.links = panel.links.map((l) => ({ title: l.title, url: l.url, targetBlank: false }) as (typeof panel.links)[number]);
  }
  // Stable panel ids in layout order (Grafana would assign them on load; links need them fixed).
  let id = 1;
  for (const p of built.panels ?? []) {
    (p as Panel | RowPanel).id = id++;
    for (const inner of (p as RowPanel).panels ?? []) inner.id = id++;
  }
  return built;
}

/**
 * Left-to-right, top-to-bottom flow on Grafana's 24-column grid: a panel that does not fit on the
 * current line starts a new one (the SDK's builder only wraps after a line is full), a row header
 * always starts a new line.
 */
function relayout(d: Dashboard): void {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  const place = (g: { x: number; y: number; w: number; h: number }) => {
    if (x + g.w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    g.x = x;
    g.y = y;
    x += g.w;
    lineHeight = Math.max(lineHeight, g.h);
  };
  for (const p of d.panels ?? []) {
    const g = p.gridPos!;
    if (p.type === 'row') {
      y += lineHeight;
      x = 0;
      g.x = 0;
      g.y = y;
      g.w = 24;
      g.h = 1;
      y += 1;
      lineHeight = 0;
      let innerY = y;
      for (const inner of (p as RowPanel).panels ?? []) {
        inner.gridPos!.y = innerY;
        innerY += inner.gridPos!.h;
      }
    } else {
      place(g);
    }
  }
}

/** Every panel with queries, including those inside collapsed rows. */
export function queryPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels ?? []) {
    if (p.type === 'row') out.push(...(((p as RowPanel).panels ?? []) as Panel[]));
    else out.push(p as Panel);
  }
  return out.filter((p) => (p.targets ?? []).length > 0);
}
