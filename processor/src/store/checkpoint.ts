// How far the write-ahead log has reached ClickHouse, kept on disk. Before inserting a range of records the
// shipper writes it down as in flight; after a crash that exact range is inserted again first, so every
// block is rebuilt from the same records in the same order and gets the same deduplication token.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';

export interface InFlight {
  from: number;
  to: number;
}

const stateSchema = z.object({
  /** Identity of this log: part of every deduplication token, so two logs never share one. */
  logId: z.string().min(1),
  /** Everything before this LSN is in ClickHouse. */
  shipped: z.number().int().nonnegative(),
  inFlight: z.object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative() }).nullable(),
});

export type CheckpointState = z.infer<typeof stateSchema>;

export class Checkpoint {
  private constructor(
    private readonly path: string,
    private state: CheckpointState,
  ) {}

  static load(dir: string): Checkpoint {
    const path = join(dir, 'checkpoint.json');
    if (!existsSync(path)) {
      const fresh = new Checkpoint(path, { logId: randomUUID(), shipped: 0, inFlight: null });
      fresh.save();
      return fresh;
    }
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path} is not a valid checkpoint: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return new Checkpoint(path, parsed.data);
  }

  get logId(): string {
    return this.state.logId;
  }

  get shipped(): number {
    return this.state.shipped;
  }

  get inFlight(): InFlight | null {
    return this.state.inFlight;
  }

  begin(range: InFlight): void {
    this.state = { ...this.state, inFlight: range };
    this.save();
  }

  complete(to: number): void {
    this.state = { ...this.state, shipped: to, inFlight: null };
    this.save();
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
