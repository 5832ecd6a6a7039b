/**
 * A one-line progress bar on stderr, drawn only when stderr is a TTY (never in CI logs or tests),
 * redrawn at most ten times a second.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  /** `total` ≤ 0 means unknown: the bar shows a count and a rate. */
  constructor(
    private readonly desc: string,
    private readonly total: number,
    unit = "examples",
  ) {
    this.unit = unit;
    this.enabled = Boolean(process.stderr.isTTY) && process.env.HEARTH_DISABLE_PROGRESS_BARS !== "1";
  }
  private readonly unit: string;

  /** Adds `n` finished items. */
  update(n: number): void {
    this.done += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? Math.round(this.done / secs) : 0;
    if (this.total <= 0) {
      // Unknown total: a counter and a rate.
      process.stderr.write(`\r${this.desc}: ${this.done} ${this.unit} [${secs.toFixed(1)}s, ${rate} ${this.unit}/s]`);
      return;
    }
    const frac = Math.min(1, this.done / this.total);
    const width = 30;
    const filled = Math.round(frac * width);
    process.stderr.write(
      `\r${this.desc}: ${(frac * 100).toFixed(0).padStart(3)}%|${"█".repeat(filled)}${" ".repeat(width - filled)}| ${this.done}/${this.total} [${secs.toFixed(1)}s, ${rate} ${this.unit}/s]`,
    );
  }

  /** Draws the final state and ends the line. */
  close(): void {
    if (!this.enabled) return;
    this.draw();
    process.stderr.write("\n");
  }
}
