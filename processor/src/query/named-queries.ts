// Named example queries (clickhouse/queries/*.sql): load one by name and run it with ClickHouse query
// parameters. File format:
//   -- <the question it answers, one or more comment lines>
//   -- defaults: sla_ms=2000, limit=20          (optional: parameter defaults)
//   SELECT ... WHERE Day >= toDate({from:DateTime}) ...
// Every {name:Type} placeholder is a parameter; `tenant` defaults to 'default'. Values are sent as query
// parameters (never spliced into the SQL), so user input cannot change the query.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';

/** clickhouse/queries at the repository root (same relative depth from src/ and dist/). */
export const DEFAULT_QUERIES_DIR = fileURLToPath(new URL('../../../clickhouse/queries/', import.meta.url));

export interface QueryParameter {
  name: string;
  type: string;
  default?: string;
}

export interface NamedQuery {
  name: string;
  file: string;
  /** The leading comment: what the query answers. */
  question: string;
  sql: string;
  parameters: QueryParameter[];
}

export type ParamValue = string | number | boolean | Date | readonly (string | number)[];

export class NamedQueryError extends Error {}

const NAME = /^[a-z0-9_]+$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}/g;
const BUILTIN_DEFAULTS: Record<string, string> = { tenant: 'default' };

export function parseNamedQuery(name: string, file: string, text: string): NamedQuery {
  const lines = text.split(/\r?\n/);
  const comment: string[] = [];
  const defaults: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line.startsWith('--')) break;
    const body = line.replace(/^--\s?/, '');
    const d = /^defaults:\s*(.*)$/i.exec(body);
    if (d) {
      for (const part of d[1].split(',')) {
        const [k, ...v] = part.split('=');
        if (k && v.length) defaults[k.trim()] = v.join('=').trim();
      }
    } else {
      comment.push(body);
    }
  }
  const question = comment.join(' ').replace(/\s+/g, ' ').trim();
  if (question === '') throw new NamedQueryError(`${file}: must start with a comment stating the question it answers`);
  const sql = lines.slice(i).join('\n').trim().replace(/;\s*$/, '');
  const parameters = new Map<string, QueryParameter>();
  for (const m of sql.matchAll(PLACEHOLDER)) {
    const [, pname, type] = m;
    const prev = parameters.get(pname);
    if (prev && prev.type !== type.trim()) throw new NamedQueryError(`${file}: parameter ${pname} used with types ${prev.type} and ${type}`);
    const def = defaults[pname] ?? BUILTIN_DEFAULTS[pname];
    parameters.set(pname, { name: pname, type: type.trim(), ...(def !== undefined ? { default: def } : {}) });
  }
  return { name, file, question, sql, parameters: [...parameters.values()] };
}

export function listNamedQueries(dir: string = DEFAULT_QUERIES_DIR): NamedQuery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseNamedQuery(f.slice(0, -4), f, readFileSync(`${dir}/${f}`, 'utf8')));
}

export function loadNamedQuery(name: string, dir: string = DEFAULT_QUERIES_DIR): NamedQuery {
  if (!NAME.test(name)) throw new NamedQueryError(`invalid query name "${name}"`);
  let text: string;
  try {
    text = readFileSync(`${dir}/${name}.sql`, 'utf8');
  } catch {
    throw new NamedQueryError(`no query named "${name}" in ${dir}`);
  }
  return parseNamedQuery(name, `${name}.sql`, text);
}

/** Query-parameter text for a value: Dates become 'YYYY-MM-DD hh:mm:ss[.fff]' in UTC. */
export function formatParam(value: ParamValue): string | number | boolean | (string | number)[] {
  if (value instanceof Date) {
    const iso = value.toISOString(); // 2025-01-02T03:04:05.678Z
    const ms = iso.slice(20, 23);
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '000' ? '' : `.${ms}`}`;
  }
  if (Array.isArray(value)) return [...value];
  return value as string | number | boolean;
}

/** The query parameters to send: given values, then file/built-in defaults; throws when one is missing. */
export function resolveParams(query: NamedQuery, params: Record<string, ParamValue | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const p of query.parameters) {
    const v = params[p.name];
    if (v !== undefined) out[p.name] = formatParam(v);
    else if (p.default !== undefined) out[p.name] = p.default;
    else missing.push(`${p.name}:${p.type}`);
  }
  if (missing.length) throw new NamedQueryError(`query ${query.name} needs parameter(s) ${missing.join(', ')}`);
  return out;
}

export interface RunOptions {
  dir?: string;
  clickhouseSettings?: Record<string, string | number>;
}

/** Loads `name` and runs it; rows as JSON objects (64-bit ints and decimals as the client returns them). */
export async function runNamedQuery<T = Record<string, unknown>>(
  client: ClickHouseClient,
  name: string,
  params: Record<string, ParamValue | undefined> = {},
  options: RunOptions = {},
): Promise<T[]> {
  const query = loadNamedQuery(name, options.dir);
  const rs = await client.query({
    query: query.sql,
    query_params: resolveParams(query, params),
    format: 'JSONEachRow',
    ...(options.clickhouseSettings ? { clickhouse_settings: options.clickhouseSettings } : {}),
  });
  return rs.json<T>();
}
