/** The instant bench:ui's synthetic week ends at (a Friday, 13:00 UTC), and what the bench data needs. */
export const BENCH_UI_END = Date.UTC(2026, 10, 20, 13);
export const DAY_MS = 86_400_000;
/** Retention long enough that the fixed-date data is never refused or dropped. */
export const BENCH_UI_TTL_DAYS = 3650;
