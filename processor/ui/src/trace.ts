// One trace as a waterfall (spans from otel_traces, nested by parent, placed on the trace's time line),
// each span with its GenAI attributes from genai_spans, plus the trace's evaluations and feedback.
import { api, type Result } from './api.js';
import { formatTime, formatValue } from './format.js';
import { zoneLabel } from './timezone.js';

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

function records(r: Result): Array<Record<string, unknown>> {
  return r.rows.map((row) => Object.fromEntries(r.meta.map((c, i) => [c.name, row[i]])));
}

const GENAI_FIELDS: Array<[string, string, (v: unknown, row: Record<string, unknown>) => string | undefined]> = [
  ['Operation', 'operation', (v) => (v ? String(v) : undefined)],
  ['RagStage', 'stage', (v) => (v ? String(v) : undefined)],
  ['Provider', 'provider', (v) => (v ? String(v) : undefined)],
  ['ResponseModel', 'model', (v, r) => String(v || r.RequestModel || '') || undefined],
  ['InputTokens', 'input tokens', (v) => (v == null ? undefined : String(v))],
  ['OutputTokens', 'output tokens', (v) => (v == null ? undefined : String(v))],
  ['CacheReadTokens', 'cache read tokens', (v) => (v ? String(v) : undefined)],
  ['ReasoningTokens', 'reasoning tokens', (v) => (v ? String(v) : undefined)],
  ['CostUSD', 'cost', (v, r) => (v == null || v === '' ? undefined : `$${Number(v).toFixed(6)} (${r.CostSource})`)],
  ['TtftMs', 'time to first token', (v) => (v == null ? undefined : formatValue(Number(v), { unit: 'ms', decimals: 0 }))],
  ['DataSourceId', 'data source', (v) => (v ? String(v) : undefined)],
  ['TopK', 'top k', (v) => (v == null ? undefined : String(v))],
  ['DocumentScores', 'relevance (document scores)', (v) => (Array.isArray(v) && v.length ? v.map((x) => (x == null ? '–' : Number(x).toFixed(3))).join(', ') : undefined)],
  ['DocumentIds', 'documents', (v) => (Array.isArray(v) && v.length ? v.join(', ') : undefined)],
  ['CitationCount', 'citations', (v, r) => (v == null ? undefined : `${v}${r.InvalidCitationCount ? ` (${r.InvalidCitationCount} invalid)` : ''}`)],
  ['CitedDocumentIds', 'cited documents', (v) => (Array.isArray(v) && v.length ? v.join(', ') : undefined)],
  ['ResponseCacheHit', 'response cache hit', (v) => (v == null ? undefined : String(v))],
  ['FinishReasons', 'finish reasons', (v) => (Array.isArray(v) && v.length ? v.join(', ') : undefined)],
  ['ErrorType', 'error', (v) => (v ? String(v) : undefined)],
  ['Feature', 'feature', (v) => (v ? String(v) : undefined)],
  ['Experiment', 'experiment', (v, r) => (v ? `${v} / ${r.Variant}` : undefined)],
  ['UserId', 'user', (v) => (v ? String(v) : undefined)],
];

