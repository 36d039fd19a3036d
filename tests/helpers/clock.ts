export const TEST_NOW_DEFAULT = Date.parse('2026-11-20T13:00:00Z');
export function testNow(): number { const v = process.env.RAGSCOPE_TEST_NOW; if (!v) return TEST_NOW_DEFAULT; const ms = Date.parse(v); if (!Number.isFinite(ms)) throw new Error(`RAGSCOPE_TEST_NOW is not an ISO date: ${v}`); return ms; }
