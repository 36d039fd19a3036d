// BodySlots: the shared count of request bodies in flight, and its queue of requests waiting (bodies unread).
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { BodyLimitMetrics, BodySlots } from '../../processor/src/http-limits.js';

async function value(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? NaN;
}

describe('body slots', () => {
  it('hands a freed slot to the first waiting request, in order', async () => {
    const registry = new Registry();
    const slots = new BodySlots(1, new BodyLimitMetrics(registry), { max: 2, waitMs: 60_000 });
    const first = (await slots.take())!;
    const admitted: string[] = [];
    const a = slots.take().then((r) => (admitted.push('a'), r));
    const b = slots.take().then((r) => (admitted.push('b'), r));
    expect(await value(registry, 'ragscope_http_bodies_queued')).toBe(2);
    // Past the queue: refused at once.
    expect(await slots.take()).toBeUndefined();
    expect(await value(registry, 'ragscope_http_bodies_refused_total')).toBe(1);
    first();
    const releaseA = (await a)!;
    expect(admitted).toEqual(['a']);
    expect(await value(registry, 'ragscope_http_bodies_in_flight')).toBe(1);
    releaseA();
    releaseA(); // twice: still one slot back
    (await b)!();
    expect(admitted).toEqual(['a', 'b']);
    expect(await value(registry, 'ragscope_http_bodies_in_flight')).toBe(0);
    expect(await value(registry, 'ragscope_http_bodies_queued')).toBe(0);
  });

  it('refuses a request whose wait ends, and drops one whose client left without counting it', async () => {
    const registry = new Registry();
    const slots = new BodySlots(1, new BodyLimitMetrics(registry), { max: 4, waitMs: 20 });
    const held = (await slots.take())!;
    expect(await slots.take()).toBeUndefined(); // waited 20 ms, no slot freed
    expect(await value(registry, 'ragscope_http_bodies_refused_total')).toBe(1);
    let leave: () => void = () => undefined;
    const gone = slots.take((cancel) => (leave = cancel));
    leave();
    expect(await gone).toBeUndefined();
    expect(await value(registry, 'ragscope_http_bodies_refused_total')).toBe(1);
    expect(await value(registry, 'ragscope_http_bodies_queued')).toBe(0);
    held();
    // The slot it would have taken is free.
    expect(slots.tryTake()).toBeTypeOf('function');
  });

  it('without a queue, refuses at once when full', async () => {
    const slots = new BodySlots(1);
    const held = (await slots.take())!;
    expect(await slots.take()).toBeUndefined();
    held();
    expect(await slots.take()).toBeTypeOf('function');
  });
});
