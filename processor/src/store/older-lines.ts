import { GENAI_COLUMNS } from './genai-spans-columns.js';
import { LINE_COLUMNS, TRACE_COLUMNS_BEFORE_TENANT } from './row-lines.js';
import type { TableName } from './write-queue.js';

// A write-ahead log can outlive the processor that wrote it: after an upgrade, its lines are replayed by a
// processor whose tables have more columns. Migrations only ever append columns to the line tables, so an
// older line is a prefix of today's column list; it is stored with the columns it has, the others take their
// DEFAULT (the value every row stored before the migration got). Only the widths lines really had are
// accepted: any other width is corruption and fails as before (the batch goes to the dead-letter file).

/** Widths of lines older processors wrote, per table, oldest first (today's width is not listed). */
export const OLDER_LINE_WIDTHS: Partial<Record<TableName, readonly number[]>> = {
  otel_traces: [TRACE_COLUMNS_BEFORE_TENANT],
  genai_spans: [
    GENAI_COLUMNS.indexOf('AnswerConfidence'), // before migration 0022
    GENAI_COLUMNS.indexOf('QuerySketch'), // before migration 0026
  ],
};

/** One insert per line width: the lines and the column list they were written with. */
export interface LinesOfOneWidth {
  columns: [string, ...string[]];
  lines: string[];
  width: number;
}

/**
 * The lines split by width when some were written by an older processor; undefined when every line has
 * today's width (nothing to do) or the table has no older widths. Throws naming the table and the width for a
 * line that matches no width a processor ever wrote.
 */
export function splitOlderLines(table: TableName, lines: readonly string[]): LinesOfOneWidth[] | undefined {
  const older = OLDER_LINE_WIDTHS[table];
  const current = LINE_COLUMNS[table];
  if (!older || !current) return undefined;
  const byWidth = new Map<number, string[]>();
  for (const line of lines) {
    const width = lineWidth(line);
    if (width !== current.length && !older.includes(width)) {
      throw new Error(`${table}: a write-ahead-log line has ${width} values; lines of this table have ${[...older, current.length].join(', ')}`);
    }
    const group = byWidth.get(width);
    if (group) group.push(line);
    else byWidth.set(width, [line]);
  }
  if (byWidth.size === 1 && byWidth.has(current.length)) return undefined;
  return [...byWidth].map(([width, group]) => ({
    width,
    lines: group,
    columns: current.slice(0, width).map((c) => `\`${c}\``) as [string, ...string[]],
  }));
}

function lineWidth(line: string): number {
  try {
    const values: unknown = JSON.parse(line);
    return Array.isArray(values) ? values.length : -1;
  } catch {
    return -1;
  }
}
