// One dashboard: header (dashboards, variables, time range, refresh), the 24-column grid of panels, and
// the data flow Grafana follows: resolve variables for the range, then every panel's query at once.
import { api, ApiError, type Dashboard, type Panel, type TargetResult, type Variable } from './api.js';
import { formatTime } from './format.js';
import { hasRows } from './frames.js';
import { renderBarChart } from './panels/barchart.js';
import { renderBarGauge } from './panels/bargauge.js';
import { renderPieChart } from './panels/piechart.js';
import { renderStat } from './panels/stat.js';
import { renderTable } from './panels/table.js';
import { renderText } from './panels/text.js';
import { renderTimeSeries } from './panels/timeseries.js';
import { ALL, PRESETS, readState, REFRESH, refreshMs, resolveTime, stateQuery, timeQuery, varsQuery, type ViewState } from './state.js';

interface Run {
  from: number;
  to: number;
  variables: Variable[];
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/** Dashboard variable values as the URL and the API carry them. */
function selectionOf(vars: Variable[]): Record<string, string | string[]> {
  return Object.fromEntries(vars.map((v) => [v.name, v.current]));
}

/** `$var`, `${var}` and `${var:text}` in titles, as Grafana interpolates panel titles. */
function interpolateTitle(title: string, vars: Variable[]): string {
  return title.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (m, a: string, fmt: string, b: string) => {
    const v = vars.find((x) => x.name === (a ?? b));
    if (!v) return m;
    const values = Array.isArray(v.current) ? v.current : [v.current];
    if (values[0] === ALL) return 'All';
    if (fmt === 'text') return values.map((x) => v.options.find((o) => o.value === x)?.text ?? x).join(' + ');
    return values.join(',');
  });
}

export class DashboardView {
  private state!: ViewState;
  private run?: Run;
  private timer?: number;
  private generation = 0;
  private readonly grid = el('div', 'grid');
  private readonly controls = el('div', 'controls');

  constructor(
    private readonly root: HTMLElement,
    private readonly dashboard: Dashboard,
    private readonly all: Array<{ uid: string; title: string; tags: string[] }>,
  ) {}

  async start(): Promise<void> {
    const d = this.dashboard;
    this.state = readState(location.search, { from: d.time?.from ?? 'now-24h', to: d.time?.to ?? 'now', refresh: d.refresh ?? '' });
    document.title = `${d.title} · ragscope`;
    const header = el('header', 'dash-header');
    const title = el('h1', undefined, d.title);
    header.append(title, this.controls);
    this.root.replaceChildren(header, this.navigation(), this.grid);
    await this.load(true);
  }

