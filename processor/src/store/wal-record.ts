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

/** The record's bytes, and its rows as the lines they were written as (the shipper inserts these directly). */
export function encodeRecord(rows: RowsByTable, keys: readonly string[]): { payload: Buffer; tables: TableLines[] } {
  const out = new RecordBytes(estimateChars(rows, keys));
  out.text(`K\t${keys.length}\n`);
  for (const key of keys) out.line(key);
  const tables: TableLines[] = [];
  const spans: [number, number][] = [];
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    if (tableRows.length === 0) continue;
    const compact = typeof tableRows[0] === 'string';
    const lines: string[] = new Array(tableRows.length);
    out.text(`T\t${table}\t${compact ? 'c' : 'e'}\t${tableRows.length}\n`);
    const start = out.position;
    for (let i = 0; i < tableRows.length; i++) {
      const row = tableRows[i] as Row;
      if ((typeof row === 'string') !== compact) throw new Error(`${table}: a record mixes row lines and row objects`);
      const line = compact ? (row as string) : JSON.stringify(row);
      lines[i] = line;
      out.line(line);
    }
    tables.push({ table: table as TableName, format: compact ? 'JSONCompactEachRow' : 'JSONEachRow', lines });
    spans.push([start, out.position]);
  }
  // Views are taken once the record is complete: writing may have moved it to a bigger buffer.
  const payload = out.bytes();
  for (let i = 0; i < tables.length; i++) tables[i].bytes = payload.subarray(spans[i][0], spans[i][1]);
  return { payload, tables };
}

/**
 * Lines as one UTF-8 Buffer, each followed by a newline: an insert body for chdb's raw insert
 * (clickhouse.ts), written without building the body as a JS string (see RecordBytes).
 */
export function linesBytes(lines: readonly string[]): Buffer {
  let chars = 0;
  for (let i = 0; i < lines.length; i++) chars += lines[i].length + 1;
  const out = new RecordBytes(chars);
  for (let i = 0; i < lines.length; i++) out.line(lines[i]);
  return out.bytes();
}

/** UTF-16 units of the record's text when every row is a line (row objects are estimated at 1 KB). */
function estimateChars(rows: RowsByTable, keys: readonly string[]): number {
  let chars = 64;
  for (const key of keys) chars += key.length + 1;
  for (const table in rows) {
    const tableRows = rows[table as TableName]!;
    chars += 64;
    for (let i = 0; i < tableRows.length; i++) {
      const row = tableRows[i];
      chars += (typeof row === 'string' ? row.length : 1024) + 1;
    }
  }
  return chars;
}

/**
 * The record's UTF-8 bytes, written line by line into one Buffer: the same bytes as
 * Buffer.from(lines.join('')), without the joined string. A request's record is ~1-3 MB of text, and a V8
 * string that size is a large object, mapped fresh for each request and freed by the next GC; on this box
 * that costs ~5 µs per KB (bench:pipeline, "wal record"), several times more than the UTF-8 copy itself.
 * Buffers come from malloc, which reuses freed memory. Lone surrogates become U+FFFD in both (V8's UTF-8
 * writer replaces them), so the bytes match exactly.
 */
class RecordBytes {
  private buf: Buffer;
  private pos = 0;

  constructor(chars: number) {
    // ASCII text, the usual case, takes one byte per UTF-16 unit; more is grown into.
    this.buf = Buffer.allocUnsafe(chars + (chars >> 4) + 256);
  }

  text(s: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 bytes for 2 units).
    if (this.buf.length - this.pos < s.length * 3) this.reserve(Buffer.byteLength(s, 'utf8'));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  line(s: string): void {
    this.text(s);
    if (this.pos === this.buf.length) this.reserve(1);
    this.buf[this.pos++] = 10;
  }

  private reserve(bytes: number): void {
    if (this.buf.length - this.pos >= bytes) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  get position(): number {
    return this.pos;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
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
    tables.push({ table: table as TableName, format: CODE_FORMAT[code], lines, bytes: payload.subarray(start, bytePos) });
  }
  return { keys, tables };
}
