/**
 * A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (fd 3 in, fd 4 out,
 * NUL-separated JSON): enough to open a page, run script in it and wait for events. No npm
 * browser driver needed, only Debian's chromium.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export const chromiumPath = ["chromium", "chromium-browser"].find((c) => spawnSync(c, ["--version"]).status === 0);

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly waiters: Array<{ method: string; sessionId?: string; resolve: (p: unknown) => void }> = [];
  private buf = "";

  private constructor(private readonly proc: ChildProcess) {
    const out = proc.stdio[4] as Readable;
    out.on("data", (c: Buffer) => {
      this.buf += c.toString("utf8");
      let i = this.buf.indexOf("\0");
      while (i >= 0) {
        const msg = JSON.parse(this.buf.slice(0, i)) as {
          id?: number;
          result?: unknown;
          error?: { message: string };
          method?: string;
          params?: unknown;
          sessionId?: string;
        };
        this.buf = this.buf.slice(i + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(msg.error.message));
          else p?.resolve(msg.result);
        } else if (msg.method) {
          const k = this.waiters.findIndex(
            (w) => w.method === msg.method && (!w.sessionId || w.sessionId === msg.sessionId),
          );
          if (k >= 0) this.waiters.splice(k, 1)[0]?.resolve(msg.params);
        }
        i = this.buf.indexOf("\0");
      }
    });
  }

  static async launch(profile: string): Promise<Browser> {
    const proc = spawn(
      chromiumPath as string,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--remote-debugging-pipe",
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
    );
    return new Browser(proc);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const p = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    return p;
  }

  waitFor(method: string, sessionId?: string): Promise<unknown> {
    return new Promise((resolve) => this.waiters.push({ method, sessionId, resolve }));
  }

  /** Opens `url` in a new tab and waits for its load event; returns the session id. */
  async open(url: string): Promise<string> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as {
      sessionId: string;
    };
    await this.send("Page.enable", {}, sessionId);
    const loaded = this.waitFor("Page.loadEventFired", sessionId);
    await this.send("Page.navigate", { url }, sessionId);
    await loaded;
    return sessionId;
  }

  /** Evaluates `expression` in the page and returns its value. */
  async eval(sessionId: string, expression: string): Promise<unknown> {
    const r = (await this.send(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true },
      sessionId,
    )) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails) throw new Error(`page script failed: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** A PNG of the page's viewport. */
  async screenshot(sessionId: string): Promise<Buffer> {
    await this.send(
      "Emulation.setDeviceMetricsOverride",
      { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const { data } = (await this.send("Page.captureScreenshot", { format: "png" }, sessionId)) as { data: string };
    return Buffer.from(data, "base64");
  }

  async close(): Promise<void> {
    const gone = new Promise((r) => this.proc.once("exit", r));
    await this.send("Browser.close").catch(() => {});
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }
}
