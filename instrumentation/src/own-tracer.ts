// The tracer of ragscope's own spans (OpenAI calls, RAG helpers) when register() started the tracer provider:
// the same spans, handed to the same span processors, sampled by the same sampler, with the same limits, ids and
// resource (register() builds those once and gives them to NodeSDK and to this tracer: span-settings.ts), made by
// a smaller span object.
//
// Why not the SDK's Tracer: on an OpenAI call the SDK's span path was most of ragscope's overhead, and it runs
// cold (the process has just waited on the network); this path is about half as costly there (bench:instrumentation,
// same run: docs/benchmarks.md). It is the same work with less around it: the start attributes cleaned once (the
// SDK cleans them twice), no otel.sdk.span.* metric records (built per span even when no meter is set; register()
// keeps the SDK's tracer when OTEL_NODE_EXPERIMENTAL_SDK_METRICS asks for them), no processor fan-out object, one
// ended check per call. Attribute, event and link rules are OpenTelemetry's own public helpers (@opentelemetry/core),
// so limits, validation and truncation behave alike (tests/instrumentation/own-tracer.test.ts runs both side by
// side). Anything else that starts spans (the app, other instrumentations) uses the SDK.

import { context, diag, INVALID_SPAN_CONTEXT, SpanStatusCode, trace, TraceFlags, SamplingDecision, type Attributes, type AttributeValue, type Context, type Exception, type HrTime, type Link, type Span as ApiSpan, type SpanContext, type SpanKind, type SpanOptions, type SpanStatus, type TimeInput, type Tracer } from '@opentelemetry/api';
import { addHrTimes, AddAttributeDecision, cleanAttributes, cleanSimpleAttributes, hrTimeDuration, isTimeInput, isTracingSuppressed, maybeAddAttribute, millisToHrTime, timeInputToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { IdGenerator, Sampler, SamplingResult, Span, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace';
import { parentBasedAlwaysOnSamplers } from './span-settings.js';
import { performance } from 'node:perf_hooks';

/** What the tracer provider register() started is made of (the objects it handed to NodeSDK). */
export interface SpanSettings {
  readonly processors: readonly SpanProcessor[];
  readonly sampler: Sampler;
  readonly limits: Required<SpanLimits>;
  readonly idGenerator: IdGenerator;
  readonly resource: Resource;
}

export class OwnSpan implements Span {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[] = [];
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  droppedAttributesCount: number;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  private attributeCount: number;
  private _ended = false;
  private _duration: HrTime = [-1, -1];
  /** The monotonic clock at the start: later times are the start plus its reading since (as the SDK does). */
  private readonly performanceStart = performance.now();
  private readonly startTimeProvided: boolean;

  constructor(
    private readonly settings: SpanSettings,
    readonly instrumentationScope: InstrumentationScope,
    private readonly _spanContext: SpanContext,
    name: string,
    kind: SpanKind,
    parentSpanContext: SpanContext | undefined,
    attributes: Attributes,
    droppedAttributesCount: number,
    links: Link[],
    startTime: TimeInput | undefined,
  ) {
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parentSpanContext;
    this.attributes = attributes;
    this.attributeCount = Object.keys(attributes).length;
    this.droppedAttributesCount = droppedAttributesCount;
    this.links = links;
    this.startTimeProvided = startTime !== undefined;
    // Wall-clock time per span, as the SDK does: a process-wide offset between the two clocks would drift.
    this.startTime = startTime === undefined ? millisToHrTime(Date.now()) : timeInputToHrTime(startTime);
  }

  /** A time of this span: given, or the start plus the monotonic clock's reading since. */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (input !== undefined) return timeInputToHrTime(input);
    if (this.startTimeProvided) return millisToHrTime(Date.now());
    return addHrTimes(this.startTime, millisToHrTime(performance.now() - this.performanceStart));
  }

  get resource(): Resource {
    return this.settings.resource;
  }
  get ended(): boolean {
    return this._ended;
  }
  get duration(): HrTime {
    return this._duration;
  }

  spanContext(): SpanContext {
    return this._spanContext;
  }

  isRecording(): boolean {
    return !this._ended;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (this.isEnded()) return this;
    const decision = maybeAddAttribute({ key, value, attributes: this.attributes, limits: this.settings.limits, currentAttributesCount: this.attributeCount });
    if (decision === AddAttributeDecision.ADD_NEW) this.attributeCount++;
    else if (decision === AddAttributeDecision.DROP_LIMIT_REACHED && this.droppedAttributesCount++ === 0) diag.warn('Dropping extra attributes.');
    return this;
  }

  setAttributes(attributes: Attributes): this {
    // hasOwnProperty.call, not Object.hasOwn: V8 optimizes the former inside for-in (measured 0.8 vs 2.1 µs for 5 attributes).
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.isEnded()) return this;
    const { eventCountLimit, attributePerEventCountLimit, attributeValueLengthLimit } = this.settings.limits;
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
    } else attributes = attributesOrTime;
    this.droppedEventsCount += appendBounded(this.events, eventCountLimit, () => ({
      name,
      time: this.timeOf(time),
      ...cleanSimpleAttributes(attributes, { attributeCountLimit: attributePerEventCountLimit, attributeValueLengthLimit }),
    }));
    return this;
  }

  addLink(link: Link): this {
    if (this.isEnded()) return this;
    this.droppedLinksCount += appendBounded(this.links, this.settings.limits.linkCountLimit, () => cleanLink(link, this.settings.limits));
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.isEnded() || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.isEnded()) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString();
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
    else diag.warn(`Failed to record an exception ${String(exception)}`);
  }

  end(endTime?: TimeInput): void {
    if (this._ended) {
      diag.error(`${this.name} ${this._spanContext.traceId}-${this._spanContext.spanId} - You can only call end() on a span once.`);
      return;
    }
    this.endTime = this.timeOf(endTime);
    this._duration = hrTimeDuration(this.startTime, this.endTime);
    if (this._duration[0] < 0) {
      this.endTime = [this.startTime[0], this.startTime[1]];
      this._duration = [0, 0];
    }
    const processors = this.settings.processors;
    for (let i = 0; i < processors.length; i++) processors[i]!.onEnding?.(this);
    this._ended = true;
    for (let i = 0; i < processors.length; i++) processors[i]!.onEnd(this);
  }

  private isEnded(): boolean {
    if (this._ended) diag.warn(`Cannot execute the operation on ended Span {traceId: ${this._spanContext.traceId}, spanId: ${this._spanContext.spanId}}`);
    return this._ended;
  }
}

