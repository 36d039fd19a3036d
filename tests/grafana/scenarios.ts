/**
 * Baseline traffic and injected anomalies for the alert tests, built on the seeded synthetic generator
 * (tools/synthetic). Anomalies are extra requests generated for a short window and then altered the
 * way the incident would alter real telemetry (slower spans, failed calls, empty retrievals, ...).
 */
import { generateDataset, setConfidence, type SynthDataset, type SynthRequest, type SynthSpan } from '../../tools/synthetic/index.js';

export const UNPRICED_MODEL = 'synthetic-unpriced-llm';

const usesModel = (r: SynthRequest, model: string) => r.spans.some((s) => s.requestModel === model || s.responseModel === model);

/** Keeps only the requests matching `keep`, with their feedback and evaluations. */
export function filterRequests(ds: SynthDataset, keep: (r: SynthRequest) => boolean): SynthDataset {
  const requests = ds.requests.filter(keep);
  const ids = new Set(requests.map((r) => r.traceId));
  return {
    ...ds,
    requests,
    feedback: ds.feedback.filter((f) => ids.has(f.requestTraceId)),
    evaluations: ds.evaluations.filter((e) => ids.has(e.traceId)),
  };
}

/**
 * Baseline: the generator's traffic without its deliberately unpriced model (that one is an anomaly
 * here). `feedbackRate` scales how often users leave feedback.
 */
export function baseline(seed: string, requests: number, days: number, endMs: number, feedbackRate = 1): SynthDataset {
  return filterRequests(generateDataset({ seed, requests, days, endMs, feedbackRate }), (r) => !usesModel(r, UNPRICED_MODEL));
}

function window(seed: string, requests: number, minutes: number, endMs: number, extra: Parameters<typeof generateDataset>[0] = {}): SynthDataset {
  return filterRequests(generateDataset({ seed, requests, days: minutes / 1440, endMs, ...extra }), (r) => !usesModel(r, UNPRICED_MODEL));
}

const chatSpans = (ds: SynthDataset) => ds.requests.flatMap((r) => r.spans.filter((s) => s.operation === 'chat'));

function fail(span: SynthSpan, errorType: string, message: string): void {
  span.statusCode = 2;
  span.statusMessage = message;
  span.errorType = errorType;
  span.attributes['error.type'] = errorType;
  span.events.push({ name: 'exception', timeNs: span.endNs, attributes: { 'exception.type': errorType, 'exception.message': message } });
}

export interface Anomaly {
  name: string;
  /** uid of the rule that must fire */
  rule: string;
  /** minutes of anomalous traffic before the evaluation time */
  minutes: number;
  build(endMs: number): SynthDataset;
}

export const ANOMALIES: Anomaly[] = [
  {
    name: 'cost surge',
    rule: 'ragscope-cost-anomaly',
    minutes: 60,
    build(endMs) {
      // 6× the usual traffic of the hour before the evaluation
      return window('anomaly-cost', 1100, 60, endMs);
    },
  },
  {
    name: 'latency spike',
    rule: 'ragscope-latency-p95-sla',
    minutes: 30,
    build(endMs) {
      const ds = window('anomaly-latency', 80, 30, endMs);
      for (const r of ds.requests) {
        const t0 = r.startNs;
        const stretch = (ns: bigint) => t0 + (ns - t0) * 5n;
        for (const s of r.spans) {
          s.startNs = stretch(s.startNs);
          s.endNs = stretch(s.endNs);
          for (const e of s.events) e.timeNs = stretch(e.timeNs);
        }
        r.endNs = stretch(r.endNs);
      }
      return ds;
    },
  },
  {
    name: 'error burst',
    rule: 'ragscope-error-rate',
    minutes: 30,
    build(endMs) {
      const ds = window('anomaly-errors', 160, 30, endMs, { rateLimitRate: 0 });
      for (const s of chatSpans(ds)) fail(s, 'InternalServerError', 'The server had an error while processing your request (HTTP 500)');
      return ds;
    },
  },
  {
    name: 'rate-limit storm',
    rule: 'ragscope-rate-limits',
    minutes: 15,
    build(endMs) {
      const ds = window('anomaly-ratelimits', 160, 15, endMs, { rateLimitRate: 0 });
      for (const s of chatSpans(ds)) fail(s, 'RateLimitError', 'Rate limit reached for requests (HTTP 429)');
      return ds;
    },
  },
  {
    name: 'empty retrievals',
    rule: 'ragscope-empty-retrievals',
    minutes: 30,
    build(endMs) {
      const ds = window('anomaly-empty', 100, 30, endMs);
      for (const r of ds.requests) {
        for (const s of r.spans) {
          if (s.operation !== 'retrieval') continue;
          s.documents = [];
          s.attributes['gen_ai.retrieval.documents'] = '[]';
          s.attributes['ragscope.retrieval.document_count'] = 0;
          delete s.attributes['ragscope.retrieval.relevance.min'];
          delete s.attributes['ragscope.retrieval.relevance.max'];
          delete s.attributes['ragscope.retrieval.relevance.avg'];
        }
      }
      return ds;
    },
  },
  {
    name: 'thumbs-down wave',
    rule: 'ragscope-thumbs-down-spike',
    minutes: 60,
    build(endMs) {
      // requests in the hour before, everyone who answers gives a thumbs down before the evaluation
      const ds = window('anomaly-thumbs', 150, 45, endMs - 15 * 60_000, { feedbackRate: 4 });
      for (const f of ds.feedback) {
        for (const v of f.versions) {
          v.kind = 'thumbs';
          v.thumbs = 'down';
          v.rating = null;
          v.score = null;
          v.timeMs = Math.min(v.timeMs, endMs - 60_000);
        }
      }
      return ds;
    },
  },
  {
    name: 'unpriced model',
    rule: 'ragscope-unpriced-model',
    minutes: 60,
    build(endMs) {
      const ds = window('anomaly-unpriced', 30, 60, endMs);
      for (const s of chatSpans(ds)) {
        s.provider = 'groq';
        s.requestModel = UNPRICED_MODEL;
        s.responseModel = UNPRICED_MODEL;
        s.attributes['gen_ai.provider.name'] = 'groq';
        s.attributes['gen_ai.request.model'] = UNPRICED_MODEL;
        s.attributes['gen_ai.response.model'] = UNPRICED_MODEL;
      }
      return ds;
    },
  },
  {
    name: 'low-confidence wave',
    rule: 'ragscope-low-confidence',
    minutes: 45,
    build(endMs) {
      // A retrieval regression the app notices: every answer of the last 45 minutes comes out unsure.
      const ds = window('anomaly-confidence', 150, 45, endMs);
      for (const r of ds.requests) if (r.confidence !== null) setConfidence(r, Math.round((0.2 + (r.confidence % 0.25)) * 1000) / 1000);
      return ds;
    },
  },
];

/** Services that took part in an anomaly (alert instances must carry one of them). */
export function servicesOf(ds: SynthDataset): Set<string> {
  return new Set(ds.requests.map((r) => r.service));
}
