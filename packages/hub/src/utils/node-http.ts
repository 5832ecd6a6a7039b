/**
 * Streaming GET and PUT on node:http/https, used for file bodies when no `fetch` was
 * injected: they move the same bytes as the global fetch for about half the CPU (undici's web
 * streams cost ~1-1.5 s of CPU per GiB here, node:http ~0.5-0.8 s), which is what bounds a
 * transfer on a busy machine. GET follows redirects (at most 5), dropping the token on a host
 * change as huggingface_hub does. Non-2xx answers become coded errors exactly as in hubFetch.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HubError } from "../errors.ts";
import { errorFromResponse, USER_AGENT } from "./http.ts";

export interface NodeGetResult {
  status: number;
  body: AsyncIterable<Uint8Array>;
  /** Drops the connection (the rest of the body is not wanted). */
  cancel(): void;
}

export async function nodeGet(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  accept: number[] = [],
): Promise<NodeGetResult> {
  let current = url;
  let hdrs: Record<string, string> = { "user-agent": USER_AGENT, ...headers };
  for (let hop = 0; ; hop++) {
    const res = await send(current, hdrs, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && hop < 5) {
      res.resume();
      const next = new URL(location, current);
      if (next.host !== new URL(current).host) {
        const { authorization: _drop, ...rest } = hdrs;
        hdrs = rest;
      }
      current = next.toString();
      continue;
    }
    if ((status >= 200 && status < 300) || accept.includes(status)) {
      return { status, body: res, cancel: () => res.destroy() };
    }
    throw await toHubError(res, "GET", current);
  }
}

/** PUTs `body` (its length given in the headers) and returns the answer's headers; non-2xx throws. */
export async function nodePut(
  url: string,
  headers: Record<string, string>,
  body: Readable,
  signal?: AbortSignal,
): Promise<Headers> {
  const u = new URL(url);
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(u, { method: "PUT", headers: { "user-agent": USER_AGENT, ...headers }, signal }, resolve);
    req.on("error", (err) => reject(networkError("PUT", url, err, signal)));
    pipeline(body, req).catch((err) => reject(networkError("PUT", url, err, signal)));
  });
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) throw await toHubError(res, "PUT", url);
  res.resume();
  return toHeaders(res);
}

function toHeaders(res: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
  return h;
}

async function toHubError(res: IncomingMessage, method: string, url: string): Promise<HubError> {
  const text = await readText(res);
  return errorFromResponse(new Response(text, { status: res.statusCode, headers: toHeaders(res) }), method, url);
}

function networkError(method: string, url: string, err: Error, signal?: AbortSignal): Error {
  if (signal?.aborted || err instanceof HubError) return err;
  return new HubError(
    "HEARTH_HUB_NETWORK",
    `${method} ${url}: could not reach the hub (${(err as NodeJS.ErrnoException).code ?? err.message})`,
    { url },
    { cause: err },
  );
}

function send(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
  const u = new URL(url);
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: "GET", headers, signal }, resolve);
    req.on("error", (err) => reject(networkError("GET", url, err, signal)));
    req.end();
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
