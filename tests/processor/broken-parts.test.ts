import { mkdtempSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/processor.js';
import { chatSpanRequest, spawnProcessor, type SpawnedProcessor } from '../helpers/spawn-processor.js';

// Honest start: a part ClickHouse detaches as broken when it loads the table is reported (error log,
// /metrics gauge, /readyz detail with how to recover), not silently dropped. Real files, real restart.

const dir = mkdtempSync(join(tmpdir(), 'ragscope-broken-'));
let proc: SpawnedProcessor | undefined;

afterAll(async () => {
  await proc?.stop();
  removeDir(dir);
});

async function sql(url: string, query: string): Promise<string> {
  const res = await fetch(`${url}/sql`, { method: 'POST', body: query });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text}`);
  return text;
}

describe('a part corrupted on disk while stopped', () => {
  it('is reported at the next start', async () => {
    proc = await spawnProcessor(dir);
    // Inside the raw retention the pipeline applies to the wall clock; nothing asserted depends on the instant.
    const start = Date.now() - 60_000;
    for (let i = 1; i <= 3; i++) {
      const res = await fetch(`${proc.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatSpanRequest(i, start) });
      expect(res.status).toBe(200);
    }
    // Acknowledged means in the write-ahead log: wait until ClickHouse has the rows (and their part).
    expect((await fetch(`${proc.url}/v1/flush`, { method: 'POST' })).status).toBe(200);
    expect(await sql(proc.url, 'SELECT count() FROM genai_spans FORMAT TSV')).toBe('3\n');
    const healthy = (await (await fetch(`${proc.url}/readyz`)).json()) as { status: string };
    expect(healthy.status).toBe('ready');
    const paths = (await sql(proc.url, "SELECT path FROM system.parts WHERE database = currentDatabase() AND table = 'genai_spans' AND active FORMAT TSV"))
      .trim()
      .split('\n')
      .filter((p) => p !== '');
    expect(paths.length).toBeGreaterThan(0);
    expect(await proc.stop()).toBe(0);
    proc = undefined;

    // Cut every column file of the first part in half (a torn write, a bad disk).
    const part = paths[0];
    const columnFiles = readdirSync(part).filter((f) => f.endsWith('.bin'));
    expect(columnFiles.length).toBeGreaterThan(0);
    for (const f of columnFiles) truncateSync(join(part, f), Math.floor(statSync(join(part, f)).size / 2));

    proc = await spawnProcessor(dir);
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; brokenParts: Array<{ table: string; reason: string; name: string }>; recovery: string };
    expect(body.status).toBe('degraded');
    expect(body.brokenParts.length).toBeGreaterThan(0);
    expect(body.brokenParts.map((p) => p.table)).toContain('genai_spans');
    expect(body.brokenParts.every((p) => /broken|unexpected/.test(p.reason))).toBe(true);
    expect(body.recovery).toMatch(/ATTACH PART|DROP DETACHED PART/);

    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    const gauge = metrics.split('\n').find((l) => l.startsWith('ragscope_broken_detached_parts '));
    expect(Number(gauge?.split(' ')[1])).toBe(body.brokenParts.length);

    const errors = proc.logs.filter((l) => l.level === 50);
    expect(errors.length).toBeGreaterThan(0);
    expect(String(errors[0].msg)).toMatch(/detached as broken/);
    // The rows of that part are indeed gone from queries: what the report warns about.
    expect(Number(await sql(proc.url, 'SELECT count() FROM genai_spans FORMAT TSV'))).toBeLessThan(3);
  });
});
