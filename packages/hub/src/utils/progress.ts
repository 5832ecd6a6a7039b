/**
 * A progress bar on stderr when it is a TTY (one line, redrawn in place), silent otherwise
 * or when HF_HUB_DISABLE_PROGRESS_BARS is set. Aggregates any number of concurrent files.
 */
import { progressBarsDisabled } from "../config.ts";
import type { ProgressListener } from "../types/public.ts";

export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export class ProgressBar {
  private readonly files = new Map<string, { loaded: number; total: number }>();
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A bar if stderr is a TTY and bars are not disabled; else undefined. */
  static maybe(label: string, enabled?: boolean): ProgressBar | undefined {
    const on = enabled ?? (Boolean(process.stderr.isTTY) && !progressBarsDisabled());
    return on ? new ProgressBar(label) : undefined;
  }

  readonly listener: ProgressListener = (e) => {
    this.files.set(e.path, { loaded: e.loaded, total: e.total });
    const now = Date.now();
    if (now - this.lastDraw > 100 || e.loaded === e.total) {
      this.lastDraw = now;
      this.draw();
    }
  };

  private draw(): void {
    let loaded = 0;
    let total = 0;
    for (const f of this.files.values()) {
      loaded += f.loaded;
      total += f.total;
    }
    const width = 30;
    const frac = total > 0 ? Math.min(1, loaded / total) : 0;
    const filled = Math.round(frac * width);
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? `${formatBytes(loaded / secs)}/s` : "";
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${formatBytes(loaded)}/${formatBytes(total)} ${rate}`;
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) {
      this.draw();
      this.stream.write("\n");
    }
  }
}

/** Combines an optional user listener and an optional bar. */
export function combineProgress(...listeners: (ProgressListener | undefined)[]): ProgressListener | undefined {
  const ls = listeners.filter((l): l is ProgressListener => l !== undefined);
  if (ls.length === 0) return undefined;
  return (e) => {
    for (const l of ls) l(e);
  };
}
