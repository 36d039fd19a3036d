// What one write-ahead-log record holds: the rows one request produced, per table, as the text lines the
// insert sends (so replay inserts exactly the bytes that were acknowledged), plus the keys of the spans and
// log records it carries (the duplicate memory is rebuilt from them after a restart).
//
// Layout (UTF-8 text; rows are single-line JSON, so a newline never occurs inside one):
//   K\t<n>\n            then n key lines
//   T\t<table>\t<fmt>\t<n>\n  then n row lines; fmt c = JSONCompactEachRow (row lines), e = JSONEachRow (objects)
import type { Row, RowsByTable, TableName } from './write-queue.js';

export type RowFormat = 'JSONCompactEachRow' | 'JSONEachRow';

export interface TableLines {
  table: TableName;
  format: RowFormat;
  lines: string[];
}

export interface DecodedRecord {
  keys: string[];
  tables: TableLines[];
}

const CODE_FORMAT: Record<string, RowFormat> = { c: 'JSONCompactEachRow', e: 'JSONEachRow' };

/** The record's bytes, and its rows as the lines they were written as (the shipper inserts these directly). */
export function encodeRecord(rows: RowsByTable, keys: readonly string[]): { payload: Buffer; tables: TableLines[] } {
  const parts: string[] = [`K\t${keys.length}\n`];
  for (const key of keys) parts.push(key, '\n');
  const tables: TableLines[] = [];
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    if (tableRows.length === 0) continue;
    const compact = typeof tableRows[0] === 'string';
    const lines: string[] = new Array(tableRows.length);
    parts.push(`T\t${table}\t${compact ? 'c' : 'e'}\t${tableRows.length}\n`);
    for (let i = 0; i < tableRows.length; i++) {
      const row = tableRows[i] as Row;
      if ((typeof row === 'string') !== compact) throw new Error(`${table}: a record mixes row lines and row objects`);
      const line = compact ? (row as string) : JSON.stringify(row);
      lines[i] = line;
      parts.push(line, '\n');
    }
    tables.push({ table: table as TableName, format: compact ? 'JSONCompactEachRow' : 'JSONEachRow', lines });
  }
  return { payload: Buffer.from(parts.join(''), 'utf8'), tables };
}

export function decodeRecord(payload: Buffer): DecodedRecord {
  const text = payload.toString('utf8');
  let pos = 0;
  const nextLine = (): string => {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) throw new Error('write-ahead-log record: truncated line');
    const line = text.slice(pos, nl);
    pos = nl + 1;
    return line;
  };
  const keyHeader = nextLine().split('\t');
  if (keyHeader[0] !== 'K') throw new Error('write-ahead-log record: no key section');
  const keys: string[] = [];
  for (let i = Number(keyHeader[1]); i > 0; i--) keys.push(nextLine());
  const tables: TableLines[] = [];
  while (pos < text.length) {
    const [tag, table, code, count] = nextLine().split('\t');
    if (tag !== 'T' || !CODE_FORMAT[code]) throw new Error(`write-ahead-log record: bad table header "${tag}\t${table}\t${code}"`);
    const lines: string[] = [];
    for (let i = Number(count); i > 0; i--) lines.push(nextLine());
    tables.push({ table: table as TableName, format: CODE_FORMAT[code], lines });
  }
  return { keys, tables };
}
