// The processor's entry point. CommonJS on purpose: an ES module entry loads its imports through libuv's
// thread pool, which fixes the pool's size before any of our code runs; a CommonJS file runs first, so
// UV_THREADPOOL_SIZE set here still counts. Embedded-engine calls, gzip inflation and file I/O all share
// that pool: with libuv's default 4 threads, a few long /sql queries could starve ingestion.
const DEFAULT_THREAD_POOL_SIZE = 16;
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(DEFAULT_THREAD_POOL_SIZE);
void import('./main.js');