/** Appends to a list bounded at `limit`, dropping the oldest first (the SDK's rule for events and links); returns how many were dropped. */
function appendBounded<T>(list: T[], limit: number, make: () => T): number {
  if (limit === 0) return 1;
  let dropped = 0;
  if (list.length >= limit) {
    list.shift();
    dropped = 1;
  }
  list.push(make());
  return dropped;
}

function cleanLink(link: Link, limits: Required<SpanLimits>): Link {
  return { context: link.context, ...cleanAttributes(link.attributes, { attributeCountLimit: limits.attributePerLinkCountLimit, attributeValueLengthLimit: limits.attributeValueLengthLimit }) };
}

const NO_LINKS: readonly Link[] = Object.freeze([]);
const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const DROPPED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/** What ParentBasedSampler({ root: AlwaysOnSampler }) decides: the parent's decision, sampled at a root. */
function parentDecision(parent: SpanContext | undefined): SamplingResult {
  if (parent === undefined) return SAMPLED;
  return (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? SAMPLED : DROPPED;
}

/** An OpenTelemetry Tracer (api) over SpanSettings: what the SDK's Tracer does at startSpan, for one scope. */
export class OwnTracer implements Tracer {
  private readonly parentBasedAlwaysOn: boolean;
  constructor(
    private readonly settings: SpanSettings,
    readonly scope: InstrumentationScope,
  ) {
    this.parentBasedAlwaysOn = parentBasedAlwaysOnSamplers.has(settings.sampler);
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): ApiSpan {
    if (options.root) ctx = trace.deleteSpan(ctx);
    if (isTracingSuppressed(ctx)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const { settings } = this;
    const parent = trace.getSpan(ctx)?.spanContext();
    const validParent = parent !== undefined && trace.isSpanContextValid(parent) ? parent : undefined;
    const traceId = validParent?.traceId ?? settings.idGenerator.generateTraceId();
    const spanId = settings.idGenerator.generateSpanId();
    const kind = options.kind ?? 0;
    const links = options.links === undefined ? (NO_LINKS as Link[]) : options.links.map((link) => cleanLink(link, settings.limits));
    const start = cleanAttributes(options.attributes, settings.limits);
    let attributes = start.attributes ?? {};
    let dropped = start.droppedAttributesCount ?? 0;
    const sampling = this.parentBasedAlwaysOn ? parentDecision(validParent) : settings.sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    const spanContext: SpanContext = {
      traceId,
      spanId,
      traceFlags: sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: sampling.traceState ?? validParent?.traceState,
    };
    if (sampling.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    if (sampling.attributes !== undefined) {
      const merged = cleanAttributes({ ...attributes, ...sampling.attributes }, settings.limits);
      attributes = merged.attributes ?? {};
      dropped += merged.droppedAttributesCount ?? 0;
    }
    const span = new OwnSpan(settings, this.scope, spanContext, name, kind, validParent, attributes, dropped, links === NO_LINKS ? [] : links, options.startTime);
    const processors = settings.processors;
    for (let i = 0; i < processors.length; i++) processors[i]!.onStart(span, ctx);
    return span;
  }

  startActiveSpan<F extends (span: ApiSpan) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parent = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), fn as (span: ApiSpan) => ReturnType<F>, undefined, span);
  }
}
