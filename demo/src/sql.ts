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

/** A client for `${url}/sql` returning JSONEachRow rows; bearer token from RAGSCOPE_SQL_TOKEN if given. */
export function sqlClient(url: string, token: string | undefined = process.env.RAGSCOPE_SQL_TOKEN): SqlClient {
  return async <T>(query: string, params: SqlParams = {}): Promise<T[]> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const body = JSON.stringify({ query, default_format: 'JSONEachRow', params });
    const res = await fetch(`${url}/sql`, { method: 'POST', headers, body });
    const text = await res.text();
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
