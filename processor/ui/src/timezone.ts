// The dashboard time zone, as Grafana's: "browser" (the browser's local time, the default) or "utc", from the
// URL's `timezone` parameter or the dashboard JSON. It decides how times are shown (axis labels, tables, the
// time picker) and how a typed custom range is read; the range sent is epoch milliseconds either way.

export type TimeZone = 'browser' | 'utc';

let current: TimeZone = 'browser';

/** `timezone` as Grafana writes it ("", "browser", "utc"); anything else is not supported here. */
export function parseTimeZone(value: string | null | undefined): TimeZone | undefined {
  if (value === 'utc') return 'utc';
  if (value === 'browser' || value === '') return 'browser';
  return undefined;
}

export function setTimeZone(tz: TimeZone): void {
  current = tz;
}

export function timeZone(): TimeZone {
  return current;
}

/** Milliseconds to add to an instant to read its wall-clock time in the zone as if it were UTC. */
function offsetMs(ms: number): number {
  return current === 'utc' ? 0 : -new Date(ms).getTimezoneOffset() * 60_000;
}

/** "YYYY-MM-DD HH:mm:ss" in the dashboard's zone. */
export function formatTime(ms: number): string {
  return new Date(ms + offsetMs(ms)).toISOString().replace('T', ' ').slice(0, 19);
}

/** A datetime-local input's value ("YYYY-MM-DDTHH:mm") for an instant, in the dashboard's zone. */
export function toInputValue(ms: number): string {
  return new Date(ms + offsetMs(ms)).toISOString().slice(0, 16);
}

/** The instant a datetime-local value names in the dashboard's zone (NaN when it is not a time). */
export function fromInputValue(value: string): number {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value)) return NaN;
  // Without an offset, Date.parse reads a date-time as local time; with "Z" as UTC.
  return current === 'utc' ? Date.parse(value + 'Z') : Date.parse(value);
}

/** What the picker shows next to the range: "UTC", or the browser's zone and its offset now. */
export function zoneLabel(at: number, tz: TimeZone = current): string {
  if (tz === 'utc') return 'UTC';
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const off = -new Date(at).getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${name} (UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')})`;
}

/** A time axis label: the time of day, or the date at midnight when the range spans days. */
export function axisLabel(ms: number, spanMs: number): string {
  const s = formatTime(ms);
  if (spanMs <= 2 * 86_400_000) return s.slice(11, 16);
  return s.slice(11, 16) === '00:00' ? s.slice(5, 10) : s.slice(5, 16);
}
