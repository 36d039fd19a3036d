// What one write-ahead-log record holds: the rows one request produced, per table, as the text lines the
// insert sends (so replay inserts exactly the bytes that were acknowledged), plus the keys of the spans and
// log records it carries (the duplicate memory is rebuilt from them after a restart).
//
// Layout (UTF-8 text; rows are single-line JSON, so a newline never occurs inside one):
//   K\t<n>\n            then n key lines
//   T\t<table>\t<fmt>\t<n>\n  then n row lines; fmt c = JSONCompactEachRow (row lines), e = JSONEachRow (objects)
import type { Row, RowsByTable, TableName } from './write-queue.js';
import { ByteWriter, LineRow } from './json-bytes.js';

export type RowFormat = 'JSONCompactEachRow' | 'JSONEachRow';

export interface TableLines {
  table: TableName;
  format: RowFormat;
  /** How many lines. */
  count: number;
  /**
   * The lines as strings. For a record this process encoded, made from `bytes` on first use only (the
   * embedded store inserts the bytes; a server-mode insert or a split block needs the strings).
   */
  readonly lines: string[];
  /**
   * The same lines as they sit in the record: UTF-8, each followed by its newline (linesBytes(lines)), a view
   * of the record's bytes. The embedded store's insert body, without writing the lines again.
   */
  bytes?: Buffer;
}

export interface DecodedRecord {
  keys: string[];
  tables: TableLines[];
}

const CODE_FORMAT: Record<string, RowFormat> = { c: 'JSONCompactEachRow', e: 'JSONEachRow' };

/**
 * One table of a record encoded here: its lines are read back from its bytes when first asked for (an own,
 * enumerable property, so the table compares equal to decodeRecord's).
 */
function encodedTable(table: TableName, format: RowFormat, count: number, bytes: Buffer, lines: string[] | undefined): TableLines {
  let cached = lines;
  const t = { table, format, count } as TableLines;
  Object.defineProperty(t, 'lines', {
    get: () => (cached ??= splitLines(bytes, count)),
    set: (value: string[]) => {
      cached = value;
    },
    enumerable: true,
    configurable: true,
  });
  t.bytes = bytes;
  return t;
}

/**
 * Lines written each followed by a newline, back as strings: what decodeRecord reads. (A lone surrogate in a
 * row's text was written as U+FFFD and reads back as one: the bytes, what was acknowledged, are the same.)
 */
function splitLines(bytes: Buffer, count: number): string[] {
  const lines = bytes.toString('utf8').split('\n');
  lines.pop();
  if (lines.length !== count) throw new Error(`write-ahead-log record: ${lines.length} lines where ${count} were written`);
  return lines;
}

/** Row bytes per line row in the last record: the next record's buffer is sized from it. */
let lineRowBytes = 1024;

/**
 * The record's bytes, and its rows as the lines they were written as (the shipper inserts these directly).
 * Line rows (json-bytes.ts LineRow) are written straight into the record, with no string per row.
 */
export function encodeRecord(rows: RowsByTable, keys: readonly string[]): { payload: Buffer; tables: TableLines[] } {
  const out = new ByteWriter(estimateBytes(rows, keys));
  out.ascii(`K\t${keys.length}\n`);
  for (const key of keys) {
    out.text(key);
    out.byte(10);
  }
  const headers: { table: TableName; format: RowFormat; count: number; start: number; end: number; lines?: string[] }[] = [];
  let lineRows = 0;
  let lineRowTotal = 0;
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    if (tableRows.length === 0) continue;
    const compact = isLine(tableRows[0]);
    out.text(`T\t${table}\t${compact ? 'c' : 'e'}\t${tableRows.length}\n`);
    const start = out.pos;
    let lines: string[] | undefined;
    if (compact) {
      // Rows given as text are kept as the table's lines, as they were given.
      let texts = true;
      for (let i = 0; i < tableRows.length; i++) {
        const row = tableRows[i] as Row;
        if (typeof row === 'string') out.text(row);
        else if (row instanceof LineRow) {
          texts = false;
          const before = out.pos;
          row.write(out);
          lineRows++;
          lineRowTotal += out.pos - before;
        } else throw new Error(`${table}: a record mixes row lines and row objects`);
        out.byte(10);
      }
      if (texts) lines = (tableRows as string[]).slice();
    } else {
      lines = new Array(tableRows.length);
      for (let i = 0; i < tableRows.length; i++) {
        const row = tableRows[i] as Row;
        if (isLine(row)) throw new Error(`${table}: a record mixes row lines and row objects`);
        const line = JSON.stringify(row);
        lines[i] = line;
        out.text(line);
        out.byte(10);
      }
    }
    headers.push({ table: table as TableName, format: compact ? 'JSONCompactEachRow' : 'JSONEachRow', count: tableRows.length, start, end: out.pos, lines });
  }
  if (lineRows > 0) lineRowBytes = Math.ceil(lineRowTotal / lineRows);
  // Views are taken once the record is complete: writing may have moved it to a bigger buffer.
  const payload = out.written();
  const tables: TableLines[] = headers.map((h) => encodedTable(h.table, h.format, h.count, payload.subarray(h.start, h.end), h.lines));
  return { payload, tables };
}

/** A row written as a JSONCompactEachRow line: its text, or a line row (json-bytes.ts). */
export function isLine(row: Row): row is string | LineRow {
  return typeof row === 'string' || row instanceof LineRow;
}

/**
 * Lines as one UTF-8 Buffer, each followed by a newline: an insert body for chdb's raw insert
 * (clickhouse.ts), written without building the body as a JS string.
 */
export function linesBytes(lines: readonly string[]): Buffer {
  let chars = 0;
  for (let i = 0; i < lines.length; i++) chars += lines[i].length + 1;
  const out = new ByteWriter(chars + (chars >> 4));
  for (let i = 0; i < lines.length; i++) {
    out.text(lines[i]);
    out.byte(10);
  }
  return out.written();
}

/**
 * Bytes of the record when every row is ASCII text: row strings by their length, line rows by the size of the
 * last record's, row objects at 1 KB. More is grown into. The record is written into one Buffer, not joined
 * into one string: a request's record is ~1-3 MB, and a V8 string that size is a large object, mapped fresh
 * for each request and freed by the next GC (~5 µs per KB on this box; Buffers come from malloc, which
 * reuses freed memory).
 */
function estimateBytes(rows: RowsByTable, keys: readonly string[]): number {
  let chars = 64;
  for (const key of keys) chars += key.length + 1;
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    chars += 64;
    for (let i = 0; i < tableRows.length; i++) {
      const row = tableRows[i];
      chars += (typeof row === 'string' ? row.length : row instanceof LineRow ? lineRowBytes : 1024) + 1;
    }
  }
  return chars + (chars >> 4) + 256;
}

export function decodeRecord(payload: Buffer): DecodedRecord {
  const text = payload.toString('utf8');
  let pos = 0;
  // The same position in the bytes: a newline is one byte and one UTF-16 unit, and no other character's UTF-8
  // contains the byte 10, so the n-th newline of the text is the n-th newline byte.
  let bytePos = 0;
  const nextLine = (): string => {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) throw new Error('write-ahead-log record: truncated line');
    const line = text.slice(pos, nl);
    pos = nl + 1;
    bytePos = payload.indexOf(10, bytePos) + 1;
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
    const start = bytePos;
    for (let i = Number(count); i > 0; i--) lines.push(nextLine());
    tables.push({ table: table as TableName, format: CODE_FORMAT[code], count: lines.length, lines, bytes: payload.subarray(start, bytePos) });
  }
  return { keys, tables };
}
