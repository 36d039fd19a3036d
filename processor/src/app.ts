import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config.js';
import { systemClock, type Clock } from './clock.js';
import { createLogger, type Logger } from './logger.js';
import { ProcessorMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { loadPriceBook } from './derive/index.js';
import { insertBlock, openStore, type StoreClients } from './store/clickhouse.js';
import { TableWriters } from './store/table-writers.js';
import { RecentKeys } from './receive/recent-keys.js';
import { flushRoute } from './store/flush-route.js';
import { migrate } from './store/migrations.js';
import { WriteQueue } from './store/write-queue.js';
import { otlpRoute } from './receive/otlp-route.js';
import { sqlRoute } from './query/sql-route.js';
import { namedQueryListRoute, namedQueryRoute } from './query/named-query-route.js';
import { discoverTenantTables, TenantFilter } from './query/tenant-scope.js';
import { ReadAccess } from './auth/read-scope.js';
import { applyTenancy, tenancySchemaOf } from './auth/server-tenancy.js';
import { exportRoute } from './query/export-route.js';
import { feedbackRoute, traceIdForResponse } from './feedback/index.js';
import { applyRetention } from './store/retention.js';
import { GrpcReceiver } from './receive/grpc-server.js';
import { ApiKeys, presentedKey } from './auth/api-keys.js';
import { watchApiKeys } from './auth/watch.js';
import { Forwarder } from './forward/forwarder.js';
import { uiRouter } from './ui/route.js';
import { Dashboards } from './ui/dashboards.js';
import { prepareReadPath } from './ui/warm-up.js';
import { BrokenPartsReport, findBrokenParts, recoveryAdvice, type BrokenPart } from './store/broken-parts.js';
import { ReaderPool, SqlMetrics } from './query/reader-pool.js';
import { BodyLimitMetrics, BodySlots, bodySlots, createLimitedServer } from './http-limits.js';
import { sqlConcurrencyFor, threadPoolSize } from './thread-pool.js';
import { ConversationSignalsJob } from './derive/conversation-signals.js';

export interface Processor {
  readonly config: Config;
  readonly store: StoreClients;
  readonly metrics: ProcessorMetrics;
  readonly queue: WriteQueue;
  readonly logger: Logger;
  /** Materializes the implicit-feedback signals every RAGSCOPE_SIGNALS_INTERVAL_SECONDS; refresh() runs a pass now. */
  readonly conversationSignals: ConversationSignalsJob;
  /** Base URL once listening, e.g. http://127.0.0.1:4318 */
  url: string;
  /** Bound OTLP/gRPC port once listening; null when the gRPC receiver is off. */
  grpcPort: number | null;
  /** API keys → tenants; reload() after editing the keys file (also done on change and SIGHUP). */
  readonly apiKeys: ApiKeys;
  listen(): Promise<string>;
  /** Graceful: stop accepting, flush what was accepted, close the store. */
  stop(): Promise<void>;
}

export interface ProcessorOptions {
  /** The processor's notion of now (retention checks, feedback receive time). Tests pass a fixed instant. */
  now?: Clock;
  /** Named queries served by /v1/export (default clickhouse/queries). */
  queriesDir?: string;
}

/** Opens the store, applies migrations and builds the HTTP app; call listen() to serve. */
export async function createProcessor(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
  options: ProcessorOptions = {},
): Promise<Processor> {
  const now = options.now ?? systemClock;
  const priceBook = loadPriceBook(config.pricesFile);
  const store = await openStore(config, {
    timeoutSeconds: config.sqlTimeoutSeconds,
    maxRows: config.sqlMaxRows,
    maxMemoryBytes: config.sqlMaxMemoryBytes,
    maxThreads: config.sqlMaxThreads,
    maxResultBytes: config.sqlMaxResultBytes,
  });
  let brokenParts: BrokenPart[];
  let tenantFilter: TenantFilter;
  try {
    const cluster = config.clickhouseCluster ? { cluster: config.clickhouseCluster, database: config.database } : undefined;
    const migrations = await migrate(store.writer, {
      RAW_TTL_DAYS: config.rawTtlDays,
      ROLLUP_TTL_DAYS: config.rollupTtlDays,
      DEFAULT_TENANT: config.tenant,
    }, undefined, { cluster, exclusive: store.mode === 'embedded' });
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'applied migrations');
    if (migrations.drift.length > 0) logger.error({ drift: migrations.drift }, 'cluster nodes differ in schema (docs/scaling.md)');
    const retention = await applyRetention(store.writer, { RAW_TTL_DAYS: config.rawTtlDays, ROLLUP_TTL_DAYS: config.rollupTtlDays }, undefined, cluster);
    if (retention.length > 0) logger.info({ changes: retention }, 'retention changed: table TTLs updated');
    brokenParts = await findBrokenParts(store.writer, config.database);
    tenantFilter = new TenantFilter(config.database, await discoverTenantTables(store.writer, config.database));
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
  const sqlReaders = new ReaderPool(sqlConcurrency, store.openReader, store.mode === 'embedded', sqlMetrics, store.openStreamReader);
  let queue: WriteQueue;
  const tableWriters = new TableWriters(store);
  try {
    queue = await WriteQueue.open(
      config.walDir,
      async (table, format, block, token) => insertBlock(await tableWriters.writerFor(table), table, format, block, token),
      {
        maxBatchRows: config.batchMaxRows,
        maxBatchBytes: config.batchMaxBytes,
        maxDelayMs: config.batchMaxDelayMs,
        maxSpoolBytes: config.spoolMaxBytes,
        segmentBytes: config.walSegmentBytes,
        retainBytes: config.walRetainBytes,
        shutdownGraceMs: config.shutdownGraceMs,
      },
      {
        onInsert(table, rows, seconds) {
          metrics.batchRows.observe({ table }, rows);
          metrics.insertSeconds.observe({ table }, seconds);
        },
        onInsertError(table, err, willRetry) {
          metrics.insertFailures.inc({ table });
          logger.error({ err, table, willRetry }, willRetry ? 'insert failed; retrying (data is safe in the write-ahead log)' : 'ClickHouse refused rows; isolating them');
        },
        onDeadLetter(table, rows, err) {
          metrics.deadLetterRows.inc({ table }, rows);
          logger.error({ table, err: (err as Error).message, file: `${config.walDir}/dead-letter.ndjson` }, 'row set aside: ClickHouse cannot store it');
        },
        onDepthChange: (bytes) => metrics.queueDepth.set(bytes),
      },
    );
  } catch (err) {
    await store.close();
    throw err;
  }
  const recent = new RecentKeys(config.recentKeys);
  // Rebuild the duplicate memory from the log still on disk: a client retrying across our restart adds nothing.
  for await (const keys of queue.recentKeys()) for (const key of keys) recent.remember(key);
  const pipeline = new Pipeline({ priceBook, tenant: config.tenant, dedupeCacheSize: config.dedupeCacheSize, rawTtlDays: config.rawTtlDays, metrics, now });

  // Its own writer session: a pass's INSERT … SELECT runs beside ingestion's inserts (store/table-writers.ts).
  const conversationSignals = new ConversationSignalsJob(await store.openWriter(), now, config.signals, logger);

  let stopping = false;
  const dashboards = Dashboards.load();
  const readPathReady = prepareReadPath({ store, readers: sqlReaders, dashboards, logger, stopping: () => stopping });
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () => metrics.requests.inc({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  const apiKeys = new ApiKeys({ file: config.apiKeysFile, env: config.apiKeys, defaultTenant: config.tenant });
  const readAccess = new ReadAccess({ token: config.sqlToken, apiKeys });
  // Before the body slots: a flush reads no body and may wait long; it must not hold a slot ingestion needs.
  app.post('/v1/flush', flushRoute(queue));
  // Before the body slots too: an export reads no body and streams for long; it holds a /sql reader instead.
  app.get(
    '/v1/export/:name',
    exportRoute({
      store,
      access: readAccess,
      filter: tenantFilter,
      maxQueryBytes: 1024 * 1024,
      readers: sqlReaders,
      maxResultBytes: config.sqlMaxResultBytes,
      retryAfterSeconds: config.retryAfterSeconds,
      metrics: sqlMetrics,
      logger,
      active: sqlQueries,
      queriesDir: options.queriesDir,
    }),
  );
  const slots = new BodySlots(config.maxConcurrentBodies, new BodyLimitMetrics(metrics.registry), config.bodyQueue);
  app.use('/v1', bodySlots(slots, config.retryAfterSeconds));
  const tenantFor = (h: { authorization?: string; 'x-api-key'?: string | string[] }) =>
    apiKeys.tenantFor(presentedKey(h.authorization, typeof h['x-api-key'] === 'string' ? h['x-api-key'] : undefined));
  const { endpoint: forwardEndpoint, ...forwardOptions } = config.forward;
  const forwarder = forwardEndpoint ? new Forwarder({ endpoint: forwardEndpoint, ...forwardOptions }, metrics, logger) : undefined;
  const otlpDeps = { pipeline, recent, queue, metrics, logger, defaultTenant: config.tenant, tenantFor, onStored: forwarder?.offer, maxBodyBytes: config.maxBodyBytes, retryAfterSeconds: config.retryAfterSeconds, slots };
  const grpc = config.grpcPort === null ? undefined : new GrpcReceiver(otlpDeps);
  let unwatchKeys: (() => void) | undefined;
  app.post('/v1/traces', otlpRoute('traces', otlpDeps));
  app.post('/v1/logs', otlpRoute('logs', otlpDeps));
  app.post(
    '/v1/feedback',
    feedbackRoute({
      queue,
      tenantFor,
      logger,
      retryAfterSeconds: config.retryAfterSeconds,
      now,
      resolveTraceId: async (responseId, tenant) => pipeline.responsesFor(tenant).get(responseId) ?? traceIdForResponse(store.writer, tenant, responseId),
    }),
  );
  app.post(
    '/sql',
    sqlRoute({
      store,
      access: readAccess,
      maxQueryBytes: 1024 * 1024,
      readers: sqlReaders,
      maxResultBytes: config.sqlMaxResultBytes,
      retryAfterSeconds: config.retryAfterSeconds,
      metrics: sqlMetrics,
      logger,
      active: sqlQueries,
    }),
  );
  app.get('/query', namedQueryListRoute({ store, access: readAccess, filter: tenantFilter }));
  app.get('/query/:name', namedQueryRoute({ store, access: readAccess, filter: tenantFilter }));
  app.use(
    uiRouter({
      store,
      token: config.sqlToken,
      access: readAccess,
      filter: tenantFilter,
      readers: sqlReaders,
      retryAfterSeconds: config.retryAfterSeconds,
      metrics: sqlMetrics,
      logger,
      active: sqlQueries,
      now,
      dashboards,
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
    if (ping.success) res.json({ ...brokenDetail, store: store.mode, spoolBytes: queue.depth, shipError: queue.shipError });
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

  // Server mode: the read keys' ClickHouse users and row policies follow the keys (auth/server-tenancy.ts).
  const syncTenantUsers = async (why: string): Promise<void> => {
    if (config.clickhouseTenantUsers !== 'apply') return;
    try {
      const schema = await tenancySchemaOf(store.writer, config.database);
      const limits = { timeoutSeconds: config.sqlTimeoutSeconds, maxRows: config.sqlMaxRows, maxResultBytes: config.sqlMaxResultBytes, maxMemoryBytes: config.sqlMaxMemoryBytes };
      const statements = await applyTenancy(store.writer, apiKeys.entries, schema, { limits, unrestrictedUsers: [config.clickhouseUser] });
      logger.info({ statements, why }, 'ClickHouse tenant users and row policies applied');
    } catch (err) {
      logger.error({ err: (err as Error).message, why }, 'ClickHouse tenant users not applied (the processor user needs ACCESS MANAGEMENT)');
    }
  };

  let server: Server | undefined;
  const processor: Processor = {
    config,
    store,
    metrics,
    queue,
    logger,
    apiKeys,
    conversationSignals,
    url: '',
    grpcPort: null,
    listen: async () => {
      if (grpc) processor.grpcPort = await grpc.listen(config.grpcHost, config.grpcPort!);
      conversationSignals.start();
      if (config.clickhouseTenantUsers === 'apply') await syncTenantUsers('start');
      if (apiKeys.required) unwatchKeys = watchApiKeys(apiKeys, config.apiKeysFile, logger, 500, () => void syncTenantUsers('keys reloaded'));
      return new Promise((resolve, reject) => {
        server = createLimitedServer(app, config);
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const address = server!.address() as AddressInfo;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          processor.url = `http://${host}:${address.port}`;
          resolve(processor.url);
        });
      });
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      unwatchKeys?.();
      const grpcStopped = grpc?.stop(config.shutdownGraceMs);
      // Running /sql queries would hold the shutdown until their time-out: stop them in the engine, and
      // let them end before the rest closes.
      for (const cancel of sqlQueries) cancel('shutting down');
      const sqlDeadline = Date.now() + 10_000;
      while (sqlQueries.size > 0 && Date.now() < sqlDeadline) await new Promise((r) => setTimeout(r, 50));
      const closed = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      server?.closeIdleConnections();
      await grpcStopped;
      await queue.close();
      await closed;
      await forwarder?.stop(Math.min(config.shutdownGraceMs, 2_000));
      await conversationSignals.stop();
      // the start-up warm-up must not be running when the store closes (chdb keeps a busy session's directory bound)
      await readPathReady;
      await store.close();
    },
  };
  return processor;
}
