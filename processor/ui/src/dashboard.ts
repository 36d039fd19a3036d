// One dashboard: header (dashboards, variables, time range and zone, refresh), the 24-column grid of panels,
// and the data flow: one request per load (/ui/api/load) answering the variables and then each panel as its
// queries finish; each panel is drawn as its answer arrives.
import { api, ApiError, type Dashboard, type Panel, type PanelAnswer, type Variable } from './api.js';
import { formatTime } from './format.js';
import { ECHARTS_PANEL_TYPES, loadEchartsPanels } from './echarts-loader.js';
import { hasRows } from './frames.js';
import { ALL, PRESETS, readState, REFRESH, refreshMs, resolveTime, stateQuery, timeQuery, varsQuery, type ViewState } from './state.js';
import { fromInputValue, parseTimeZone, setTimeZone, toInputValue, zoneLabel, type TimeZone } from './timezone.js';

/** The renderers (and uPlot), fetched and parsed while the first queries run. */
let renderers: Promise<typeof import('./render.js')> | undefined;
const loadRenderers = () => (renderers ??= import('./render.js'));

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
  private inflight?: AbortController;
  private generation = 0;
  private readonly notice = el('div', 'notice');
  private readonly grid = el('div', 'grid');
  private readonly controls = el('div', 'controls');

  constructor(
    private readonly root: HTMLElement,
    private readonly dashboard: Dashboard,
    private readonly all: Array<{ uid: string; title: string; tags: string[] }>,
  ) {}

  async start(): Promise<void> {
    const d = this.dashboard;
    void loadRenderers();
    if (d.panels.some((p) => [p, ...(p.panels ?? [])].some((q) => ECHARTS_PANEL_TYPES.has(q.type)))) void loadEchartsPanels();
    this.state = readState(location.search, {
      from: d.time?.from ?? 'now-24h',
      to: d.time?.to ?? 'now',
      refresh: d.refresh ?? '',
      timezone: parseTimeZone(d.timezone) ?? 'browser',
    });
    setTimeZone(this.state.timezone);
    document.title = `${d.title} · ragscope`;
    const header = el('header', 'dash-header');
    const title = el('h1', undefined, d.title);
    header.append(title, this.controls);
    this.root.replaceChildren(header, this.navigation(), this.notice, this.grid);
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
        const parts = [
          link?.keepTime !== false ? timeQuery(this.state) : '',
          link?.includeVars !== false && this.run ? varsQuery(selectionOf(this.run.variables)) : '',
          `timezone=${this.state.timezone}`,
        ];
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

  /** One request for the range's variables and every panel; `full` also rebuilds the panel grid first. */
  private async load(full: boolean, selection?: Record<string, string | string[]>): Promise<void> {
    const gen = ++this.generation;
    this.inflight?.abort();
    const inflight = (this.inflight = new AbortController());
    window.clearTimeout(this.timer);
    document.body.dataset.state = 'loading';
    const started = performance.now();
    const now = Date.now();
    let from: number;
    let to: number;
    try {
      from = resolveTime(this.state.from, now);
      to = resolveTime(this.state.to, now);
    } catch (err) {
      this.grid.replaceChildren(el('div', 'error', (err as Error).message));
      document.body.dataset.state = 'error';
      return;
    }
    if (full) this.buildGrid();
    const defs = new Map((this.dashboard.templating?.list ?? []).map((v) => [v.name, v as { name: string; multi?: boolean }]));
    const sel: Record<string, string | string[]> = selection ?? Object.fromEntries(Object.entries(this.state.vars).map(([k, v]) => [k, defs.get(k)?.multi ? v : v[0]!]));
    const widths: Record<number, number> = {};
    const drawn: Array<Promise<unknown>> = [];
    for (const { section, body, panel } of this.panelEls.values()) {
      if (panel.type === 'row') continue;
      if (panel.type === 'text') {
        drawn.push(loadRenderers().then((r) => (section.dataset.state = r.renderText(body, panel) ? 'data' : 'nodata')));
        continue;
      }
      widths[panel.id] = Math.max(100, Math.round(body.clientWidth || 600));
      section.dataset.state = 'loading';
      section.classList.add('loading');
    }
    this.notice.replaceChildren();
    let failed = false;
    try {
      await api.load(
        { dashboard: this.dashboard.uid, from, to, selection: sel, widths },
        {
          variables: (variables) => {
            if (gen !== this.generation) return;
            document.body.dataset.variablesMs = String(Math.round(performance.now() - started));
            this.run = { from, to, variables };
            this.renderControls();
            this.pushUrl();
            this.refreshTitles();
          },
          panel: (id, answer) => {
            if (gen === this.generation) drawn.push(this.showPanel(gen, id, answer, { from, to }));
          },
          error: (message) => {
            failed = true;
            this.notice.replaceChildren(el('div', 'error', message));
          },
          queued: (seconds, message) => {
            this.notice.replaceChildren(el('div', 'hint', `${message} (trying again in ${seconds} s)`));
          },
        },
        inflight.signal,
      );
    } catch (err) {
      if (gen !== this.generation) return;
      const e = err as ApiError;
      for (const { section, body } of this.panelEls.values()) {
        if (section.dataset.state !== 'loading') continue;
        body.replaceChildren(el('div', 'error', e.message));
        section.dataset.state = 'error';
        section.classList.remove('loading');
      }
      document.body.dataset.state = 'error';
      // auto-refresh tries again
      this.schedule();
      return;
    }
    await Promise.all(drawn);
    if (gen !== this.generation) return;
    if (!this.run) this.renderFallbackControls(from, to);
    // for tests and bench:ui: how long each full render took, and when it finished (ms since navigation)
    const w = window as unknown as { __ragscope?: { renders: number[]; readyAt: number[] } };
    const stats = (w.__ragscope ??= { renders: [], readyAt: [] });
    stats.renders.push(performance.now() - started);
    stats.readyAt.push(performance.now());
    document.body.dataset.state = failed ? 'error' : 'ready';
    this.schedule();
  }

  /** The time controls alone, when the variables could not be resolved. */
  private renderFallbackControls(from: number, to: number): void {
    this.run = { from, to, variables: [] };
    this.renderControls();
  }

  private async showPanel(gen: number, id: number, answer: PanelAnswer, range: { from: number; to: number }): Promise<void> {
    const entry = this.panelEls.get(id);
    if (!entry) return;
    const { section, body, panel } = entry;
    try {
      if (answer.error !== undefined) {
        if (answer.sql) section.dataset.sql = answer.sql;
        body.replaceChildren(el('div', 'error', answer.error));
        section.dataset.state = 'error';
        return;
      }
      const targets = answer.targets ?? [];
      section.dataset.sql = targets.map((t) => t.sql).join('\n;\n');
      section.dataset.ms = String(targets.reduce((a, t) => a + t.ms, 0));
      const r = await loadRenderers();
      if (gen !== this.generation) return;
      const ok = hasRows(targets) && (await r.drawPanel(body, panel, targets, { range, traceHref: (traceId) => `/trace/${traceId}?${timeQuery(this.state)}&timezone=${this.state.timezone}` }));
      if (!ok && !body.querySelector('.error')) body.replaceChildren(el('div', 'nodata', 'No data'));
      section.dataset.state = ok ? 'data' : body.querySelector('.error') ? 'error' : 'nodata';
    } finally {
      section.classList.remove('loading');
    }
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
    const from = el('input');
    from.type = 'datetime-local';
    from.name = 'from';
    from.value = toInputValue(run.from);
    const to = el('input');
    to.type = 'datetime-local';
    to.name = 'to';
    to.value = toInputValue(run.to);
    const apply = el('button', undefined, 'Apply');
    apply.name = 'apply-range';
    apply.addEventListener('click', () => {
      // read in the dashboard's zone, sent as the instants they name
      const f = fromInputValue(from.value);
      const t = fromInputValue(to.value);
      if (Number.isNaN(f) || Number.isNaN(t) || f >= t) return;
      this.state.from = String(f);
      this.state.to = String(t);
      void this.load(false, selectionOf(run.variables));
    });
    const zone = el('select');
    zone.name = 'timezone';
    zone.title = 'Time zone';
    for (const [value, text] of [
      ['browser', `Browser time: ${zoneLabel(run.to, 'browser')}`],
      ['utc', 'UTC'],
    ] as Array<[TimeZone, string]>) {
      const o = el('option', undefined, text);
      o.value = value;
      o.selected = value === this.state.timezone;
      zone.append(o);
    }
    zone.addEventListener('change', () => {
      this.state.timezone = zone.value as TimeZone;
      setTimeZone(this.state.timezone);
      // the same instants, shown in the other zone
      void this.load(false, selectionOf(run.variables));
    });
    const utc = el('span', 'hint zone', zoneLabel(run.to));
    box.append(preset, from, to, utc, apply, zone);
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
}
