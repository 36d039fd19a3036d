// Why several processors need a trace's spans on one of them (docs/scaling.md, "Many processors"): a framework
// chat span over the SDK's chat span, both reporting the same usage. One processor (pipeline) marks the wrapper
// UsageCounted = 0 whatever the arrival order; two processors that each get one of the spans both count it,
// and the rollups count the call twice. clickhouse/checks/usage_counted_twice.sql counts exactly those calls.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPriceBook } from '../../processor/src/derive/index.js';
import type { DecodedSpan } from '../../processor/src/model.js';
import { Pipeline } from '../../processor/src/pipeline.js';
import { insertRows, type StoreClients } from '../../processor/src/store/clickhouse.js';
import { testNow } from '../helpers/clock.js';
import { openScratchStore, type ScratchStore } from '../helpers/scratch-store.js';

const CHECK = readFileSync(fileURLToPath(new URL('../../clickhouse/checks/usage_counted_twice.sql', import.meta.url)), 'utf8');
const NOW = testNow();
let scratch: ScratchStore;
let store: StoreClients;

function chat(traceId: string, spanId: string, parentSpanId: string): DecodedSpan {
  const start = BigInt(NOW - 60_000) * 1_000_000n;
  return {
    origin: { resource: { 'service.name': 'split-test' }, scope: { name: 'test', version: '1', attributes: {} } },
    traceId,
    spanId,
    parentSpanId,
    traceState: '',
    name: 'chat gpt-4o-mini',
    kind: 3,
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000_000n,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
    },
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  };
}

const processor = () => new Pipeline({ priceBook: loadPriceBook(undefined), tenant: 'default', dedupeCacheSize: 1000, rawTtlDays: 30, now: () => NOW });

async function store1(pipeline: Pipeline, spans: DecodedSpan[]): Promise<void> {
  const out = pipeline.processSpans(spans);
  expect(out.rejected).toBe(0);
  await insertRows(store.writer, 'genai_spans', out.rows.genai_spans!);
}

async function check(): Promise<{ calls: number; traces: number; tokens: number }> {
  const [r] = await (
    await store.writer.query({
      query: CHECK,
      query_params: { tenant: 'default', from: new Date(NOW - 3_600_000).toISOString().slice(0, 19).replace('T', ' '), to: new Date(NOW).toISOString().slice(0, 19).replace('T', ' ') },
      format: 'JSONEachRow',
    })
  ).json<{ calls_counted_twice: string; traces: string; tokens_counted_twice: string }>();
  return { calls: Number(r!.calls_counted_twice), traces: Number(r!.traces), tokens: Number(r!.tokens_counted_twice) };
}

async function countedTokens(traceId: string): Promise<number> {
  const [r] = await (
    await store.writer.query({
      query: 'SELECT sum(InputTokens) + sum(OutputTokens) AS t FROM request_rollup WHERE TraceId = {t:String}',
      query_params: { t: traceId },
      format: 'JSONEachRow',
    })
  ).json<{ t: string }>();
  return Number(r!.t);
}

beforeAll(async () => {
  // Long retention (the default): the spans sit at the suite's instant, the engine's TTLs count from its real clock.
  scratch = await openScratchStore('split-traces');
  store = scratch.store;
}, 60_000);

afterAll(async () => {
  await scratch?.close();
});

describe('a trace split across processors', () => {
  const one = 'a'.repeat(32);
  const split = 'b'.repeat(32);

  it('one processor counts the call once, whatever the order; the check finds nothing', async () => {
    const p = processor();
    await store1(p, [chat(one, '00000000000000c1', '00000000000000f1')]); // the SDK call first, in its own batch
    await store1(p, [chat(one, '00000000000000f1', '')]); // then the framework span above it
    expect(await countedTokens(one)).toBe(120);
    expect(await check()).toEqual({ calls: 0, traces: 0, tokens: 0 });
  });

  it('two processors each counting one span count the call twice, and the check counts it', async () => {
    await store1(processor(), [chat(split, '00000000000000c2', '00000000000000f2')]);
    await store1(processor(), [chat(split, '00000000000000f2', '')]);
    expect(await countedTokens(split)).toBe(240);
    expect(await check()).toEqual({ calls: 1, traces: 1, tokens: 120 });
  });
});
