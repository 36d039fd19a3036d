import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessor, removeDir, type TestProcessor } from '../helpers/processor.js';

let proc: TestProcessor;

beforeAll(async () => {
  proc = await startProcessor({ RAGSCOPE_SQL_TOKEN: 's3cret' });
});

afterAll(async () => {
  await proc.stop();
  removeDir(proc.dataDir);
});

describe('POST /sql with RAGSCOPE_SQL_TOKEN', () => {
  it('requires the bearer token', async () => {
    const none = await fetch(`${proc.url}/sql`, { method: 'POST', body: 'SELECT 1' });
    expect(none.status).toBe(401);
    const wrong = await fetch(`${proc.url}/sql`, { method: 'POST', body: 'SELECT 1', headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${proc.url}/sql`, { method: 'POST', body: 'SELECT 41 + 1 FORMAT TSV', headers: { authorization: 'Bearer s3cret' } });
    expect(right.status).toBe(200);
    expect((await right.text()).trim()).toBe('42');
  });

  it('applies to /v1/export too: no or a wrong token → 401 even from loopback, the token → the file', async () => {
    const path = `${proc.url}/v1/export/confidence_distribution?from=2026-01-01&to=2026-01-02&format=json`;
    expect((await fetch(path)).status).toBe(401);
    expect((await fetch(path, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const right = await fetch(path, { headers: { authorization: 'Bearer s3cret' } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-disposition')).toBe('attachment; filename="confidence_distribution_202601010000-202601020000.jsonl"');
    // an empty store: every bucket is listed with no answers
    const rows = (await right.text()).trim().split('\n').map((l) => JSON.parse(l) as { requests: number });
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => Number(r.requests) === 0)).toBe(true);
  });
});
