// The built-in viewer's entry: /d/<uid> a dashboard, /trace/<id> a trace, / the first dashboard.
import { api } from './api.js';
import { DashboardView } from './dashboard.js';
import { renderTrace } from './trace.js';

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const trace = /^\/trace\/([0-9a-fA-F]{32})$/.exec(location.pathname);
  if (trace) return renderTrace(root, trace[1]!.toLowerCase());
  const all = await api.dashboards();
  const m = /^\/d\/([\w-]+)/.exec(location.pathname);
  const uid = m?.[1] ?? all.find((d) => d.uid === 'ragscope-overview')?.uid ?? all[0]?.uid;
  if (!uid) {
    root.textContent = 'No dashboards found (grafana/dashboards is empty).';
    return;
  }
  const view = new DashboardView(root, await api.dashboard(uid), all);
  await view.start();
  window.addEventListener('popstate', () => location.reload());
}

main().catch((err: Error) => {
  document.getElementById('app')!.textContent = `ragscope: ${err.message}`;
  document.body.dataset.state = 'error';
});