  /** Dashboard links (type "dashboards", by tag), keeping time range and variables as the JSON asks. */
  private navigation(): HTMLElement {
    const nav = el('nav', 'dash-nav');
    const link = this.dashboard.links?.find((l) => l.type === 'dashboards');
    for (const other of this.all) {
      if (link?.tags?.length && !link.tags.some((t) => other.tags.includes(t))) continue;
      const a = el('a', other.uid === this.dashboard.uid ? 'active' : '', other.title.replace(/^ragscope \/ /, ''));
      a.dataset.uid = other.uid;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        const parts = [link?.keepTime !== false ? timeQuery(this.state) : '', link?.includeVars !== false && this.run ? varsQuery(selectionOf(this.run.variables)) : ''];
        location.assign(`/d/${other.uid}?${parts.filter(Boolean).join('&')}`);
      });
      a.href = `/d/${other.uid}`;
      nav.append(a);
    }
    return nav;
  }

  private pushUrl(): void {
    const url = `/d/${this.dashboard.uid}?${stateQuery(this.state, this.run ? selectionOf(this.run.variables) : {})}`;
    if (url !== location.pathname + location.search) history.pushState(null, '', url);
  }

  /** Resolve the range and variables, then run every panel; `full` also rebuilds the panel grid. */
  private async load(full: boolean, selection?: Record<string, string | string[]>): Promise<void> {
    const gen = ++this.generation;
    document.body.dataset.state = 'loading';
    const now = Date.now();
    let from: number;
    let to: number;
    try {
      from = resolveTime(this.state.from, now);
      to = resolveTime(this.state.to, now);
    } catch (err) {
      this.grid.replaceChildren(el('div', 'error', (err as Error).message));
      return;
    }
    const defs = new Map((this.dashboard.templating?.list ?? []).map((v) => [v.name, v as { name: string; multi?: boolean }]));
    const sel: Record<string, string | string[]> = selection ?? Object.fromEntries(Object.entries(this.state.vars).map(([k, v]) => [k, defs.get(k)?.multi ? v : v[0]!]));
    let variables: Variable[];
    const variablesStarted = performance.now();
    try {
      variables = (await api.variables(this.dashboard.uid, from, to, sel)).variables;
      document.body.dataset.variablesMs = String(Math.round(performance.now() - variablesStarted));
    } catch (err) {
      this.grid.replaceChildren(el('div', 'error', `variables: ${(err as Error).message}`));
      document.body.dataset.state = 'error';
      return;
    }
    if (gen !== this.generation) return;
    this.run = { from, to, variables };
    this.renderControls();
    this.pushUrl();
    if (full) this.buildGrid();
    this.refreshTitles();
    await this.runPanels(gen);
    this.schedule();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    const ms = refreshMs(this.state.refresh);
    if (ms > 0) this.timer = window.setTimeout(() => void this.load(false, this.run ? selectionOf(this.run.variables) : undefined), ms);
  }

  private renderControls(): void {
    const run = this.run!;
    const controls: HTMLElement[] = [];
    for (const v of run.variables) {
      if (v.hidden) continue;
      const label = el('label', 'var');
      label.append(el('span', undefined, v.label));
      const select = el('select');
      select.name = `var-${v.name}`;
      select.multiple = v.multi;
      if (v.multi) select.size = 1;
      const current = Array.isArray(v.current) ? v.current : [v.current];
      const options = v.includeAll ? [{ text: 'All', value: ALL }, ...v.options] : v.options;
      for (const o of options) {
        const opt = el('option', undefined, o.text);
        opt.value = o.value;
        opt.selected = current.includes(o.value);
        select.append(opt);
      }
      for (const c of current) {
        if (c !== ALL && !v.options.some((o) => o.value === c)) {
          const opt = el('option', undefined, c);
          opt.value = c;
          opt.selected = true;
          select.append(opt);
        }
      }
      select.addEventListener('change', () => {
        let chosen = [...select.selectedOptions].map((o) => o.value);
        // picking a value while All is selected replaces All, as in Grafana
        if (v.multi && chosen.length > 1 && chosen.includes(ALL)) chosen = current.includes(ALL) ? chosen.filter((c) => c !== ALL) : [ALL];
        const sel = selectionOf(run.variables);
        sel[v.name] = v.multi ? (chosen.length ? chosen : [ALL]) : chosen[0]!;
        void this.load(false, sel);
      });
      label.append(select);
      controls.push(label);
    }
    controls.push(this.timePicker(run), this.refreshPicker());
    this.controls.replaceChildren(...controls);
  }

  private timePicker(run: Run): HTMLElement {
    const box = el('div', 'timepicker');
    const preset = el('select');
    preset.name = 'range';
    const isPreset = this.state.to === 'now' && PRESETS.some((p) => p.from === this.state.from);
    const custom = el('option', undefined, isPreset ? 'Custom range' : `${formatTime(run.from)} to ${formatTime(run.to)}`);
    custom.value = '';
    preset.append(custom);
    for (const p of PRESETS) {
      const o = el('option', undefined, p.label);
      o.value = p.from;
      o.selected = isPreset && p.from === this.state.from;
      preset.append(o);
    }
    preset.addEventListener('change', () => {
      if (!preset.value) return;
      this.state.from = preset.value;
      this.state.to = 'now';
      void this.load(false, selectionOf(run.variables));
    });
    const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const from = el('input');
    from.type = 'datetime-local';
    from.name = 'from';
    from.value = local(run.from);
    const to = el('input');
    to.type = 'datetime-local';
    to.name = 'to';
    to.value = local(run.to);
    const apply = el('button', undefined, 'Apply');
    apply.name = 'apply-range';
    apply.addEventListener('click', () => {
      const f = Date.parse(from.value + 'Z');
      const t = Date.parse(to.value + 'Z');
      if (Number.isNaN(f) || Number.isNaN(t) || f >= t) return;
      this.state.from = String(f);
      this.state.to = String(t);
      void this.load(false, selectionOf(run.variables));
    });
    const utc = el('span', 'hint', 'UTC');
    box.append(preset, from, to, utc, apply);
    return box;
  }

  private refreshPicker(): HTMLElement {
    const select = el('select');
    select.name = 'refresh';
    select.title = 'Auto-refresh';
    for (const r of REFRESH) {
      const o = el('option', undefined, r ? `↻ ${r}` : '↻ off');
      o.value = r;
      o.selected = r === this.state.refresh;
      select.append(o);
    }
    select.addEventListener('change', () => {
      this.state.refresh = select.value;
      this.pushUrl();
      this.schedule();
    });
    const now = el('button', undefined, '↻');
    now.name = 'refresh-now';
    now.title = 'Refresh now';
    now.addEventListener('click', () => void this.load(false, this.run ? selectionOf(this.run.variables) : undefined));
    const box = el('div', 'refresh');
    box.append(now, select);
    return box;
  }

  private panelEls = new Map<number, { section: HTMLElement; title: HTMLElement; body: HTMLElement; panel: Panel }>();

  private buildGrid(): void {
    this.panelEls.clear();
    const sections: HTMLElement[] = [];
    const panels = this.dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    for (const p of panels) {
      const g = p.gridPos;
      const section = el('section', p.type === 'row' ? 'row-panel' : 'panel');
      section.style.gridColumn = `${g.x + 1} / span ${g.w}`;
      section.style.gridRow = `${g.y + 1} / span ${p.type === 'row' ? 1 : g.h}`;
      section.dataset.panelId = String(p.id);
      section.dataset.type = p.type;
      const head = el('div', 'panel-head');
      const title = el('h2', undefined, p.title ?? '');
      head.append(title);
      if (p.description) {
        const info = el('span', 'info', 'i');
        info.title = p.description;
        head.append(info);
      }
      for (const l of p.links ?? []) {
        const a = el('a', 'panel-link', '↗');
        a.title = l.title;
        a.setAttribute('aria-label', l.title);
        a.dataset.url = l.url;
        head.append(a);
      }
      const body = el('div', 'panel-body');
      section.append(head);
      if (p.type !== 'row') section.append(body);
      sections.push(section);
      this.panelEls.set(p.id, { section, title, body, panel: p });
    }
    this.grid.replaceChildren(...sections);
  }

  private refreshTitles(): void {
    const run = this.run!;
    for (const { title, panel, section } of this.panelEls.values()) {
      title.textContent = interpolateTitle(panel.title ?? '', run.variables);
      for (const a of section.querySelectorAll<HTMLAnchorElement>('a.panel-link')) {
        a.href = a.dataset.url!.replace('${__url_time_range}', timeQuery(this.state)).replace('${__all_variables}', varsQuery(selectionOf(run.variables)));
      }
    }
  }

  private async runPanels(gen: number): Promise<void> {
    const run = this.run!;
    const started = performance.now();
    const jobs = [...this.panelEls.values()].map(async ({ section, body, panel }) => {
      if (panel.type === 'row') return;
      if (panel.type === 'text') {
        section.dataset.state = renderText(body, panel) ? 'data' : 'nodata';
        return;
      }
      section.dataset.state = 'loading';
      section.classList.add('loading');
      try {
        const width = Math.max(100, Math.round(body.clientWidth || 600));
        const { targets } = await api.panel(this.dashboard.uid, panel.id, run.from, run.to, run.variables, width);
        if (gen !== this.generation) return;
        section.dataset.sql = targets.map((t) => t.sql).join('\n;\n');
        section.dataset.ms = String(targets.reduce((a, t) => a + t.ms, 0));
        const ok = hasRows(targets) && this.draw(body, panel, targets);
        if (!ok) body.replaceChildren(el('div', 'nodata', 'No data'));
        section.dataset.state = ok ? 'data' : 'nodata';
      } catch (err) {
        if (gen !== this.generation) return;
        const e = err as ApiError;
        const box = el('div', 'error', e.message);
        if (e.sql) section.dataset.sql = e.sql;
        body.replaceChildren(box);
        section.dataset.state = 'error';
      } finally {
        section.classList.remove('loading');
      }
    });
    await Promise.all(jobs);
    if (gen !== this.generation) return;
    // for tests and bench:ui: how long each full render took, and when it finished (ms since navigation)
    const w = window as unknown as { __ragscope?: { renders: number[]; readyAt: number[] } };
    const stats = (w.__ragscope ??= { renders: [], readyAt: [] });
    stats.renders.push(performance.now() - started);
    stats.readyAt.push(performance.now());
    document.body.dataset.state = 'ready';
  }

  private draw(body: HTMLElement, panel: Panel, targets: TargetResult[]): boolean {
    const range = { from: this.run!.from, to: this.run!.to };
    switch (panel.type) {
      case 'timeseries':
        return renderTimeSeries(body, panel, targets, range);
      case 'barchart':
        return renderBarChart(body, panel, targets);
      case 'piechart':
        return renderPieChart(body, panel, targets);
      case 'stat':
        return renderStat(body, panel, targets);
      case 'bargauge':
        return renderBarGauge(body, panel, targets);
      case 'table':
        return renderTable(body, panel, targets, { traceHref: (id) => `/trace/${id}?${timeQuery(this.state)}` });
      default:
        body.replaceChildren(el('div', 'error', `panel type "${panel.type}" is not supported by the built-in viewer`));
        return false;
    }
  }
}
