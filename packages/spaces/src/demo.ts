/**
 * `demo({fn, inputs, outputs})`: a function becomes a page with a form, a queue with progress
 * and an HTTP API. Every URL the page uses is relative, so the same app works at `/` locally and
 * under a hub's `/spaces/<ns>/<name>/app/` prefix.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Component, ValueOf } from "./components.ts";
import { SpacesError } from "./errors.ts";
import { renderPage } from "./page.ts";
import { type JobState, Queue } from "./queue.ts";

// biome-ignore lint/suspicious/noExplicitAny: component lists mix value types
export type AnyComponent = Component<any>;
/** The argument tuple of a demo function for these input components. */
export type Values<I extends readonly AnyComponent[]> = { -readonly [K in keyof I]: ValueOf<I[K]> };
/** What the function returns: the value itself for one output, a tuple for several. */
export type Returned<O extends readonly AnyComponent[]> = O extends readonly [infer C]
  ? ValueOf<C>
  : Values<O> | Readonly<Values<O>>;

export interface DemoOptions<I extends readonly AnyComponent[], O extends readonly AnyComponent[]> {
  fn: NoInfer<(...args: Values<I>) => Returned<O> | Promise<Returned<O>>>;
  inputs: I;
  outputs: O;
  /** Rows of input values shown as clickable examples. */
  examples?: Values<I>[];
  title?: string;
  description?: string;
  /** How many calls run at once (default 1; others wait in the queue). */
  concurrency?: number;
  /** Largest request body in bytes (default 32 MiB). */
  maxBodySize?: number;
}

export interface LaunchOptions {
  /** Default: `PORT` from the environment (set by the hub for a Space), else 7860. */
  port?: number;
  /** Default 127.0.0.1, or `HOST` from the environment. */
  host?: string;
  /** Print the URL (default true). */
  quiet?: boolean;
}

/** The API's description of a demo (`GET api/info`). */
export interface DemoInfo {
  title: string;
  description?: string;
  inputs: Array<{ kind: string; label: string }>;
  outputs: Array<{ kind: string; label: string }>;
}

export class Demo<I extends readonly AnyComponent[], O extends readonly AnyComponent[]> {
  readonly title: string;
  private readonly queue: Queue;
  private server: Server | undefined;

  constructor(readonly options: DemoOptions<I, O>) {
    if (typeof options.fn !== "function")
      throw new SpacesError("HEARTH_SPACES_BAD_CONFIG", "demo: option 'fn' must be a function");
    for (const key of ["inputs", "outputs"] as const) {
      const list = options[key];
      if (!Array.isArray(list) || list.some((c) => !c || typeof c.fromJson !== "function"))
        throw new SpacesError("HEARTH_SPACES_BAD_CONFIG", `demo: option '${key}' must be an array of components`);
    }
    if (options.outputs.length === 0)
      throw new SpacesError("HEARTH_SPACES_BAD_CONFIG", "demo: option 'outputs' needs at least one component");
    options.examples?.forEach((ex, i) => {
      if (!Array.isArray(ex) || ex.length !== options.inputs.length)
        throw new SpacesError(
          "HEARTH_SPACES_BAD_CONFIG",
          `demo: examples[${i}] must hold ${options.inputs.length} values (one per input), got ${JSON.stringify(ex)?.slice(0, 80)}`,
        );
    });
    this.title = options.title ?? "Demo";
    this.queue = new Queue(options.concurrency ?? 1);
  }

  info(): DemoInfo {
    const d = (c: AnyComponent) => ({ kind: c.kind, label: c.label });
    return {
      title: this.title,
      description: this.options.description,
      inputs: this.options.inputs.map(d),
      outputs: this.options.outputs.map(d),
    };
  }

  /** Runs the function directly (no queue): values in, output values out (always a list). */
  async call(values: unknown[]): Promise<unknown[]> {
    const fn = this.options.fn as (...a: unknown[]) => unknown;
    const out = await fn(...values);
    const outs = this.options.outputs.length === 1 ? [out] : out;
    if (!Array.isArray(outs) || outs.length !== this.options.outputs.length)
      throw new SpacesError(
        "HEARTH_SPACES_FN_FAILED",
        `demo: fn must return ${this.options.outputs.length} values (one per output), got ${JSON.stringify(outs)?.slice(0, 80)}`,
      );
    return outs;
  }

  private fromJson(data: unknown): unknown[] {
    const { inputs } = this.options;
    if (!Array.isArray(data) || data.length !== inputs.length)
      throw new SpacesError(
        "HEARTH_SPACES_BAD_INPUT",
        `predict: 'data' must be an array of ${inputs.length} input values, got ${JSON.stringify(data)?.slice(0, 80)}`,
      );
    return inputs.map((c, i) => c.fromJson(data[i], `predict: data[${i}] (${c.label})`));
  }

