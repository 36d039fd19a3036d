// The built-in dashboards' variable-options cache: the same SQL within the TTL is answered once; after it,
// or after a failure, the query runs again. The clock is injected.
import { describe, expect, it } from 'vitest';
import { VariableCache } from '../../processor/src/ui/variable-cache.js';

describe('VariableCache', () => {
  it('reuses an answer for the same SQL within the TTL only, and never keeps a failure', async () => {
    let now = 1_000_000;
    const cache = new VariableCache<string[]>(30_000, () => now);
    let runs = 0;
    const load = (answer: string[]) => () => {
      runs++;
      return Promise.resolve(answer);
    };
    expect(await cache.get('SELECT a', load(['x']))).toEqual(['x']);
    now += 29_999;
    expect(await cache.get('SELECT a', load(['y']))).toEqual(['x']);
    expect(runs).toBe(1);
    // another SQL (another range or upstream selection) is another query
    expect(await cache.get('SELECT b', load(['z']))).toEqual(['z']);
    expect(runs).toBe(2);
    now += 1;
    expect(await cache.get('SELECT a', load(['y']))).toEqual(['y']);
    expect(runs).toBe(3);

    await expect(cache.get('SELECT c', () => Promise.reject(new Error('engine said no')))).rejects.toThrow('engine said no');
    expect(await cache.get('SELECT c', load(['ok']))).toEqual(['ok']);
    expect(runs).toBe(4);
  });

  it('stays within its entry limit', async () => {
    let now = 0;
    const cache = new VariableCache<number>(1_000, () => now, 3);
    let runs = 0;
    const load = (n: number) => () => (runs++, Promise.resolve(n));
    for (let i = 0; i < 5; i++) await cache.get(`q${i}`, load(i));
    expect(runs).toBe(5);
    // q4 (newest) is still kept, q0 (oldest) was dropped
    expect(await cache.get('q4', load(-1))).toBe(4);
    expect(await cache.get('q0', load(-1))).toBe(-1);
    now += 1_000;
    expect(await cache.get('q4', load(-4))).toBe(-4);
  });
});
