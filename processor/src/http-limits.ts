import { createServer, type RequestListener, type Server } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
}

/**
 * Bounds what clients can hold open: sockets beyond maxConnections are closed on accept (so idle sockets
 * cannot exhaust the open-file limit the store also needs); a socket must send its headers within
 * headersTimeout (also when it never sends anything) and its whole request within requestTimeout; idle
 * keep-alive sockets close after keepAliveTimeout.
 */
export function createLimitedServer(app: RequestListener, limits: ConnectionLimits): Server {
  const requestTimeout = limits.requestTimeoutSeconds * 1000;
  const server = createServer(
    {
      requestTimeout,
      // Node requires headersTimeout <= requestTimeout.
      headersTimeout: Math.min(limits.headersTimeoutSeconds * 1000, requestTimeout),
      keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
      // How often Node looks for sockets past those time-outs (default 30 s, longer than the time-outs).
      connectionsCheckingInterval: CONNECTION_CHECK_MS,
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}

const CONNECTION_CHECK_MS = 1000;

export class BodyLimitMetrics {
  readonly inFlight: Gauge;
  readonly refused: Counter;

  constructor(registry: Registry) {
    this.inFlight = new Gauge({
      name: 'ragscope_http_bodies_in_flight',
      help: 'OTLP/feedback requests whose body is being read or processed',
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'ragscope_http_bodies_refused_total',
      help: 'Requests answered 503 before their body was read, because RAGSCOPE_MAX_CONCURRENT_BODIES were in flight',
      registers: [registry],
    });
  }
}

/**
 * Express middleware: at most `limit` requests past this point at once, from before their body is read
 * until their response is done, so buffered and decoded bodies take at most about limit × the body limit.
 * When full, answers 503 with Retry-After (OTLP clients retry on it) without reading the body, and closes
 * the connection so the unread body is not uploaded for nothing.
 */
export function bodySlots(limit: number, retryAfterSeconds: number, metrics?: BodyLimitMetrics) {
  let inFlight = 0;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (inFlight >= limit) {
      metrics?.refused.inc();
      res
        .status(503)
        .set('Retry-After', String(retryAfterSeconds))
        .set('Connection', 'close')
        .json({ error: `${limit} request bodies are already being processed (RAGSCOPE_MAX_CONCURRENT_BODIES); retry after ${retryAfterSeconds} s` });
      return;
    }
    inFlight++;
    metrics?.inFlight.set(inFlight);
    res.once('close', () => {
      inFlight--;
      metrics?.inFlight.set(inFlight);
    });
    next();
  };
}
