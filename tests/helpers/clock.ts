// The instant the test suite runs at. Tests place their data relative to testNow() and hand it to the processor
// as its clock, so the same commit gives the same results on any day and at any hour. To show that, run the
// suite at other instants: RAGSCOPE_TEST_NOW=2027-01-02T00:30:00Z npm test
export const TEST_NOW_DEFAULT = Date.parse('2026-11-20T13:00:00Z');

export function testNow(): number {
  const v = process.env.RAGSCOPE_TEST_NOW;
  if (!v) return TEST_NOW_DEFAULT;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`RAGSCOPE_TEST_NOW is not an ISO date: ${v}`);
  return ms;
}
