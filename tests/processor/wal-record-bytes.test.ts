// encodeRecord writes a write-ahead-log record line by line into one Buffer (no joined string): its bytes must
// be exactly those of the record's text encoded as UTF-8 in one piece, whatever the rows hold, and decode back
// to the same lines.
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, linesBytes } from '../../processor/src/store/wal-record.js';
import type { RowsByTable } from '../../processor/src/store/write-queue.js';

/** The record's text as the previous encoder built it: every part joined, then encoded once. */
function joinedText(rows: RowsByTable, keys: string[]): string {
  const parts = [`K\t${keys.length}\n`, ...keys.map((k) => `${k}\n`)];
  for (const [table, list] of Object.entries(rows)) {
    if (!list || list.length === 0) continue;
    const compact = typeof list[0] === 'string';
    parts.push(`T\t${table}\t${compact ? 'c' : 'e'}\t${list.length}\n`);
    for (const row of list) parts.push(`${typeof row === 'string' ? row : JSON.stringify(row)}\n`);
  }
  return parts.join('');
}

describe('write-ahead-log record bytes', () => {
  it('ASCII, multi-byte UTF-8, astral characters, lone surrogates, row objects, empty tables', () => {
    const rows: RowsByTable = {
      otel_traces: ['["a",1]', '["modèle-ünïcode-🚀","\u2028"]', '["lone \ud800 surrogate","\udc00"]', `["${'x'.repeat(5000)}"]`],
      genai_spans: [],
      feedback: [{ TraceId: 'é', Comment: 'line\nbreak 🚀', Score: 1 }],
    };
    const keys = ['s0af7651916cd43dd8448eb211c80319cb7ad6b7169203331', 'k-ü'];
    const { payload, tables } = encodeRecord(rows, keys);
    expect(payload.length).toBeGreaterThan(5000);
    expect(payload.equals(Buffer.from(joinedText(rows, keys), 'utf8'))).toBe(true);
    expect(tables.map((t) => [t.table, t.format, t.lines.length])).toEqual([
      ['otel_traces', 'JSONCompactEachRow', 4],
      ['feedback', 'JSONEachRow', 1],
    ]);
    // Each table's bytes are its lines as an insert body, a view of the record: written and read back alike.
    for (const t of tables) expect(t.bytes!.equals(linesBytes(t.lines))).toBe(true);
    const decoded = decodeRecord(payload);
    expect(decoded.tables).toHaveLength(2);
    for (const [i, t] of decoded.tables.entries()) {
      expect(t.bytes!.equals(linesBytes(t.lines))).toBe(true);
      expect(t.bytes!.equals(tables[i].bytes!)).toBe(true);
    }
    expect(decoded.keys).toEqual(keys);
    // A lone surrogate is not valid UTF-8: it reads back as U+FFFD, as it did before.
    expect(decoded.tables[0].lines[2]).toBe('["lone \ufffd surrogate","\ufffd"]');
    expect(decoded.tables[0].lines[1]).toBe(rows.otel_traces![1]);
    expect(decoded.tables[1].lines[0]).toBe(JSON.stringify(rows.feedback![0]));
  });

  it('rows much longer than estimated (multi-byte text grows the buffer), and many rows', () => {
    // Three bytes per UTF-16 unit: more than the one-byte-per-unit estimate.
    const wide = '€'.repeat(20_000);
    const rows: RowsByTable = { otel_traces: Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? `["${wide}",${i}]` : `["row ${i}","ü",${i}]`)) };
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const { payload } = encodeRecord(rows, keys);
    expect(payload.length).toBeGreaterThan(6 * 60_000);
    expect(payload.equals(Buffer.from(joinedText(rows, keys), 'utf8'))).toBe(true);
    expect(decodeRecord(payload).tables[0].lines).toEqual(rows.otel_traces);
    // The buffer grew while the lines were written: the views are of the final bytes.
    expect(encodeRecord(rows, keys).tables[0].bytes!.equals(linesBytes(rows.otel_traces as string[]))).toBe(true);
    expect(decodeRecord(payload).tables[0].bytes!.equals(linesBytes(rows.otel_traces as string[]))).toBe(true);
  });

  it('an insert body for the raw insert: the lines and their newlines as UTF-8, as the client\'s joined body', () => {
    const lines = ['["a",1]', '["modèle-ünïcode-🚀","\u2028"]', '["lone \ud800 surrogate"]', `["${'€'.repeat(20_000)}"]`, '["z"]'];
    const body = linesBytes(lines);
    expect(body.length).toBeGreaterThan(60_000);
    expect(body.equals(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'))).toBe(true);
    expect(linesBytes([]).length).toBe(0);
  });

  it('a row object among row lines is refused', () => {
    expect(() => encodeRecord({ otel_traces: ['["a"]', { a: 1 }] }, [])).toThrow(/mixes/);
  });
});
