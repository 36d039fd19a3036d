// ragscope's own tracer (own-tracer.ts) against the SDK's Tracer over the same processors, sampler, limits,
// ids and resource: every scenario is run on both and the exported spans must agree field by field.
import { context, ROOT_CONTEXT, type Attributes, type Context, SamplingDecision, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, InMemorySpanExporter, ParentBasedSampler, RandomIdGenerator, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type Sampler, type SpanLimits, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OwnSpan, OwnTracer, type SpanSettings } from '../../instrumentation/src/own-tracer.js';
import { samplerFromEnv, spanLimitsFromEnv } from '../../instrumentation/src/span-settings.js';

const SCOPE = { name: 'own-tracer-test', version: '1.0.0' };
const DEFAULT_LIMITS = spanLimitsFromEnv();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

/** Both tracers over one set of settings; each exports into its own in-memory exporter. */
// The default sampler is register()'s (samplerFromEnv: parent-based always-on, decided without calling it on the own side).
function tracers(sampler: Sampler = samplerFromEnv(), limits: Required<SpanLimits> = DEFAULT_LIMITS) {
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': 'own-tracer-test' }));
  const make = () => {
    const exporter = new InMemorySpanExporter();
    const seen: { started: string[]; ending: string[] } = { started: [], ending: [] };
    const watcher: SpanProcessor = {
      onStart: (span) => void seen.started.push(span.name),
      onEnding: (span) => void seen.ending.push(`${span.name}:${String(span.ended)}`),
      onEnd: () => {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const settings: SpanSettings = { processors: [watcher, new SimpleSpanProcessor({ exporter })], sampler, limits, idGenerator: new RandomIdGenerator(), resource };
    return { exporter, seen, settings };
  };
  const sdk = make();
  const own = make();
  const provider = new TracerProvider({ spanProcessors: [...sdk.settings.processors], sampler, spanLimits: limits, idGenerator: sdk.settings.idGenerator, resource });
  return {
    sdk: { ...sdk, tracer: provider.getTracer(SCOPE.name, SCOPE.version) },
    own: { ...own, tracer: new OwnTracer(own.settings, SCOPE) as Tracer },
    resource,
  };
}

/** A stack trace names the line that recorded it: the same on both sides only up to its first frame. */
function withoutStack(attributes: Attributes | undefined): Attributes | undefined {
  if (attributes?.['exception.stacktrace'] === undefined) return attributes;
  const { 'exception.stacktrace': stack, ...rest } = attributes;
  return { ...rest, 'exception.stacktrace': String(stack).split('\n')[0] };
}

/** What must agree between the two tracers (ids and clock readings differ by nature). */
function projection(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    attributes: withoutStack(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    status: span.status,
    events: span.events.map((e) => ({ name: e.name, attributes: withoutStack(e.attributes), droppedAttributesCount: e.droppedAttributesCount })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links,
    droppedLinksCount: span.droppedLinksCount,
    parentSpanId: span.parentSpanContext?.spanId,
    traceFlags: span.spanContext().traceFlags,
    traceState: span.spanContext().traceState?.serialize(),
    scope: span.instrumentationScope,
    ended: span.ended,
    durationNonNegative: span.duration[0] >= 0 && span.duration[1] >= 0,
  };
}

const PARENT = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('vendor=v1') });

type Scenario = (tracer: Tracer) => void;

/** Runs a scenario on both tracers and returns both exports, checked equal. */
function bothAgree(scenario: Scenario, sampler?: Sampler, limits?: Required<SpanLimits>) {
  const t = tracers(sampler, limits);
  scenario(t.sdk.tracer);
  scenario(t.own.tracer);
  const sdkSpans = t.sdk.exporter.getFinishedSpans();
  const ownSpans = t.own.exporter.getFinishedSpans();
  expect(ownSpans.map(projection)).toEqual(sdkSpans.map(projection));
  expect(t.own.seen).toEqual(t.sdk.seen);
  for (const span of ownSpans) {
    expect(span).toBeInstanceOf(OwnSpan);
    expect(span.resource).toBe(t.resource);
  }
  return { sdkSpans, ownSpans, t };
}

describe('own tracer vs the SDK tracer, same settings', () => {
  afterEach(() => {
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });

  it('attributes, name, status, events, exceptions and links of a child span', () => {
    const { ownSpans } = bothAgree((tracer) => {
      const span = tracer.startSpan('chat m', { kind: SpanKind.CLIENT, attributes: { a: 'x', n: 1, list: ['p', 'q'], skipped: undefined, '': 'empty key', bad: [1, 'mixed'] as unknown as string[] } }, PARENT);
      span.setAttribute('later', true);
      span.setAttributes({ n: 2, more: [1, 2, 3] });
      span.setAttribute('nothing', undefined);
      span.updateName('chat m2');
      span.addEvent('first', { k: 'v' });
      span.addEvent('timed', [1_700_000_000, 5]);
      span.recordException(Object.assign(new Error('boom'), { name: 'RateLimitError' }));
      span.addLink({ context: { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: TraceFlags.SAMPLED }, attributes: { why: 'retry' } });
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      span.setStatus({ code: SpanStatusCode.UNSET });
      span.end();
    });
    expect(ownSpans).toHaveLength(1);
    expect(ownSpans[0]!.attributes).toMatchObject({ a: 'x', n: 2, later: true, more: [1, 2, 3] });
    expect(ownSpans[0]!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(ownSpans[0]!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(ownSpans[0]!.events.map((e) => e.name)).toEqual(['first', 'timed', 'exception']);
    expect(ownSpans[0]!.events[1]!.time).toEqual([1_700_000_000, 5]);
  });

  it('limits: attribute count and value length, events and links over their bounds are dropped and counted alike', () => {
    const limits: Required<SpanLimits> = { ...DEFAULT_LIMITS, attributeCountLimit: 3, attributeValueLengthLimit: 4, eventCountLimit: 2, linkCountLimit: 1, attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1 };
    const { ownSpans } = bothAgree((tracer) => {
      const span = tracer.startSpan('limited', { attributes: { a: 'long value', b: ['abcdef', 'xy'], c: 3, d: 4 } });
      span.setAttribute('e', 'new');
      span.setAttribute('a', 'overwrite allowed');
      for (let i = 0; i < 4; i++) span.addEvent(`event-${i}`, { x: 1, y: 2 });
      span.addLink({ context: { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }, attributes: { one: 1, two: 2 } });
      span.addLink({ context: { traceId: '3'.repeat(32), spanId: '4'.repeat(16), traceFlags: 1 } });
      span.end();
    }, undefined, limits);
    const span = ownSpans[0]!;
    expect(span.attributes).toEqual({ a: 'over', b: ['abcd', 'xy'], c: 3 });
    expect(span.droppedAttributesCount).toBe(2);
    expect(span.events.map((e) => e.name)).toEqual(['event-2', 'event-3']);
    expect(span.droppedEventsCount).toBe(2);
    expect(span.droppedLinksCount).toBe(1);
  });

  it('sampling: always-off records nothing; parent-based follows an unsampled parent; the ratio sampler drops by trace id', () => {
    // samplerFromEnv()'s parent-based sampler (decided by the own tracer itself) and one made elsewhere (called).
    for (const sampler of [new AlwaysOffSampler(), samplerFromEnv(), new ParentBasedSampler({ root: new AlwaysOnSampler() }), new TraceIdRatioBasedSampler(0)]) {
      const t = tracers(sampler);
      const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE });
      const parentFor = sampler instanceof ParentBasedSampler ? unsampledParent : ROOT_CONTEXT;
      const spans = [t.sdk.tracer, t.own.tracer].map((tracer) => tracer.startSpan('dropped', {}, parentFor));
      for (const span of spans) {
        expect(span.isRecording()).toBe(false);
        span.end();
      }
      expect(spans[1]!.spanContext().traceFlags).toBe(spans[0]!.spanContext().traceFlags);
      expect(t.own.exporter.getFinishedSpans()).toEqual([]);
      expect(t.own.seen.started).toEqual([]);
      expect(t.sdk.exporter.getFinishedSpans()).toEqual([]);
    }
  });

  it('parent-based always-on, decided by the own tracer: sampled and unsampled, local and remote parents, roots; trace state kept', () => {
    const state = trace.getSpanContext(PARENT)!;
    const parents: Context[] = [
      ROOT_CONTEXT,
      PARENT,
      trace.setSpanContext(ROOT_CONTEXT, { ...state, traceFlags: TraceFlags.NONE }),
      trace.setSpanContext(ROOT_CONTEXT, { ...state, isRemote: false }),
      trace.setSpanContext(ROOT_CONTEXT, { ...state, isRemote: false, traceFlags: TraceFlags.NONE }),
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.SAMPLED }),
    ];
    for (const parent of parents) {
      const { ownSpans, sdkSpans } = bothAgree((tracer) => tracer.startSpan('decided', {}, parent).end());
      expect(ownSpans.length).toBe(sdkSpans.length);
    }
    const t = tracers();
    const recorded = parents.map((p) => t.own.tracer.startSpan('x', {}, p).isRecording());
    expect(recorded).toEqual([true, true, false, true, false, true]);
  });

  it("a sampler's attributes and trace state are applied; RECORD (not sampled) is recorded, flagged unsampled", () => {
    for (const decision of [SamplingDecision.RECORD_AND_SAMPLED, SamplingDecision.RECORD]) {
      const sampler: Sampler = {
        shouldSample: (_ctx, _traceId, name) => ({ decision, attributes: { 'sampler.saw': name, 'sampler.invalid': { nested: true } as unknown as string }, traceState: trace.getSpanContext(PARENT)?.traceState }),
        toString: () => 'TestSampler',
      };
      const t = tracers(sampler);
      const spans = [t.sdk.tracer, t.own.tracer].map((tracer) => {
        const span = tracer.startSpan('sampled', { attributes: { own: 'value' } });
        span.end();
        return span as unknown as ReadableSpan;
      });
      expect(projection(spans[1]!)).toEqual(projection(spans[0]!));
      expect(spans[1]!.attributes['sampler.saw']).toBe('sampled');
      expect(spans[1]!.spanContext().traceFlags).toBe(decision === SamplingDecision.RECORD ? TraceFlags.NONE : TraceFlags.SAMPLED);
    }
  });

  it('suppressed tracing makes no span; `root` ignores the active parent', () => {
    const t = tracers();
    const suppressed = t.own.tracer.startSpan('suppressed', {}, suppressTracing(PARENT));
    expect(suppressed.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(suppressed.spanContext())).toBe(false);
    suppressed.end();
    expect(t.own.seen.started).toEqual([]);
    bothAgree((tracer) => tracer.startSpan('root', { root: true }, PARENT).end());
    const root = tracers();
    const span = root.own.tracer.startSpan('root', { root: true }, PARENT) as unknown as ReadableSpan;
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('ending twice exports once; changes after the end are ignored; explicit start and end times are kept', () => {
    const { ownSpans } = bothAgree((tracer) => {
      const span = tracer.startSpan('timed', { startTime: new Date(1_700_000_000_000) });
      span.end([1_700_000_001, 500]);
      span.end();
      span.setAttribute('after', 'end');
      span.updateName('renamed after end');
      span.addEvent('after end');
    });
    expect(ownSpans).toHaveLength(1);
    expect(ownSpans[0]!.startTime).toEqual([1_700_000_000, 0]);
    expect(ownSpans[0]!.endTime).toEqual([1_700_000_001, 500]);
    expect(ownSpans[0]!.duration).toEqual([1, 500]);
  });

  it('startActiveSpan runs the callback with the span active', () => {
    const t = tracers();
    const inner = t.own.tracer.startActiveSpan('active', (span: Span) => {
      const child = t.own.tracer.startSpan('child');
      child.end();
      span.end();
      return (child as unknown as ReadableSpan).parentSpanContext?.spanId === span.spanContext().spanId;
    });
    expect(inner).toBe(true);
    expect(t.own.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['child', 'active']);
  });

  it('its clock: the start is wall-clock time, the end the start plus the monotonic clock since', () => {
    const t = tracers();
    const before = Date.now();
    const span = t.own.tracer.startSpan('now') as unknown as ReadableSpan & Span;
    span.end();
    const after = Date.now();
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    // The start is Date.now() of the start (per span, so it cannot drift from the wall clock over a process' life).
    expect(ms(span.startTime)).toBeGreaterThanOrEqual(before);
    expect(ms(span.startTime)).toBeLessThanOrEqual(after);
    expect(ms(span.endTime) - ms(span.startTime)).toBeCloseTo(ms(span.duration), 2);
    expect(span.duration[0]).toBe(0);
    expect(span.duration[1]).toBeGreaterThan(0);
  });
});

describe('span settings from the environment (what NodeSDK builds from the same variables)', () => {
  const withEnv = <T>(env: Record<string, string>, f: () => T): T => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return f();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it('OTEL_TRACES_SAMPLER and its argument', () => {
    const cases: [Record<string, string>, string][] = [
      [{ OTEL_TRACES_SAMPLER: '' }, 'ParentBased{root=AlwaysOnSampler'],
      [{ OTEL_TRACES_SAMPLER: 'always_off' }, 'AlwaysOffSampler'],
      [{ OTEL_TRACES_SAMPLER: 'always_on' }, 'AlwaysOnSampler'],
      [{ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, 'ParentBased{root=AlwaysOffSampler'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, 'TraceIdRatioBased{0.25}'],
      [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' }, 'ParentBased{root=TraceIdRatioBased{1}'],
      [{ OTEL_TRACES_SAMPLER: 'no_such_sampler' }, 'ParentBased{root=AlwaysOnSampler'],
    ];
    for (const [env, expected] of cases) expect(withEnv(env, () => samplerFromEnv().toString())).toContain(expected);
  });

  it('span limits: specific variables win over the general ones; SDK defaults otherwise', () => {
    expect(withEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '20', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64', OTEL_SPAN_EVENT_COUNT_LIMIT: '5' }, spanLimitsFromEnv)).toEqual({
      attributeCountLimit: 20,
      attributeValueLengthLimit: 64,
      eventCountLimit: 5,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    });
    expect(DEFAULT_LIMITS.attributeValueLengthLimit).toBe(Infinity);
  });
});
