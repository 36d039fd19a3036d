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

export function encodeRecord(rows: RowsByTable, keys: readonly string[]): Buffer {
  const parts: string[] = [`K\t${keys.length}\n`];
  for (const key of keys) parts.push(key, '\n');
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    if (tableRows.length === 0) continue;
    const lines = typeof tableRows[0] === 'string';
    parts.push(`T\t${table}\t${lines ? 'c' : 'e'}\t${tableRows.length}\n`);
    for (const row of tableRows as Row[]) {
      if ((typeof row === 'string') !== lines) throw new Error(`${table}: a record mixes row lines and row objects`);
      parts.push(lines ? (row as string) : JSON.stringify(row), '\n');
    }
  }
  return Buffer.from(parts.join(''), 'utf8');
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
