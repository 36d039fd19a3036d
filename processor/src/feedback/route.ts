// POST /v1/feedback: user feedback as JSON.
//   { feedback_id?, trace_id | response_id, span_id?, thumbs: "up"|"down" | rating: 1-5 | score: 0..1,
//     comment?, tags?, user_id?, timestamp? }   (timestamp: when it was given, epoch ms or ISO 8601; default now)
// → 201 { feedback_id } once stored. Resubmitting a feedback_id stores a newer version: latest wins.
// → 400 { error, fields: { <field>: <what is wrong> } } for anything invalid.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { HttpError } from '../receive/http-error.js';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../clock.js';
import { QueueClosedError, QueueFullError, type WriteQueue } from '../store/write-queue.js';
import { nextApiVersion, toFeedbackRow, type FeedbackInput } from './rows.js';

export interface FeedbackRouteDeps {
  queue: WriteQueue;
  /** The tenant a request's API key names (auth/); throws HttpError(401) without a valid key. */
  tenantFor: (headers: IncomingHttpHeaders) => string;
  logger: Logger;
  retryAfterSeconds: number;
  /** Largest accepted body; default 64 KiB. */
  maxBodyBytes?: number;
  /** Trace id of a stored response ('' if unknown): feedback naming only a response id is linked at write time. */
  resolveTraceId?: (responseId: string, tenant: string) => Promise<string>;
  /** The receive time of feedback without a timestamp, and the "not in the future" check. */
  now?: Clock;
}

export const MAX_COMMENT_CHARS = 2000;
export const MAX_TAGS = 32;
export const MAX_TAG_CHARS = 64;

/** One message per field, whatever zod's issue was: clients get a stable, readable contract. */
export const FIELD_MESSAGES = {
  feedback_id: 'must be a string of 1-128 characters: letters, digits, . _ : @ -',
  trace_id: 'must be 32 hex digits (not all zero)',
  span_id: 'must be 16 hex digits (not all zero)',
  response_id: 'must be a non-empty string of at most 256 characters',
  thumbs: 'must be "up" or "down"',
  rating: 'must be an integer 1-5',
  score: 'must be a number between 0 and 1',
  comment: `must be a string of at most ${MAX_COMMENT_CHARS} characters`,
  tags: `must be an array of at most ${MAX_TAGS} non-empty strings of at most ${MAX_TAG_CHARS} characters`,
  user_id: 'must be a string of at most 256 characters',
  timestamp: 'must be epoch milliseconds or an ISO 8601 date-time, after 2000 and not in the future',
} as const;

/** Clock skew tolerated on client timestamps. */
const MAX_FUTURE_MS = 5 * 60_000;
const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);

function timestampMs(v: number | string): number {
  return typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
}

type Field = keyof typeof FIELD_MESSAGES;

const hex = (n: number) => new RegExp(`^[0-9a-fA-F]{${n}}$`);
const notAllZero = (s: string) => !/^0+$/.test(s);

export const feedbackSchema = z.strictObject({
  feedback_id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:@-]+$/).optional(),
  trace_id: z.string().regex(hex(32)).refine(notAllZero).optional(),
  span_id: z.string().regex(hex(16)).refine(notAllZero).optional(),
  response_id: z.string().min(1).max(256).optional(),
  thumbs: z.enum(['up', 'down']).optional(),
  rating: z.number().int().min(1).max(5).optional(),
  score: z.number().min(0).max(1).optional(),
  comment: z.string().max(MAX_COMMENT_CHARS).optional(),
  tags: z.array(z.string().min(1).max(MAX_TAG_CHARS)).max(MAX_TAGS).optional(),
  user_id: z.string().max(256).optional(),
  timestamp: z
    .union([z.number().int(), z.string().min(1).max(64)])
    .refine((v) => Number.isFinite(timestampMs(v)) && timestampMs(v) >= MIN_TIMESTAMP_MS)
    .optional(),
});

export type FeedbackBody = z.infer<typeof feedbackSchema>;

export type FeedbackValidation = { ok: true; body: FeedbackBody } | { ok: false; fields: Record<string, string> };

