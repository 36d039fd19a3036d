// The built-in viewer's entry: /d/<uid> a dashboard, /trace/<id> a trace, / the first dashboard.
// The page carries the dashboard list and the opened dashboard (route.ts inlines them), so the first
// query is sent without waiting for them.
import { api, type Dashboard } from './api.js';
import { DashboardView } from './dashboard.js';
import { renderTrace } from './trace.js';
import { parseTimeZone, setTimeZone } from './timezone.js';

interface Boot {
  dashboards: Array<{ uid: string; title: string; tags: string[] }>;
  dashboard: Dashboard | null;
}

function boot(): Boot | undefined {
  const text = document.getElementById('boot')?.textContent;
  return text ? (JSON.parse(text) as Boot) : undefined;
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const trace = /^\/trace\/([0-9a-fA-F]{32})$/.exec(location.pathname);
  if (trace) {
    setTimeZone(parseTimeZone(new URLSearchParams(location.search).get('timezone')) ?? 'browser');
    return renderTrace(root, trace[1]!.toLowerCase());
  }
  const inlined = boot();
  const all = inlined?.dashboards ?? (await api.dashboards());
  const m = /^\/d\/([\w-]+)/.exec(location.pathname);
  const uid = m?.[1] ?? all.find((d) => d.uid === 'ragscope-overview')?.uid ?? all[0]?.uid;
  if (!uid) {
    root.textContent = 'No dashboards found (grafana/dashboards is empty).';
    return;
  }
  const dashboard = inlined?.dashboard?.uid === uid ? inlined.dashboard : await api.dashboard(uid);
  const view = new DashboardView(root, dashboard, all);
  await view.start();
  window.addEventListener('popstate', () => location.reload());
}

main().catch((err: Error) => {
  document.getElementById('app')!.textContent = `ragscope: ${err.message}`;
  document.body.dataset.state = 'error';
});
