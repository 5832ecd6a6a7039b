/**
 * A typed client for a running demo: `predict(...inputs)` returns what the demo function returned.
 * Files travel as `{name, type, data: base64}` and come back as `Uint8Array`s.
 */
import type { ChatMessage, FileData } from "./components.ts";
import type { AnyComponent, Demo, DemoInfo, Returned, Values } from "./demo.ts";
import { SpacesError } from "./errors.ts";

export interface ClientOptions {
  /** Sent as `Authorization: Bearer …` (a private Space behind the hub). */
  token?: string;
  fetch?: typeof fetch;
}

export interface SubmitOptions {
  /** Called while the job waits (`position`) and runs (`progress`). */
  onStatus?: (s: { status: string; position?: number; progress?: { fraction: number; desc?: string } }) => void;
  /** Poll interval in ms (default 100). */
  interval?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: matches any demo
export type AnyDemo = Demo<any, any>;
type InputsOf<D> = D extends Demo<infer I, infer _O> ? Values<I> : unknown[];
type OutputOf<D> = D extends Demo<infer _I, infer O> ? Returned<O> : unknown;

export interface DemoClient<D extends AnyDemo> {
  info(): Promise<DemoInfo>;
  /** `POST api/predict`: waits for the result. */
  predict(...inputs: InputsOf<D>): Promise<OutputOf<D>>;
  /** Through the queue, reporting position and progress. */
  submit(inputs: InputsOf<D>, opts?: SubmitOptions): Promise<OutputOf<D>>;
}

const isFile = (v: unknown): v is FileData =>
  !!v && typeof v === "object" && (v as FileData).data instanceof Uint8Array;

function encode(v: unknown): unknown {
  return isFile(v) ? { name: v.name, type: v.type, data: Buffer.from(v.data).toString("base64") } : v;
}

/**
 * Connects to a demo at `url` (e.g. `http://127.0.0.1:7860/` or `<hub>/spaces/ns/name/app/`).
 * Pass the demo's type for typed inputs and outputs.
 * @example
 * import type app from "./app.ts";
 * const c = client<typeof app>("http://127.0.0.1:7860/");
 * const scores = await c.predict("I loved it");
 */
export function client<D extends AnyDemo = AnyDemo>(url: string, opts: ClientOptions = {}): DemoClient<D> {
  const base = url.endsWith("/") ? url : `${url}/`;
  const f = opts.fetch ?? fetch;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let infoP: Promise<DemoInfo> | undefined;

  async function call(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
    const r = await f(new URL(path, base), { ...init, headers });
    const text = await r.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SpacesError("HEARTH_SPACES_CLIENT", `${path}: HTTP ${r.status}, not JSON: ${text.slice(0, 120)}`);
    }
    const err = body.error as { code?: string; message?: string } | undefined;
    if (!r.ok || err)
      throw new SpacesError(
        "HEARTH_SPACES_CLIENT",
        `${path}: HTTP ${r.status} ${err?.code ?? ""}: ${err?.message ?? text.slice(0, 120)}`,
      );
    return body;
  }

  const info = () => {
    infoP ??= call("api/info") as unknown as Promise<DemoInfo>;
    return infoP;
  };

  async function decode(data: unknown[]): Promise<OutputOf<D>> {
    const { outputs } = await info();
    const values = data.map((v, i) => {
      const kind = outputs[i]?.kind;
      if ((kind === "image" || kind === "audio" || kind === "file") && v && typeof v === "object") {
        const x = v as { name: string; type: string; data: string };
        return { name: x.name, type: x.type, data: new Uint8Array(Buffer.from(x.data, "base64")) } satisfies FileData;
      }
      return kind === "chat" ? (v as ChatMessage[]) : v;
    });
    return (outputs.length === 1 ? values[0] : values) as OutputOf<D>;
  }

  return {
    info,
    async predict(...inputs) {
      const body = await call("api/predict", {
        method: "POST",
        body: JSON.stringify({ data: (inputs as unknown[]).map(encode) }),
      });
      return decode(body.data as unknown[]);
    },
    async submit(inputs, so = {}) {
      let s = await call("api/queue/join", {
        method: "POST",
        body: JSON.stringify({ data: (inputs as unknown[]).map(encode) }),
      });
      while (s.status === "queued" || s.status === "running") {
        so.onStatus?.(s as Parameters<NonNullable<SubmitOptions["onStatus"]>>[0]);
        await new Promise((r) => setTimeout(r, so.interval ?? 100));
        s = await call(`api/queue/${s.id}`);
      }
      so.onStatus?.(s as Parameters<NonNullable<SubmitOptions["onStatus"]>>[0]);
      if (s.status === "error") {
        const e = s.error as { code: string; message: string };
        throw new SpacesError("HEARTH_SPACES_CLIENT", `queue: ${e.code}: ${e.message}`);
      }
      return decode(s.data as unknown[]);
    },
  };
}

export type { AnyComponent };