/** Validates a parsed JSON body; field-level messages on failure. */
export function validateFeedback(raw: unknown, nowMs: number = Date.now()): FeedbackValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, fields: { body: 'must be a JSON object' } };
  }
  const fields: Record<string, string> = {};
  const parsed = feedbackSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) fields[key] = 'unknown field';
        continue;
      }
      const key = String(issue.path[0] ?? 'body');
      if (!(key in fields)) fields[key] = FIELD_MESSAGES[key as Field] ?? issue.message;
    }
  }
  const body = raw as Record<string, unknown>;
  if (parsed.success && parsed.data.timestamp !== undefined && timestampMs(parsed.data.timestamp) > nowMs + MAX_FUTURE_MS) {
    fields.timestamp ??= FIELD_MESSAGES.timestamp;
  }
  const present = (k: string) => body[k] !== undefined && body[k] !== null;
  if (!present('trace_id') && !present('response_id')) fields.trace_id ??= 'trace_id or response_id is required';
  const values = (['thumbs', 'rating', 'score'] as const).filter(present);
  if (values.length === 0) fields.thumbs ??= 'one of thumbs, rating or score is required';
  for (const extra of values.slice(1)) fields[extra] ??= 'give only one of thumbs, rating or score';
  if (Object.keys(fields).length > 0 || !parsed.success) return { ok: false, fields };
  return { ok: true, body: parsed.data };
}

export function feedbackInputFrom(body: FeedbackBody, tenant: string, nowMs: number = Date.now()): FeedbackInput {
  const kind = body.thumbs !== undefined ? 'thumbs' : body.rating !== undefined ? 'rating' : 'score';
  const timeMs = body.timestamp !== undefined ? Math.trunc(timestampMs(body.timestamp)) : nowMs;
  return {
    tenant,
    feedbackId: body.feedback_id ?? randomUUID(),
    version: nextApiVersion(timeMs),
    timeMs,
    source: 'api',
    kind,
    thumbs: body.thumbs ?? null,
    rating: body.rating ?? null,
    score: body.score ?? null,
    label: body.thumbs ?? (body.rating !== undefined ? String(body.rating) : ''),
    comment: body.comment ?? '',
    tags: body.tags ?? [],
    userId: body.user_id ?? '',
    traceId: body.trace_id?.toLowerCase() ?? '',
    spanId: body.span_id?.toLowerCase() ?? '',
    responseId: body.response_id ?? '',
    serviceName: '',
  };
}

async function readBody(req: Request, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function feedbackRoute(deps: FeedbackRouteDeps) {
  const maxBytes = deps.maxBodyBytes ?? 64 * 1024;
  return async (req: Request, res: Response): Promise<void> => {
    let tenant: string;
    try {
      tenant = deps.tenantFor(req.headers);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      req.resume();
      res.status(err.status).setHeader('WWW-Authenticate', 'Bearer').json({ error: err.message });
      return;
    }
    const contentType = req.get('content-type');
    if (contentType !== undefined && !req.is('application/json')) {
      res.status(415).json({ error: 'send feedback as application/json' });
      return;
    }
    const buf = await readBody(req, maxBytes);
    if (buf === null) {
      res.status(413).json({ error: `body larger than ${maxBytes} bytes` });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(buf.toString('utf8'));
    } catch {
      res.status(400).json({ error: 'body is not valid JSON', fields: { body: 'must be a JSON object' } });
      return;
    }
    const nowMs = (deps.now ?? systemClock)();
    const result = validateFeedback(raw, nowMs);
    if (!result.ok) {
      res.status(400).json({ error: 'invalid feedback', fields: result.fields });
      return;
    }
    const input = feedbackInputFrom(result.body, tenant, nowMs);
    if (input.traceId === '' && input.responseId !== '' && deps.resolveTraceId) input.traceId = await deps.resolveTraceId(input.responseId, tenant);
    try {
      await deps.queue.enqueue({ feedback: [toFeedbackRow(input)] });
    } catch (err) {
      res.setHeader('Retry-After', String(deps.retryAfterSeconds));
      if (!(err instanceof QueueFullError) && !(err instanceof QueueClosedError)) {
        deps.logger.error({ err }, 'could not store feedback');
      }
      res.status(503).json({ error: err instanceof QueueFullError || err instanceof QueueClosedError ? err.message : 'storage unavailable' });
      return;
    }
    res.status(201).json({ feedback_id: input.feedbackId });
  };
}
