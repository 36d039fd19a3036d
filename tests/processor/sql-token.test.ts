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
});
