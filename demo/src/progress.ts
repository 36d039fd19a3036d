// A plain-text progress bar: redrawn in place on a terminal, a line every few seconds otherwise (CI logs,
// pipes). No dependencies.
import type { TrafficStats } from './traffic.js';

export class ProgressBar {
  private lastLine = 0;
  private lastText = '';
  private drawn = false;
  private last?: { stats: TrafficStats; inFlight: number };

  constructor(
    private readonly out: NodeJS.WriteStream,
    /** Requests to send (0 = unknown). */
    private readonly total: number,
    /** Seconds of traffic (0 = unknown). */
    private readonly durationSeconds: number,
    private readonly tty: boolean = out.isTTY === true,
    private readonly intervalMs = 2000,
  ) {}

  update(stats: TrafficStats, inFlight: number): void {
    this.last = { stats, inFlight };
    if (this.tty) {
      this.out.write(`\r\x1b[2K${this.render(stats, inFlight)}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLine >= this.intervalMs) {
      this.lastLine = Date.now();
      this.print(this.render(stats, inFlight));
    }
  }

  /** Prints a line above the bar. */
  log(line: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.tty && this.last) this.update(this.last.stats, this.last.inFlight);
  }

  finish(): void {
    if (this.last) {
      if (this.tty) this.out.write(`\r\x1b[2K${this.render(this.last.stats, this.last.inFlight)}\n`);
      else this.print(this.render(this.last.stats, this.last.inFlight));
    }
    this.drawn = false;
  }

  private print(text: string): void {
    if (text === this.lastText) return;
    this.lastText = text;
    this.out.write(`${text}\n`);
  }

  render(s: TrafficStats, inFlight: number): string {
    const seconds = s.elapsedMs / 1000;
    let fraction: number;
    let count: string;
    if (this.total > 0) {
      fraction = s.done / this.total;
      count = `${String(s.done).padStart(String(this.total).length)}/${this.total}`;
    } else {
      fraction = this.durationSeconds > 0 ? seconds / this.durationSeconds : 0;
      count = `${s.done}`;
    }
    if (this.durationSeconds > 0) fraction = Math.max(fraction, Math.min(1, seconds / this.durationSeconds));
    fraction = Math.max(0, Math.min(1, fraction));
    const width = 24;
    const full = Math.round(fraction * width);
    const bar = this.tty ? `${'█'.repeat(full)}${'░'.repeat(width - full)}` : `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
    const rate = seconds > 0 ? (s.done / seconds).toFixed(1) : '0.0';
    const parts = [
      `${count} requests`,
      `${s.failed} failed`,
      `${s.cacheHits} cached`,
      `${s.feedback} feedback`,
      `${inFlight} in flight`,
      `${rate} req/s`,
      `${seconds.toFixed(1)} s`,
    ];
    return `  ${bar} ${parts.join(' · ')}`;
  }
}
