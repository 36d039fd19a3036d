/**
 * ClickHouse query parameters for /sql: `{name:Type}` placeholders in the SQL, values from `param_<name>`
 * in the URL (as ClickHouse's HTTP interface takes them) or `"params": { "<name>": value }` in a JSON body.
 * The engine binds and type-checks them; this module collects the values and names any that are missing,
 * before the query runs.
 */

export type ParamValue = string | number | boolean | null | ParamValue[];
export type QueryParams = Record<string, ParamValue>;

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/;

export class ParamError extends Error {}

/** `param_x=...` entries of a parsed URL query string. */
export function paramsFromUrl(query: Record<string, unknown>): QueryParams {
  const params: QueryParams = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('param_')) continue;
    const name = key.slice('param_'.length);
    if (!PARAM_NAME.test(name)) throw new ParamError(`invalid query parameter name ${JSON.stringify(key)}`);
    if (typeof value !== 'string') throw new ParamError(`query parameter "${name}" is given more than once`);
    params[name] = value;
  }
  return params;
}

/** The `params` object of a JSON body: names → strings, numbers, booleans, null or arrays of them. */
export function paramsFromJson(value: unknown): QueryParams {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ParamError('field "params" must be an object of parameter name → value');
  }
  const params: QueryParams = {};
  for (const [name, v] of Object.entries(value)) {
    if (!PARAM_NAME.test(name)) throw new ParamError(`invalid query parameter name ${JSON.stringify(name)}`);
    if (!isParamValue(v)) {
      throw new ParamError(`query parameter "${name}" must be a string, number, boolean, null or an array of them`);
    }
    params[name] = v;
  }
  return params;
}

function isParamValue(v: unknown): v is ParamValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  return Array.isArray(v) && v.every(isParamValue);
}

/**
 * Names of the `{name:Type}` placeholders in a query, skipping string literals, quoted identifiers and
 * comments (where braces are just text).
 */
export function placeholderNames(sql: string): Set<string> {
  const names = new Set<string>();
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '{') {
      const match = PLACEHOLDER.exec(sql.slice(i, i + 200));
      if (match) names.add(match[1]);
      i++;
    } else {
      i++;
    }
  }
  return names;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return i;
}

/** Throws a ParamError naming the first placeholder without a value. */
export function checkParams(sql: string, params: QueryParams): void {
  for (const name of placeholderNames(sql)) {
    if (!(name in params)) {
      throw new ParamError(
        `missing query parameter "${name}" (the query uses {${name}:…}): pass param_${name}=… in the URL or "params": { "${name}": … } in a JSON body`,
      );
    }
  }
}
