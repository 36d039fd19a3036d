import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { ProcessorMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { loadPriceBook } from './derive/index.js';
import { insertRows, openStore, type StoreClients } from './store/clickhouse.js';
import { migrate } from './store/migrations.js';
import { WriteQueue, type TableName } from './store/write-queue.js';
import { otlpRoute } from './receive/otlp-route.js';
import { sqlRoute } from './query/sql-route.js';
import { feedbackRoute, traceIdForResponse } from './feedback/index.js';
import { applyRetention } from './store/retention.js';
import { BrokenPartsReport, findBrokenParts, recoveryAdvice, type BrokenPart } from './store/broken-parts.js';
import { ReaderPool, SqlMetrics } from './query/reader-pool.js';
import { BodyLimitMetrics, bodySlots, createLimitedServer } from './http-limits.js';
import { sqlConcurrencyFor, threadPoolSize } from './thread-pool.js';

export interface Processor {
  readonly config: Config;
  readonly store: StoreClients;
  readonly metrics: ProcessorMetrics;
  readonly queue: WriteQueue;
  readonly logger: Logger;
  /** Base URL once listening, e.g. http://127.0.0.1:4318 */
  url: string;
  listen(): Promise<string>;
  /** Graceful: stop accepting, flush what was accepted, close the store. */
  stop(): Promise<void>;
}

/** Opens the store, applies migrations and builds the HTTP app; call listen() to serve. */
export async function createProcessor(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Processor> {
  const priceBook = loadPriceBook(config.pricesFile);
  const store = await openStore(config, {
    timeoutSeconds: config.sqlTimeoutSeconds,
    maxRows: config.sqlMaxRows,
    maxMemoryBytes: config.sqlMaxMemoryBytes,
    maxResultBytes: config.sqlMaxResultBytes,
  });
  let brokenParts: BrokenPart[] = [];
  try {
    const migrations = await migrate(store.writer, {
      RAW_TTL_DAYS: config.rawTtlDays,
      ROLLUP_TTL_DAYS: config.rollupTtlDays,
    });
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'applied migrations');
    const retention = await applyRetention(store.writer, { RAW_TTL_DAYS: config.rawTtlDays, ROLLUP_TTL_DAYS: config.rollupTtlDays });
    if (retention.length > 0) logger.info({ changes: retention }, 'retention changed: table TTLs updated');
    brokenParts = await findBrokenParts(store.writer, config.database);
    if (brokenParts.length > 0) logger.error({ brokenParts }, recoveryAdvice(config.database, brokenParts));
  } catch (err) {
    await store.close();
    throw err;
  }

  const metrics = new ProcessorMetrics();
  const brokenReport = new BrokenPartsReport(metrics.registry);
  brokenReport.set(brokenParts);
  const poolSize = threadPoolSize();
  const sqlConcurrency = sqlConcurrencyFor(config.sqlMaxConcurrent, poolSize);
  if (sqlConcurrency < config.sqlMaxConcurrent) {
    logger.warn(
      { configured: config.sqlMaxConcurrent, threadPoolSize: poolSize, allowed: sqlConcurrency },
      '/sql concurrency lowered to keep threads for ingestion: start with processor/dist/start.cjs or set UV_THREADPOOL_SIZE',
    );
  }
  const sqlMetrics = new SqlMetrics(metrics.registry);
  const sqlQueries = new Set<(why: string) => void>();
  const sqlReaders = new ReaderPool(sqlConcurrency, store.openReader, store.mode === 'embedded', sqlMetrics);
  const queue = new WriteQueue(
    (table: TableName, rows) => insertRows(store.writer, table, rows),
    { maxBatchRows: config.batchMaxRows, maxDelayMs: config.batchMaxDelayMs, maxQueuedRows: config.queueMaxRows },
    {
      onFlush(table, rows, seconds, error) {
        metrics.batchRows.observe({ table }, rows);
        metrics.insertSeconds.observe({ table }, seconds);
        if (error) metrics.insertFailures.inc({ table });
      },
      onDepthChange: (rows) => metrics.queueDepth.set(rows),
    },
  );
  const pipeline = new Pipeline({ priceBook, tenant: config.tenant, dedupeCacheSize: config.dedupeCacheSize, rawTtlDays: config.rawTtlDays, metrics });

  let stopping = false;
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () => metrics.requests.inc({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  app.use('/v1', bodySlots(config.maxConcurrentBodies, config.retryAfterSeconds, new BodyLimitMetrics(metrics.registry)));
  const otlpDeps = { pipeline, queue, metrics, logger, maxBodyBytes: config.maxBodyBytes, retryAfterSeconds: config.retryAfterSeconds };
  app.post('/v1/traces', otlpRoute('traces', otlpDeps));
  app.post('/v1/logs', otlpRoute('logs', otlpDeps));
  app.post(
    '/v1/feedback',
    feedbackRoute({
      queue,
      tenant: config.tenant,
      logger,
      retryAfterSeconds: config.retryAfterSeconds,
      resolveTraceId: async (responseId) => pipeline.responses.get(responseId) ?? traceIdForResponse(store.writer, config.tenant, responseId),
    }),
  );
  app.post(
    '/sql',
    sqlRoute({
      store,
      token: config.sqlToken,
      maxQueryBytes: 1024 * 1024,
      readers: sqlReaders,
      maxResultBytes: config.sqlMaxResultBytes,
      retryAfterSeconds: config.retryAfterSeconds,
      metrics: sqlMetrics,
      logger,
      active: sqlQueries,
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    const ping = await store.writer.ping();
    const broken = brokenReport.parts;
    const brokenDetail =
      broken.length > 0 ? { status: 'degraded', brokenParts: broken, recovery: recoveryAdvice(config.database, broken) } : { status: 'ready' };
    if (ping.success) res.json({ ...brokenDetail, store: store.mode, queuedRows: queue.depth });
    else res.status(503).json({ status: 'store unreachable', error: String(ping.error) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });
  // Anything thrown past the routes: answer, never crash the process.
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err }, 'unhandled request error');
    if (!res.headersSent) res.status(500).json({ error: err.message });
  });

  let server: Server | undefined;
  const processor: Processor = {
    config,
    store,
    metrics,
    queue,
    logger,
    url: '',
    listen: () =>
      new Promise((resolve, reject) => {
        server = createLimitedServer(app, config);
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const address = server!.address() as AddressInfo;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          processor.url = `http://${host}:${address.port}`;
          resolve(processor.url);
        });
      }),
    async stop() {
      if (stopping) return;
      stopping = true;
      // Running /sql queries would hold the shutdown until their time-out: stop them in the engine, and
      // let them end before the rest closes.
      for (const cancel of sqlQueries) cancel('shutting down');
      const sqlDeadline = Date.now() + 10_000;
      while (sqlQueries.size > 0 && Date.now() < sqlDeadline) await new Promise((r) => setTimeout(r, 50));
      const closed = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      server?.closeIdleConnections();
      await queue.close();
      await closed;
      await store.close();
    },
  };
  return processor;
}
