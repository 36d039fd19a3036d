import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const MiB = 1024 * 1024;

const intFrom = (name: string, def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return def;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an integer between ${min} and ${max}, got "${raw}"` });
        return z.NEVER;
      }
      return n;
    });

export interface SignalThresholds {
  repeatWindowMin: number;
  reformulationWindowMin: number;
  reformulationMaxDistance: number;
  sessionTimeoutMin: number;
}

/**
 * Default thresholds of the implicit-feedback signals (docs/analytics.md, "Conversations and implicit feedback",
 * where each is justified), defined once in clickhouse/signal-thresholds.json (the demo and the synthetic data
 * read the same file): the conversation-signals job computes the stored signals with them.
 */
export const SIGNAL_THRESHOLD_DEFAULTS: Readonly<SignalThresholds> = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../clickhouse/signal-thresholds.json', import.meta.url)), 'utf8'),
) as SignalThresholds;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  RAGSCOPE_HOST: z.string().optional().default('127.0.0.1'),
  RAGSCOPE_PORT: intFrom('RAGSCOPE_PORT', 4318, 0, 65535),
  RAGSCOPE_DATA_DIR: z.string().optional().default('./data'),
  RAGSCOPE_CLICKHOUSE_URL: optionalString.pipe(z.url({ message: 'RAGSCOPE_CLICKHOUSE_URL must be a URL such as http://clickhouse:8123' }).optional()),
  RAGSCOPE_CLICKHOUSE_USER: z.string().optional().default('default'),
  RAGSCOPE_CLICKHOUSE_PASSWORD: z.string().optional().default(''),
  RAGSCOPE_CLICKHOUSE_DATABASE: z
    .string()
    .optional()
    .default('ragscope')
    .refine((v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v), 'RAGSCOPE_CLICKHOUSE_DATABASE must be a plain identifier'),
  RAGSCOPE_CLICKHOUSE_CLUSTER: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v),
    'RAGSCOPE_CLICKHOUSE_CLUSTER must be a cluster name from remote_servers (letters, digits, _ . -)',
  ),
  RAGSCOPE_PRICES_FILE: optionalString,
  RAGSCOPE_TENANT: z
    .string()
    .optional()
    .default('default')
    // The same rule as the keys file's tenants: a tenant id is written into SQL literals and user names.
    .refine((v) => /^[A-Za-z0-9._-]{1,64}$/.test(v), 'RAGSCOPE_TENANT must be 1-64 characters: letters, digits, . _ -'),
  RAGSCOPE_MAX_BODY_BYTES: intFrom('RAGSCOPE_MAX_BODY_BYTES', 64 * MiB, 1024, 1024 * MiB),
  // Each insert into genai_spans runs its nine materialized views, ~0.2 s of CPU however few its rows
  // (docs/benchmarks.md): larger, fewer inserts are what ClickHouse wants. The byte limit bounds the memory.
  RAGSCOPE_BATCH_MAX_ROWS: intFrom('RAGSCOPE_BATCH_MAX_ROWS', 20_000, 1, 1_000_000),
  // At most 128 MiB: ClickHouse forms an insert's block up to min_insert_block_size_bytes (256 MiB); a batch
  // larger than that becomes several blocks, and if a data error then splits it, blocks already committed would
  // be stored again under the halves' new deduplication tokens.
  RAGSCOPE_BATCH_MAX_BYTES: intFrom('RAGSCOPE_BATCH_MAX_BYTES', 64 * MiB, 64 * 1024, 128 * MiB),
  RAGSCOPE_BATCH_MAX_DELAY_MS: intFrom('RAGSCOPE_BATCH_MAX_DELAY_MS', 1000, 0, 60_000),
  RAGSCOPE_WAL_DIR: optionalString,
  RAGSCOPE_SPOOL_MAX_BYTES: intFrom('RAGSCOPE_SPOOL_MAX_BYTES', 1024 * MiB, MiB, 2 ** 50),
  RAGSCOPE_WAL_SEGMENT_BYTES: intFrom('RAGSCOPE_WAL_SEGMENT_BYTES', 64 * MiB, 4096, 1024 * MiB),
  RAGSCOPE_WAL_RETAIN_BYTES: intFrom('RAGSCOPE_WAL_RETAIN_BYTES', 256 * MiB, 0, 2 ** 50),
  RAGSCOPE_RECENT_KEYS: intFrom('RAGSCOPE_RECENT_KEYS', 1_000_000, 0, 50_000_000),
  RAGSCOPE_SHUTDOWN_GRACE_MS: intFrom('RAGSCOPE_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  RAGSCOPE_RETRY_AFTER_SECONDS: intFrom('RAGSCOPE_RETRY_AFTER_SECONDS', 2, 1, 3600),
  RAGSCOPE_DEDUPE_CACHE_SIZE: intFrom('RAGSCOPE_DEDUPE_CACHE_SIZE', 100_000, 0, 10_000_000),
  // At most 20000 days (~55 years): ClickHouse's DateTime ends in 2106, and a TTL past it wraps to the past,
  // which would expire every row at once.
  RAGSCOPE_RAW_TTL_DAYS: intFrom('RAGSCOPE_RAW_TTL_DAYS', 30, 1, 20_000),
  RAGSCOPE_ROLLUP_TTL_DAYS: intFrom('RAGSCOPE_ROLLUP_TTL_DAYS', 400, 1, 20_000),
  RAGSCOPE_SQL_TOKEN: optionalString,
  RAGSCOPE_CLICKHOUSE_TENANT_USERS: z.enum(['off', 'apply'], { message: 'RAGSCOPE_CLICKHOUSE_TENANT_USERS must be off or apply' }).optional().default('off'),
  RAGSCOPE_SQL_TIMEOUT_SECONDS: intFrom('RAGSCOPE_SQL_TIMEOUT_SECONDS', 30, 1, 3600),
  RAGSCOPE_SQL_MAX_ROWS: intFrom('RAGSCOPE_SQL_MAX_ROWS', 100_000, 1, 100_000_000),
  RAGSCOPE_SQL_MAX_THREADS: intFrom('RAGSCOPE_SQL_MAX_THREADS', 0, 0, 256),
  RAGSCOPE_SQL_MAX_MEMORY_BYTES: intFrom('RAGSCOPE_SQL_MAX_MEMORY_BYTES', 512 * MiB, 16 * MiB, 1024 * 1024 * MiB),
  RAGSCOPE_SQL_MAX_RESULT_BYTES: intFrom('RAGSCOPE_SQL_MAX_RESULT_BYTES', 64 * MiB, 1024, 64 * 1024 * MiB),
  RAGSCOPE_SQL_MAX_CONCURRENT: intFrom('RAGSCOPE_SQL_MAX_CONCURRENT', 2, 1, 256),
  RAGSCOPE_MAX_CONNECTIONS: intFrom('RAGSCOPE_MAX_CONNECTIONS', 1024, 1, 1_000_000),
  RAGSCOPE_MAX_CONCURRENT_BODIES: intFrom('RAGSCOPE_MAX_CONCURRENT_BODIES', 8, 1, 10_000),
  RAGSCOPE_BODY_QUEUE_MAX: intFrom('RAGSCOPE_BODY_QUEUE_MAX', 64, 0, 100_000),
  RAGSCOPE_BODY_QUEUE_WAIT_MS: intFrom('RAGSCOPE_BODY_QUEUE_WAIT_MS', 1000, 0, 60_000),
  RAGSCOPE_HEADERS_TIMEOUT_SECONDS: intFrom('RAGSCOPE_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600),
  RAGSCOPE_REQUEST_TIMEOUT_SECONDS: intFrom('RAGSCOPE_REQUEST_TIMEOUT_SECONDS', 60, 1, 3600),
  RAGSCOPE_KEEP_ALIVE_TIMEOUT_SECONDS: intFrom('RAGSCOPE_KEEP_ALIVE_TIMEOUT_SECONDS', 5, 1, 3600),
  // OTLP/gRPC receiver: a port (0 = ephemeral) or "off".
  RAGSCOPE_GRPC_PORT: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const v = (raw ?? '').trim().toLowerCase();
      if (v === '') return 4317;
      if (v === 'off') return null;
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
      ctx.addIssue({ code: 'custom', message: `RAGSCOPE_GRPC_PORT must be a port 0-65535 or "off", got "${raw}"` });
      return z.NEVER;
    }),
  RAGSCOPE_GRPC_HOST: optionalString,
  RAGSCOPE_API_KEYS_FILE: optionalString,
  RAGSCOPE_API_KEYS: optionalString,
  RAGSCOPE_FORWARD_ENDPOINT: optionalString.pipe(z.url({ message: 'RAGSCOPE_FORWARD_ENDPOINT must be a URL such as http://tempo:4318 or http://collector:4317' }).optional()),
  RAGSCOPE_FORWARD_PROTOCOL: z.enum(['http/protobuf', 'grpc']).optional().default('http/protobuf'),
  RAGSCOPE_FORWARD_HEADERS: optionalString,
  RAGSCOPE_FORWARD_TIMEOUT_MS: intFrom('RAGSCOPE_FORWARD_TIMEOUT_MS', 10_000, 100, 600_000),
  RAGSCOPE_FORWARD_QUEUE_SIZE: intFrom('RAGSCOPE_FORWARD_QUEUE_SIZE', 100_000, 1, 100_000_000),
  RAGSCOPE_FORWARD_SIGNALS: z
    .string()
    .optional()
    .default('traces,logs')
    .transform((raw, ctx) => {
      const signals = [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
      if (signals.length === 0 || signals.some((s) => s !== 'traces' && s !== 'logs')) {
        ctx.addIssue({ code: 'custom', message: `RAGSCOPE_FORWARD_SIGNALS must be "traces", "logs" or "traces,logs", got "${raw}"` });
        return z.NEVER;
      }
      return signals as ('traces' | 'logs')[];
    }),
  // Implicit-feedback signals (derive/conversation-signals.ts): pass interval (0 = no timer) and thresholds.
  RAGSCOPE_SIGNALS_INTERVAL_SECONDS: intFrom('RAGSCOPE_SIGNALS_INTERVAL_SECONDS', 30, 0, 86_400),
  RAGSCOPE_SIGNALS_REPEAT_WINDOW_MIN: intFrom('RAGSCOPE_SIGNALS_REPEAT_WINDOW_MIN', SIGNAL_THRESHOLD_DEFAULTS.repeatWindowMin, 0, 1440),
  RAGSCOPE_SIGNALS_REFORMULATION_WINDOW_MIN: intFrom('RAGSCOPE_SIGNALS_REFORMULATION_WINDOW_MIN', SIGNAL_THRESHOLD_DEFAULTS.reformulationWindowMin, 0, 1440),
  RAGSCOPE_SIGNALS_REFORMULATION_MAX_DISTANCE: intFrom('RAGSCOPE_SIGNALS_REFORMULATION_MAX_DISTANCE', SIGNAL_THRESHOLD_DEFAULTS.reformulationMaxDistance, 0, 64),
  RAGSCOPE_SIGNALS_SESSION_TIMEOUT_MIN: intFrom('RAGSCOPE_SIGNALS_SESSION_TIMEOUT_MIN', SIGNAL_THRESHOLD_DEFAULTS.sessionTimeoutMin, 1, 1440),
  RAGSCOPE_SIGNALS_LONGEST_REQUEST_MIN: intFrom('RAGSCOPE_SIGNALS_LONGEST_REQUEST_MIN', 10, 0, 1440),
  RAGSCOPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** undefined → embedded ClickHouse (chdb) in dataDir. */
  clickhouseUrl: string | undefined;
  clickhouseUser: string;
  clickhousePassword: string;
  database: string;
  /** ClickHouse cluster (remote_servers name): migrations run ON CLUSTER with Replicated + Distributed tables. Server mode only. */
  clickhouseCluster: string | undefined;
  pricesFile: string | undefined;
  tenant: string;
  maxBodyBytes: number;
  batchMaxRows: number;
  batchMaxBytes: number;
  batchMaxDelayMs: number;
  /** Write-ahead log directory (default <dataDir>/wal). */
  walDir: string;
  spoolMaxBytes: number;
  walSegmentBytes: number;
  walRetainBytes: number;
  recentKeys: number;
  shutdownGraceMs: number;
  retryAfterSeconds: number;
  dedupeCacheSize: number;
  rawTtlDays: number;
  rollupTtlDays: number;
  sqlToken: string | undefined;
  /** Server mode: keep ClickHouse users and row policies of the read keys in step with the keys (auth/server-tenancy.ts). */
  clickhouseTenantUsers: 'off' | 'apply';
  sqlTimeoutSeconds: number;
  sqlMaxRows: number;
  /** Per-query engine memory limit of /sql (max_memory_usage). */
  sqlMaxMemoryBytes: number;
  sqlMaxThreads: number;
  /** Per-query result size limit of /sql (max_result_bytes, and a cap on the bytes streamed back). */
  sqlMaxResultBytes: number;
  /** /sql queries running at once; more get 429. Kept below the libuv thread pool size (see thread-pool.ts). */
  sqlMaxConcurrent: number;
  /** Open HTTP connections; the server refuses sockets beyond it. */
  maxConnections: number;
  /** OTLP request bodies being read and processed at once; more get 503 before their body is read. */
  maxConcurrentBodies: number;
  /** OTLP/HTTP requests that may wait (body unread) for a body slot, and how long. */
  bodyQueue: { max: number; waitMs: number };
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  logLevel: string;
  /** The conversation-signals job (derive/conversation-signals.ts). */
  signals: {
    intervalSeconds: number;
    thresholds: SignalThresholds;
    longestRequestMin: number;
  };
  /** OTLP/gRPC port; null = no gRPC receiver. */
  grpcPort: number | null;
  grpcHost: string;
  /** API keys → tenants (auth/); neither set = every request is `tenant`. */
  apiKeysFile: string | undefined;
  apiKeys: string | undefined;
  /** Forwarding downstream (forward/); undefined endpoint = off. */
  forward: { endpoint: string | undefined; protocol: 'http/protobuf' | 'grpc'; headers: Record<string, string>; timeoutMs: number; maxQueueItems: number; signals: ('traces' | 'logs')[] };
}

/** Every RAGSCOPE_* variable this processor reads (the compose-file test checks against this list). */
export const CONFIG_ENV_NAMES: readonly string[] = Object.keys(envSchema.shape);

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.RAGSCOPE_CLICKHOUSE_TENANT_USERS === 'apply' && e.RAGSCOPE_CLICKHOUSE_URL === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  RAGSCOPE_CLICKHOUSE_TENANT_USERS: apply needs a ClickHouse server (RAGSCOPE_CLICKHOUSE_URL); the embedded engine has no users or row policies',
    );
  }
  if (e.RAGSCOPE_CLICKHOUSE_CLUSTER !== undefined && e.RAGSCOPE_CLICKHOUSE_URL === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  RAGSCOPE_CLICKHOUSE_CLUSTER: cluster mode needs a ClickHouse server (set RAGSCOPE_CLICKHOUSE_URL); the embedded store is one node',
    );
  }
  return {
    host: e.RAGSCOPE_HOST,
    port: e.RAGSCOPE_PORT,
    dataDir: e.RAGSCOPE_DATA_DIR,
    clickhouseUrl: e.RAGSCOPE_CLICKHOUSE_URL,
    clickhouseUser: e.RAGSCOPE_CLICKHOUSE_USER,
    clickhousePassword: e.RAGSCOPE_CLICKHOUSE_PASSWORD,
    database: e.RAGSCOPE_CLICKHOUSE_DATABASE,
    clickhouseCluster: e.RAGSCOPE_CLICKHOUSE_CLUSTER,
    pricesFile: e.RAGSCOPE_PRICES_FILE,
    tenant: e.RAGSCOPE_TENANT,
    maxBodyBytes: e.RAGSCOPE_MAX_BODY_BYTES,
    batchMaxRows: e.RAGSCOPE_BATCH_MAX_ROWS,
    batchMaxBytes: e.RAGSCOPE_BATCH_MAX_BYTES,
    batchMaxDelayMs: e.RAGSCOPE_BATCH_MAX_DELAY_MS,
    walDir: e.RAGSCOPE_WAL_DIR ?? join(e.RAGSCOPE_DATA_DIR, 'wal'),
    spoolMaxBytes: e.RAGSCOPE_SPOOL_MAX_BYTES,
    walSegmentBytes: e.RAGSCOPE_WAL_SEGMENT_BYTES,
    walRetainBytes: e.RAGSCOPE_WAL_RETAIN_BYTES,
    recentKeys: e.RAGSCOPE_RECENT_KEYS,
    shutdownGraceMs: e.RAGSCOPE_SHUTDOWN_GRACE_MS,
    retryAfterSeconds: e.RAGSCOPE_RETRY_AFTER_SECONDS,
    dedupeCacheSize: e.RAGSCOPE_DEDUPE_CACHE_SIZE,
    rawTtlDays: e.RAGSCOPE_RAW_TTL_DAYS,
    rollupTtlDays: e.RAGSCOPE_ROLLUP_TTL_DAYS,
    sqlToken: e.RAGSCOPE_SQL_TOKEN,
    clickhouseTenantUsers: e.RAGSCOPE_CLICKHOUSE_TENANT_USERS,
    sqlTimeoutSeconds: e.RAGSCOPE_SQL_TIMEOUT_SECONDS,
    sqlMaxRows: e.RAGSCOPE_SQL_MAX_ROWS,
    sqlMaxMemoryBytes: e.RAGSCOPE_SQL_MAX_MEMORY_BYTES,
    sqlMaxThreads: e.RAGSCOPE_SQL_MAX_THREADS,
    sqlMaxResultBytes: e.RAGSCOPE_SQL_MAX_RESULT_BYTES,
    sqlMaxConcurrent: e.RAGSCOPE_SQL_MAX_CONCURRENT,
    maxConnections: e.RAGSCOPE_MAX_CONNECTIONS,
    maxConcurrentBodies: e.RAGSCOPE_MAX_CONCURRENT_BODIES,
    bodyQueue: { max: e.RAGSCOPE_BODY_QUEUE_MAX, waitMs: e.RAGSCOPE_BODY_QUEUE_WAIT_MS },
    headersTimeoutSeconds: e.RAGSCOPE_HEADERS_TIMEOUT_SECONDS,
    requestTimeoutSeconds: e.RAGSCOPE_REQUEST_TIMEOUT_SECONDS,
    keepAliveTimeoutSeconds: e.RAGSCOPE_KEEP_ALIVE_TIMEOUT_SECONDS,
    logLevel: e.RAGSCOPE_LOG_LEVEL,
    signals: {
      intervalSeconds: e.RAGSCOPE_SIGNALS_INTERVAL_SECONDS,
      thresholds: {
        repeatWindowMin: e.RAGSCOPE_SIGNALS_REPEAT_WINDOW_MIN,
        reformulationWindowMin: e.RAGSCOPE_SIGNALS_REFORMULATION_WINDOW_MIN,
        reformulationMaxDistance: e.RAGSCOPE_SIGNALS_REFORMULATION_MAX_DISTANCE,
        sessionTimeoutMin: e.RAGSCOPE_SIGNALS_SESSION_TIMEOUT_MIN,
      },
      longestRequestMin: e.RAGSCOPE_SIGNALS_LONGEST_REQUEST_MIN,
    },
    grpcPort: e.RAGSCOPE_GRPC_PORT,
    grpcHost: e.RAGSCOPE_GRPC_HOST ?? e.RAGSCOPE_HOST,
    apiKeysFile: e.RAGSCOPE_API_KEYS_FILE,
    apiKeys: e.RAGSCOPE_API_KEYS,
    forward: {
      endpoint: e.RAGSCOPE_FORWARD_ENDPOINT,
      protocol: e.RAGSCOPE_FORWARD_PROTOCOL,
      headers: parseHeaders(e.RAGSCOPE_FORWARD_HEADERS),
      timeoutMs: e.RAGSCOPE_FORWARD_TIMEOUT_MS,
      maxQueueItems: e.RAGSCOPE_FORWARD_QUEUE_SIZE,
      signals: e.RAGSCOPE_FORWARD_SIGNALS,
    },
  };
}

/** OTEL_EXPORTER_OTLP_HEADERS syntax: `key=value,key2=value2`, values URL-decoded. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid configuration:\n  RAGSCOPE_FORWARD_HEADERS: want key=value pairs separated by commas, got "${part.trim()}"`);
    headers[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return headers;
}
