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
      help: 'OTLP (HTTP and gRPC) and feedback requests whose body is being read or processed',
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'ragscope_http_bodies_refused_total',
      help: 'Requests refused (OTLP/HTTP 503 before the body was read, OTLP/gRPC RESOURCE_EXHAUSTED) because RAGSCOPE_MAX_CONCURRENT_BODIES were in flight',
      registers: [registry],
    });
  }
}

/**
 * The count of OTLP/feedback requests being read and processed at once, shared by both transports (OTLP/HTTP and
 * OTLP/gRPC), so memory for bodies is bounded by RAGSCOPE_MAX_CONCURRENT_BODIES whichever way they arrive.
 */
export class BodySlots {
  private inFlight = 0;

  constructor(
    readonly limit: number,
    private readonly metrics?: BodyLimitMetrics,
  ) {}

  /** A release function, or undefined when every slot is taken (the caller refuses; counted). */
  tryTake(): (() => void) | undefined {
    if (this.inFlight >= this.limit) {
      this.metrics?.refused.inc();
      return undefined;
    }
    this.inFlight++;
    this.metrics?.inFlight.set(this.inFlight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.metrics?.inFlight.set(this.inFlight);
    };
  }
}

/**
 * Express middleware: at most `slots.limit` requests past this point at once, from before their body is read
 * until their response is done, so buffered and decoded bodies take at most about limit × the body limit.
 * When full, answers 503 with Retry-After (OTLP clients retry on it) without reading the body, and closes
 * the connection so the unread body is not uploaded for nothing.
 */
export function bodySlots(slots: BodySlots, retryAfterSeconds: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const release = slots.tryTake();
    if (!release) {
      res
        .status(503)
        .set('Retry-After', String(retryAfterSeconds))
        .set('Connection', 'close')
        .json({ error: `${slots.limit} request bodies are already being processed (RAGSCOPE_MAX_CONCURRENT_BODIES); retry after ${retryAfterSeconds} s` });
      return;
    }
    res.once('close', release);
    next();
  };
}
