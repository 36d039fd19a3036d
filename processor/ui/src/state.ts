// What the URL holds, as in Grafana: /d/<uid>?from=now-24h&to=now&var-service=a&var-service=b&refresh=5m
// (from/to are relative expressions or epoch milliseconds), so every view is a shareable link.

import { parseTimeZone, type TimeZone } from './timezone.js';

export const ALL = '$__all';

export interface ViewState {
  from: string;
  to: string;
  refresh: string;
  /** Grafana's `timezone`: "browser" or "utc". */
  timezone: TimeZone;
  vars: Record<string, string[]>;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };

/** "now", "now-7d", epoch ms or an ISO date → epoch ms (relative to `now`). */
export function resolveTime(expr: string, now: number): number {
  if (/^\d{10,}$/.test(expr)) return Number(expr);
  const m = /^now(?:-(\d+)([smhdwMy]))?$/.exec(expr);
  if (m) return m[1] ? now - Number(m[1]) * UNIT_MS[m[2]!]! : now;
  const t = Date.parse(expr);
  if (Number.isNaN(t)) throw new Error(`invalid time "${expr}"`);
  return t;
}

export const PRESETS: Array<{ from: string; label: string }> = [
  { from: 'now-5m', label: 'Last 5 minutes' },
  { from: 'now-15m', label: 'Last 15 minutes' },
  { from: 'now-1h', label: 'Last 1 hour' },
  { from: 'now-6h', label: 'Last 6 hours' },
  { from: 'now-12h', label: 'Last 12 hours' },
  { from: 'now-24h', label: 'Last 24 hours' },
  { from: 'now-2d', label: 'Last 2 days' },
  { from: 'now-7d', label: 'Last 7 days' },
  { from: 'now-30d', label: 'Last 30 days' },
];

export const REFRESH = ['', '5s', '10s', '30s', '1m', '5m', '15m', '1h'];

export function refreshMs(r: string): number {
  const m = /^(\d+)([smh])$/.exec(r);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : 0;
}

export function readState(search: string, defaults: { from: string; to: string; refresh: string; timezone: TimeZone }): ViewState {
  const p = new URLSearchParams(search);
  const vars: Record<string, string[]> = {};
  for (const [k, v] of p) if (k.startsWith('var-')) (vars[k.slice(4)] ??= []).push(v);
  return {
    from: p.get('from') ?? defaults.from,
    to: p.get('to') ?? defaults.to,
    refresh: p.get('refresh') ?? defaults.refresh,
    timezone: parseTimeZone(p.get('timezone')) ?? defaults.timezone,
    vars,
  };
}

export function timeQuery(s: Pick<ViewState, 'from' | 'to'>): string {
  return `from=${encodeURIComponent(s.from)}&to=${encodeURIComponent(s.to)}`;
}

export function varsQuery(vars: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`var-${encodeURIComponent(name)}=${encodeURIComponent(v)}`);
  }
  return parts.join('&');
}

export function stateQuery(s: ViewState, vars: Record<string, string | string[]>): string {
  return [timeQuery(s), varsQuery(vars), `timezone=${s.timezone}`, s.refresh ? `refresh=${encodeURIComponent(s.refresh)}` : ''].filter(Boolean).join('&');
}