export async function renderTrace(root: HTMLElement, traceId: string): Promise<void> {
  document.title = `Trace ${traceId} · ragscope`;
  document.body.dataset.state = 'loading';
  const back = el('a', 'back', '← Dashboards');
  back.href = document.referrer && new URL(document.referrer).origin === location.origin ? document.referrer : '/';
  const header = el('header', 'dash-header');
  header.append(el('h1', undefined, `Trace ${traceId}`), back);
  root.replaceChildren(header);
  let data;
  try {
    data = await api.trace(traceId);
  } catch (err) {
    root.append(el('div', 'error', (err as Error).message));
    document.body.dataset.state = 'error';
    return;
  }
  const spans = records(data.spans);
  if (spans.length === 0) {
    root.append(el('div', 'nodata', 'No spans stored for this trace (outside the raw retention, or not ingested).'));
    document.body.dataset.state = 'ready';
    return;
  }
  const genai = new Map(records(data.genai).map((g) => [String(g.SpanId), g]));
  const evals = records(data.evaluations);
  const start = spans.reduce((m, s) => (BigInt(String(s.StartNs)) < m ? BigInt(String(s.StartNs)) : m), BigInt(String(spans[0]!.StartNs)));
  const startMs = (s: Record<string, unknown>) => Number(BigInt(String(s.StartNs)) - start) / 1e6;
  const durMs = (s: Record<string, unknown>) => Number(s.Duration) / 1e6;
  const total = Math.max(...spans.map((s) => startMs(s) + durMs(s)), 0.001);

  const ids = new Set(spans.map((s) => String(s.SpanId)));
  const children = new Map<string, Array<Record<string, unknown>>>();
  for (const s of spans) {
    const parent = ids.has(String(s.ParentSpanId)) ? String(s.ParentSpanId) : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const ordered: Array<{ s: Record<string, unknown>; depth: number }> = [];
  const walk = (parent: string, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => startMs(a) - startMs(b))) {
      ordered.push({ s, depth });
      walk(String(s.SpanId), depth + 1);
    }
  };
  walk('', 0);

  const summary = el('p', 'trace-summary', `${spans.length} spans, ${formatValue(total, { unit: 'ms', decimals: 1 })}, service ${spans[0]!.ServiceName}, started ${formatTime(Number(start / 1_000_000n))} ${zoneLabel(Number(start / 1_000_000n))}`);
  const list = el('div', 'waterfall');
  for (const { s, depth } of ordered) {
    const row = el('details', 'span-row');
    row.dataset.spanId = String(s.SpanId);
    const g = genai.get(String(s.SpanId));
    const error = String(s.StatusCode).toLowerCase().includes('error');
    const sum = el('summary');
    const name = el('span', 'span-name', String(s.SpanName));
    name.style.paddingLeft = `${depth * 14}px`;
    const track = el('span', 'span-track');
    const bar = el('span', error ? 'span-bar error' : g ? 'span-bar genai' : 'span-bar');
    bar.style.left = `${(startMs(s) / total) * 100}%`;
    bar.style.width = `${Math.max((durMs(s) / total) * 100, 0.3)}%`;
    track.append(bar);
    const dur = el('span', 'span-dur', formatValue(durMs(s), { unit: 'ms', decimals: 1 }));
    sum.append(name, track, dur);
    row.append(sum);
    const attrs = el('dl', 'span-attrs');
    const add = (k: string, v: string) => attrs.append(el('dt', undefined, k), el('dd', undefined, v));
    add('span id', String(s.SpanId));
    add('kind', String(s.SpanKind));
    add('status', `${s.StatusCode}${s.StatusMessage ? `: ${s.StatusMessage}` : ''}`);
    if (g) {
      for (const [col, label, fmt] of GENAI_FIELDS) {
        const text = fmt(g[col], g);
        if (text !== undefined) add(label, text);
      }
    }
    for (const e of evals.filter((x) => x.SpanId === s.SpanId)) add(`evaluation ${e.Name}`, `${e.Value ?? ''} ${e.Label ?? ''}`.trim());
    const more = el('details', 'raw-attrs');
    more.append(el('summary', undefined, 'all span attributes'));
    const pre = el('pre', undefined, JSON.stringify(s.SpanAttributes, null, 1));
    more.append(pre);
    row.append(attrs, more);
    if (g) row.open = true;
    list.append(row);
  }
  root.append(summary, list);
  const side = el('section', 'trace-side');
  const traceEvals = evals.filter((e) => !spans.some((s) => s.SpanId === e.SpanId));
  if (traceEvals.length || data.feedback.rows.length) {
    side.append(el('h2', undefined, 'Evaluations and feedback'));
    const ul = el('ul');
    for (const e of traceEvals) ul.append(el('li', undefined, `${e.Name}: ${e.Value ?? ''} ${e.Label ?? ''}`.trim()));
    for (const f of records(data.feedback)) ul.append(el('li', undefined, `${f.Kind}: ${f.Thumbs || (f.Rating != null ? `${f.Rating} ★` : '')} ${f.Comment ?? ''}`.trim()));
    side.append(ul);
    root.append(side);
  }
  document.body.dataset.state = 'ready';
}