  private async fromForm(form: FormData): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const [i, c] of this.options.inputs.entries()) out.push(await c.fromForm(form, `in${i}`, `form: ${c.label}`));
    return out;
  }

  private toJson(result: unknown[]): unknown[] {
    return this.options.outputs.map((c, i) => c.toJson(result[i]));
  }

  private renderOutputs(result: unknown[]): string[] {
    return this.options.outputs.map((c, i) => c.output(result[i]));
  }

  private publicState(s: JobState): Record<string, unknown> {
    const { result, ...rest } = s;
    return result ? { ...rest, data: this.toJson(result), html: this.renderOutputs(result) } : rest;
  }

  /** The request handler (node:http style), for mounting in another server. */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((e: unknown) => {
      const err =
        e instanceof SpacesError
          ? e
          : new SpacesError("HEARTH_SPACES_FN_FAILED", e instanceof Error ? e.message : String(e));
      if (!res.headersSent) send(res, err.status, { error: { code: err.code, message: err.message } });
      else res.end();
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://demo");
    const path = url.pathname;
    if (path.startsWith("/api/")) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      if (req.method === "OPTIONS") {
        res.writeHead(204, {
          "Access-Control-Allow-Headers": "content-type",
          "Access-Control-Allow-Methods": "GET, POST",
        });
        return void res.end();
      }
    }
    if (req.method === "GET" && path === "/") {
      const ex = url.searchParams.get("example");
      const values = ex !== null ? this.options.examples?.[Number(ex)] : undefined;
      return sendHtml(res, 200, renderPage(this, { values: values as unknown[] | undefined }));
    }
    if (req.method === "POST" && path === "/") {
      // the form without JavaScript: run through the queue and answer the page with the result
      let values: unknown[] | undefined;
      try {
        values = await this.fromForm(await readForm(req, this.maxBody));
        const job = this.queue.push(() => this.call(values as unknown[]));
        const s = await this.queue.wait(job.id);
        if (s.status === "error") throw new SpacesError(s.error?.code as never, s.error?.message ?? "failed");
        const result = s.result as unknown[];
        return sendHtml(res, 200, renderPage(this, { values, outputs: this.renderOutputs(result), result }));
      } catch (e) {
        if (!(e instanceof SpacesError)) throw e;
        return sendHtml(res, e.status, renderPage(this, { values, error: e.message }));
      }
    }
    if (req.method === "GET" && path === "/api/info") return send(res, 200, this.info());
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { ok: true });
    if (req.method === "POST" && path === "/api/predict") {
      const body = (await readJson(req, this.maxBody)) as { data?: unknown };
      const values = this.fromJson(body?.data);
      const job = this.queue.push(() => this.call(values));
      const s = await this.queue.wait(job.id);
      if (s.status === "error") {
        const code = (s.error?.code ?? "HEARTH_SPACES_FN_FAILED") as ConstructorParameters<typeof SpacesError>[0];
        throw new SpacesError(code, s.error?.message ?? "failed");
      }
      return send(res, 200, { data: this.toJson(s.result as unknown[]), duration: s.duration });
    }
    if (req.method === "POST" && path === "/api/queue/join") {
      const ct = req.headers["content-type"] ?? "";
      const values = ct.startsWith("application/json")
        ? this.fromJson(((await readJson(req, this.maxBody)) as { data?: unknown })?.data)
        : await this.fromForm(await readForm(req, this.maxBody));
      const job = this.queue.push(() => this.call(values));
      return send(res, 202, this.publicState(this.queue.get(job.id)));
    }
    const m = /^\/api\/queue\/([\w-]{1,64})$/.exec(path);
    if (req.method === "GET" && m) return send(res, 200, this.publicState(this.queue.get(m[1] as string)));
    throw new SpacesError("HEARTH_SPACES_NOT_FOUND", `${req.method} ${path}: no such route`);
  }

  private get maxBody(): number {
    return this.options.maxBodySize ?? 32 * 1024 * 1024;
  }

  /**
   * Serves the demo over HTTP. Locally: `http://127.0.0.1:7860`; as a Space the hub sets `PORT`.
   * @example
   * await demo({ fn: (s: string) => s.toUpperCase(), inputs: [text()], outputs: [text()] }).launch();
   */
  async launch(opts: LaunchOptions = {}): Promise<{ url: string; port: number; close(): Promise<void> }> {
    const port = opts.port ?? Number(process.env.PORT ?? 7860);
    const host = opts.host ?? process.env.HOST ?? "127.0.0.1";
    const server = createServer(this.handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const actual = (server.address() as AddressInfo).port;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${actual}`;
    if (!opts.quiet) console.log(`${this.title}: running on ${url}`);
    return { url, port: actual, close: () => this.close() };
  }

  /** Stops a launched server. */
  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }
}

/**
 * Builds a demo from a function and its input/output components.
 * @example
 * import { demo, text, label } from "@hearth/spaces";
 * const app = demo({ fn: (s: string) => ({ long: s.length > 10 ? 1 : 0, short: s.length > 10 ? 0 : 1 }),
 *   inputs: [text({ label: "Sentence" })], outputs: [label()], title: "Length" });
 * await app.launch();
 */
export function demo<const I extends readonly AnyComponent[], const O extends readonly AnyComponent[]>(
  options: DemoOptions<I, O>,
): Demo<I, O> {
  return new Demo(options);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new SpacesError("HEARTH_SPACES_BAD_INPUT", `request body: expected at most ${max} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const text = (await readBody(req, max)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new SpacesError(
      "HEARTH_SPACES_BAD_INPUT",
      `request body: expected JSON {"data": [...]}, got ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
}

async function readForm(req: IncomingMessage, max: number): Promise<FormData> {
  const ct = req.headers["content-type"] ?? "";
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)/.test(ct))
    throw new SpacesError("HEARTH_SPACES_BAD_INPUT", `form: expected a multipart or urlencoded form, got '${ct}'`);
  const body = await readBody(req, max);
  return new Request("http://demo/", {
    method: "POST",
    headers: { "content-type": ct },
    body: new Uint8Array(body),
  }).formData();
}
