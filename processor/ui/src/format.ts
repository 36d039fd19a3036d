// Grafana's value formatting for the units the dashboards use (@grafana/data valueFormats: short,
// currencyUSD, ms, percentunit), with its automatic decimals when a field sets none.

export interface FieldDisplay {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  noValue?: string;
  thresholds?: { mode?: string; steps: Array<{ value: number | null; color: string }> };
  color?: { mode?: string; fixedColor?: string };
  custom?: Record<string, unknown>;
  mappings?: Array<{ type: string; options: Record<string, { color?: string; text?: string }> }>;
  links?: Array<{ title: string; url: string; internal?: { query?: { format?: number } } }>;
  displayName?: string;
}

/** @grafana/data getDecimalsForValue. */
function autoDecimals(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return 0;
  const abs = Math.abs(value);
  let dec = -Math.floor(Math.log(abs) / Math.LN10) + 1;
  const magn = Math.pow(10, -dec);
  const norm = abs / magn;
  if (norm > 2.25) ++dec;
  if (abs % 1 === 0) dec = 0;
  return Math.max(0, dec);
}

function fixed(value: number, decimals: number | undefined): string {
  const d = decimals ?? autoDecimals(value);
  return value.toFixed(Math.min(Math.max(d, 0), 20));
}

/** Grafana scaledUnits: divide by `factor` until below it, append the unit's suffix. */
function scaled(value: number, decimals: number | undefined, factor: number, suffixes: string[]): string {
  let i = 0;
  let v = value;
  while (Math.abs(v) >= factor && i < suffixes.length - 1) {
    v /= factor;
    i++;
  }
  return fixed(v, decimals) + suffixes[i];
}

function milliseconds(ms: number, decimals: number | undefined): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${fixed(ms, decimals)} ms`;
  if (abs < 60_000) return `${fixed(ms / 1000, decimals)} s`;
  if (abs < 3_600_000) return `${fixed(ms / 60_000, decimals)} min`;
  if (abs < 86_400_000) return `${fixed(ms / 3_600_000, decimals)} hour`;
  return `${fixed(ms / 86_400_000, decimals)} day`;
}

export function formatValue(value: unknown, f: FieldDisplay = {}): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return f.noValue ?? '';
  if (typeof value !== 'number') return String(value);
  switch (f.unit) {
    case 'percentunit':
      return `${fixed(value * 100, f.decimals)}%`;
    case 'percent':
      return `${fixed(value, f.decimals)}%`;
    case 'currencyUSD': {
      const s = scaled(Math.abs(value), f.decimals, 1000, ['', 'K', 'M', 'B', 'T']);
      return `${value < 0 ? '-' : ''}$${s}`;
    }
    case 'ms':
      return milliseconds(value, f.decimals);
    case 's':
      return milliseconds(value * 1000, f.decimals);
    case 'short':
      return scaled(value, f.decimals, 1000, ['', ' K', ' Mil', ' Bil', ' Tri']);
    default:
      return fixed(value, f.decimals);
  }
}

export { formatTime } from './timezone.js';

const NAMED_COLORS: Record<string, string> = {
  green: '#73bf69',
  red: '#f2495c',
  orange: '#ff9830',
  yellow: '#fade2a',
  blue: '#5794f2',
  purple: '#b877d9',
  text: '#d8d9da',
  transparent: 'transparent',
};

export function color(name: string | undefined): string {
  if (!name) return NAMED_COLORS.text!;
  return NAMED_COLORS[name] ?? name;
}

/** Threshold color for a value: the last step whose value is ≤ the value (the first step is the base). */
export function thresholdColor(value: unknown, f: FieldDisplay): string | undefined {
  const steps = f.thresholds?.steps;
  if (!steps?.length || typeof value !== 'number') return undefined;
  let chosen = steps[0]!.color;
  for (const s of steps) if (s.value === null || value >= s.value) chosen = s.color;
  return color(chosen);
}

/** A value mapping's color/text (type "value"), as the one mapping in the dashboards uses. */
export function mapped(value: unknown, f: FieldDisplay): { color?: string; text?: string } | undefined {
  for (const m of f.mappings ?? []) {
    if (m.type === 'value' && value !== null && value !== undefined && m.options[String(value)]) return m.options[String(value)];
  }
  return undefined;
}

/** Grafana's continuous-BlYlRd scheme (blue → yellow → red) at t ∈ [0, 1]. */
export function blYlRd(t: number): string {
  const stops: Array<[number, number, number]> = [
    [49, 54, 149],
    [69, 117, 180],
    [116, 173, 209],
    [171, 217, 233],
    [254, 224, 144],
    [253, 174, 97],
    [244, 109, 67],
    [215, 48, 39],
    [165, 0, 38],
  ];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const a = stops[i]!;
  const b = stops[i + 1]!;
  const k = x - i;
  const c = a.map((v, j) => Math.round(v + (b[j]! - v) * k));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
