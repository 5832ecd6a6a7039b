/** A bounded, live log (build or run) with secret values scrubbed before anything is kept. */

export interface LogLine {
  timestamp: string;
  data: string;
}

export class SpaceLog {
  private lines: LogLine[] = [];
  private readonly listeners = new Set<(l: LogLine) => void>();
  private secrets: string[] = [];

  constructor(private readonly max = 2000) {}

  /** Secret values to replace with `***` in every later line. */
  setSecrets(values: string[]): void {
    // longest first, so a secret containing another is scrubbed whole
    this.secrets = [...values].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }

  write(text: string): void {
    const data = this.scrub(text);
    if (!data) return;
    const line = { timestamp: new Date().toISOString(), data: data.endsWith("\n") ? data : `${data}\n` };
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    for (const f of this.listeners) f(line);
  }

  clear(): void {
    this.lines = [];
  }

  all(): LogLine[] {
    return [...this.lines];
  }

  text(): string {
    return this.lines.map((l) => l.data).join("");
  }

  /** Calls `f` for each new line until the returned function is called. */
  follow(f: (l: LogLine) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

/**
 * Splits a byte stream into lines for a log. Secrets are scrubbed per line, so a value is
 * caught even when it arrives split across two chunks (unless it contains a newline).
 */
export function lineWriter(log: SpaceLog, prefix = ""): { push(chunk: Buffer): void; end(): void } {
  let rest = "";
  return {
    push(chunk) {
      rest += chunk.toString("utf8");
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      for (const p of parts) log.write(`${prefix}${p}\n`);
      if (rest.length > 64 * 1024) {
        log.write(`${prefix}${rest}\n`);
        rest = "";
      }
    },
    end() {
      if (rest) log.write(`${prefix}${rest}\n`);
      rest = "";
    },
  };
}
