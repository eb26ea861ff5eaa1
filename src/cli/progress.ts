/**
 * A progress bar with throughput, on stderr. On a terminal it redraws one
 * line; otherwise (CI, pipes) it prints a line every few seconds.
 */
import type { ImportProgress } from '../importers/sinks';

export class ProgressBar implements ImportProgress {
  private name = '';
  private total = 0;
  private count = 0;
  private started = 0;
  private lastPrint = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  phase(name: string, total: number): void {
    this.finishLine();
    this.name = name;
    this.total = total;
    this.count = 0;
    this.started = Date.now();
    this.lastPrint = 0;
    this.render(true);
  }

  advance(count: number): void {
    this.count += count;
    this.render(false);
  }

  done(): void {
    this.finishLine();
  }

  private finishLine(): void {
    if (this.name) {
      this.render(true);
      if (this.out.isTTY) this.out.write('\n');
    }
    this.name = '';
  }

  private render(force: boolean): void {
    const now = Date.now();
    const interval = this.out.isTTY ? 100 : 3000;
    if (!force && now - this.lastPrint < interval) return;
    this.lastPrint = now;
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const rate = Math.round(this.count / seconds);
    const fraction = this.total > 0 ? Math.min(1, this.count / this.total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const percent = (fraction * 100).toFixed(0);
    const counts = `${this.count}/${this.total} ${percent}% ${rate}/s`;
    const line = `${this.name.padEnd(6)} [${bar}] ${counts}`;
    this.out.write(this.out.isTTY ? `\r${line}` : `${line}\n`);
  }
}
