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
  readonly queued: Gauge;
  readonly refused: Counter;

  constructor(registry: Registry) {
    this.inFlight = new Gauge({
      name: 'ragscope_http_bodies_in_flight',
      help: 'OTLP (HTTP and gRPC) and feedback requests whose body is being read or processed',
      registers: [registry],
    });
    this.queued = new Gauge({
      name: 'ragscope_http_bodies_queued',
      help: 'OTLP/HTTP and feedback requests waiting, body unread, for one of RAGSCOPE_MAX_CONCURRENT_BODIES',
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
  private readonly waiting: Waiting[] = [];

  constructor(
    readonly limit: number,
    private readonly metrics?: BodyLimitMetrics,
    /** Requests that may wait for a slot (bodies unread, so their memory is the socket's), and for how long. */
    private readonly queue: { max: number; waitMs: number } = { max: 0, waitMs: 0 },
  ) {}

  /** A release function, or undefined when every slot is taken (the caller refuses; counted). */
  tryTake(): (() => void) | undefined {
    if (this.inFlight >= this.limit) {
      this.metrics?.refused.inc();
      return undefined;
    }
    return this.grant();
  }

  /**
   * A slot now, or once one frees within the queue's wait; undefined when the queue is full, the wait ends or
   * `abandoned` fires first (a client that went away). A refusal is counted.
   */
  async take(abandoned?: (cancel: () => void) => void): Promise<(() => void) | undefined> {
    if (this.inFlight < this.limit) return this.grant();
    if (this.waiting.length >= this.queue.max || this.queue.waitMs <= 0) {
      this.metrics?.refused.inc();
      return undefined;
    }
    return new Promise((resolve) => {
      const waiting: Waiting = {
        admit: () => {
          clearTimeout(timer);
          resolve(this.grant());
        },
      };
      const leave = (refused: boolean) => {
        const i = this.waiting.indexOf(waiting);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.metrics?.queued.set(this.waiting.length);
        clearTimeout(timer);
        if (refused) this.metrics?.refused.inc();
        resolve(undefined);
      };
      const timer = setTimeout(() => leave(true), this.queue.waitMs);
      this.waiting.push(waiting);
      this.metrics?.queued.set(this.waiting.length);
      abandoned?.(() => leave(false));
    });
  }

  private grant(): () => void {
    this.inFlight++;
    this.metrics?.inFlight.set(this.inFlight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.metrics?.inFlight.set(this.inFlight);
      const next = this.waiting.shift();
      if (next) {
        this.metrics?.queued.set(this.waiting.length);
        next.admit();
      }
    };
  }
}

interface Waiting {
  admit(): void;
}

/**
 * Express middleware: at most `slots.limit` requests past this point at once, from before their body is read
 * until their response is done, so buffered and decoded bodies take at most about limit × the body limit.
 * When full, a request waits in the slots' queue, its body unread (a client that retried after a 503 would
 * wait seconds); when the queue is full too or the wait ends, answers 503 with Retry-After (OTLP clients
 * retry on it) without reading the body, and closes the connection so the unread body is not uploaded for
 * nothing.
 */
export function bodySlots(slots: BodySlots, retryAfterSeconds: number) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const release = await slots.take((cancel) => res.once('close', cancel));
    if (res.destroyed || res.writableEnded) {
      release?.();
      return;
    }
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
