#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createProcessor } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ragscope: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const processor = await createProcessor(config, logger);
  const url = await processor.listen();
  logger.info(
    { url, grpcPort: processor.grpcPort, tenancy: processor.apiKeys.required ? 'API keys' : config.tenant, store: processor.store.mode, database: config.database, dataDir: config.clickhouseUrl ? undefined : config.dataDir },
    `ragscope processor listening: OTLP/HTTP ${url}/v1/traces and ${url}/v1/logs, OTLP/gRPC ${processor.grpcPort === null ? 'off' : `${config.grpcHost}:${processor.grpcPort}`}, SQL ${url}/sql`,
  );
  // printed plainly (not only in the JSON log line) so people starting with `npm start` see where to look
  console.log(`ragscope dashboards: ${url}/${config.sqlToken ? ` (sign in once: ${url}/login?token=<RAGSCOPE_SQL_TOKEN>)` : ''}`);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down: flushing accepted data');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    await processor.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error('ragscope: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
