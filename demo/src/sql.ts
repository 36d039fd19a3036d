// The processor's read-only SQL endpoint (POST /sql), as `npm run sql` uses it.

export class SqlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** ClickHouse query parameters: `{name:Type}` in the SQL, bound by the engine (no quoting by hand). */
export type SqlParams = Record<string, string | number | boolean | null | (string | number)[]>;

export type SqlClient = <T = Record<string, unknown>>(query: string, params?: SqlParams) => Promise<T[]>;

/** Queries this client sends at once: the processor's default RAGSCOPE_SQL_MAX_CONCURRENT answers more with 429. */
const MAX_IN_FLIGHT = 2;
/** How long a query keeps retrying 429 (the processor's other /sql clients are busy) before failing. */
const RETRY_429_FOR_MS = 120_000;

/**
 * A client for `${url}/sql` returning JSONEachRow rows; bearer token from RAGSCOPE_SQL_TOKEN if given.
 * Callers may fire many queries at once: the client runs MAX_IN_FLIGHT at a time and retries a 429 after
 * its Retry-After.
 */
export function sqlClient(url: string, token: string | undefined = process.env.RAGSCOPE_SQL_TOKEN): SqlClient {
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const acquire = async (): Promise<void> => {
    if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
  };
  const release = (): void => {
    inFlight--;
    waiting.shift()?.();
  };
  const post = async (body: string, headers: Record<string, string>): Promise<Response> => {
    const giveUpAt = Date.now() + RETRY_429_FOR_MS;
    for (;;) {
      const res = await fetch(`${url}/sql`, { method: 'POST', headers, body });
      if (res.status !== 429 || Date.now() > giveUpAt) return res;
      await res.arrayBuffer();
      const seconds = Number(res.headers.get('retry-after')) || 1;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  };
  return async <T>(query: string, params: SqlParams = {}): Promise<T[]> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const body = JSON.stringify({ query, default_format: 'JSONEachRow', params });
    await acquire();
    let res: Response;
    let text: string;
    try {
      res = await post(body, headers);
      text = await res.text();
    } finally {
      release();
    }
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        /* as is */
      }
      throw new SqlError(`POST ${url}/sql: HTTP ${res.status}: ${message}`, res.status);
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  };
}

/** A ClickHouse string literal (prefer query parameters: `sql('... {name:String}', { name })`). */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
