/**
 * libuv's thread pool runs every embedded-engine call (chdb), zlib inflation and file-system work. It is
 * sized from UV_THREADPOOL_SIZE once, when first used, which for an ES module entry is while the modules
 * load: start.cts sets it before that. Read here to know the size this process actually got.
 */
export const LIBUV_DEFAULT_THREADS = 4;

/** Threads kept free of /sql queries for ingestion (inserts, gzip bodies, the readiness ping). */
export const INGEST_RESERVED_THREADS = 2;

export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  // libuv clamps to 1..1024 and ignores what it cannot parse.
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : LIBUV_DEFAULT_THREADS;
}

/** /sql queries allowed at once: the configured limit, but always leaving INGEST_RESERVED_THREADS threads. */
export function sqlConcurrencyFor(configured: number, poolSize: number): number {
  return Math.max(1, Math.min(configured, poolSize - INGEST_RESERVED_THREADS));
}
