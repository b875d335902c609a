/** Progress on stderr: a redrawn line on a terminal, an occasional plain line elsewhere (CI logs). */
export class Progress {
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly every: number;

  constructor(
    private readonly label: string,
    private readonly total?: number,
    private readonly enabled = true,
  ) {
    this.every = this.tty ? 200 : 5000;
  }

  update(done: number, extra = ''): void {
    if (!this.enabled) return;
    const t = Date.now();
    if (t - this.last < this.every) return;
    this.last = t;
    this.draw(done, extra);
  }

  finish(done: number, extra = ''): void {
    if (!this.enabled) return;
    this.draw(done, extra);
    if (this.tty) process.stderr.write('\n');
  }

  private draw(done: number, extra: string): void {
    let bar = '';
    if (this.total) {
      const frac = Math.min(1, done / this.total);
      const width = 30;
      const filled = Math.round(frac * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% `;
    }
    const text = `${this.label} ${bar}${done.toLocaleString('en-US')} ${extra}`;
    process.stderr.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }
}
