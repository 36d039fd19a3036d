// The sampler, span limits and resource of the tracer provider register() starts, built once here and handed
// both to NodeSDK and to ragscope's own tracer (own-tracer.ts), so the two make spans alike. They follow
// what NodeSDK (sdk-node 0.301) builds from the same options and OTEL_* variables; a test compares the two.

import { diag } from '@opentelemetry/api';
import { getNumberFromEnv, getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes, serviceInstanceIdDetector, type Resource, type ResourceDetector } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanLimits } from '@opentelemetry/sdk-trace';
import type { Attributes } from '@opentelemetry/api';

/**
 * The parent-based always-on samplers made here (the default). Own spans under one of them take the parent's
 * decision without calling the sampler (own-tracer.ts): the same decision, less code on a cold path.
 */
export const parentBasedAlwaysOnSamplers = new WeakSet<Sampler>();

function parentBasedAlwaysOn(): Sampler {
  const sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() });
  parentBasedAlwaysOnSamplers.add(sampler);
  return sampler;
}

/** `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`; parent-based always-on when unset or unknown. */
export function samplerFromEnv(): Sampler {
  const name = getStringFromEnv('OTEL_TRACES_SAMPLER');
  switch (name) {
    case undefined:
    case 'parentbased_always_on':
      return parentBasedAlwaysOn();
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(samplerRatioFromEnv());
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatioFromEnv()) });
    default:
      diag.error(`unknown OTEL_TRACES_SAMPLER value "${name}", using default`);
      return parentBasedAlwaysOn();
  }
}

function samplerRatioFromEnv(): number {
  const ratio = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
  if (ratio === undefined || ratio < 0 || ratio > 1) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${String(ratio)} is blank or out of range [0..1], defaulting to 1.`);
    return 1;
  }
  return ratio;
}

/** The span limits (`OTEL_SPAN_*_LIMIT`, `OTEL_ATTRIBUTE_*_LIMIT`) with the SDK's defaults filled in. */
export function spanLimitsFromEnv(): Required<SpanLimits> {
  return {
    attributeCountLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    attributeValueLengthLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity,
    eventCountLimit: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
    linkCountLimit: getNumberFromEnv('OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
    attributePerEventCountLimit: getNumberFromEnv('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT') ?? 128,
    attributePerLinkCountLimit: getNumberFromEnv('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT') ?? 128,
  };
}

const DETECTORS_BY_NAME = new Map<string, ResourceDetector>([
  ['host', hostDetector],
  ['os', osDetector],
  ['serviceinstance', serviceInstanceIdDetector],
  ['process', processDetector],
  ['env', envDetector],
]);

/** NodeSDK's resource detectors: `OTEL_NODE_RESOURCE_DETECTORS` (`all` when unset, `none`, or names). */
function resourceDetectorsFromEnv(): ResourceDetector[] {
  const names = getStringListFromEnv('OTEL_NODE_RESOURCE_DETECTORS');
  if (names === undefined) return [serviceInstanceIdDetector, processDetector, hostDetector, osDetector, envDetector];
  if (names.includes('all')) return [...DETECTORS_BY_NAME.values()];
  if (names.includes('none')) return [];
  return names.flatMap((name) => {
    const detector = DETECTORS_BY_NAME.get(name);
    if (detector === undefined) diag.warn(`Invalid resource detector "${name}" specified in the environment variable OTEL_NODE_RESOURCE_DETECTORS`);
    return detector ?? [];
  });
}

/**
 * The resource of every span and log record: the SDK's defaults (telemetry.sdk.*), the app's
 * `resourceAttributes`, what the detectors find (process, host, os, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_SERVICE_NAME`), and `serviceName` last.
 */
export function providerResource(options: { serviceName?: string; resourceAttributes?: Attributes }): Resource {
  let resource = defaultResource();
  if (options.resourceAttributes) resource = resource.merge(resourceFromAttributes(options.resourceAttributes));
  resource = resource.merge(detectResources({ detectors: resourceDetectorsFromEnv() }));
  if (options.serviceName !== undefined) resource = resource.merge(resourceFromAttributes({ 'service.name': options.serviceName }));
  return resource;
}
