/**
 * The one place that talks HTTP: adds the token and user agent, turns non-2xx answers
 * into coded {@link HubError}s following huggingface_hub's `hf_raise_for_status`.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { getToken } from "../auth/token-store.ts";
import { hubEndpoint, implicitTokenDisabled, isOffline } from "../config.ts";
import { HubError, type HubErrorCode } from "../errors.ts";
import type { HubCallOptions } from "../types/public.ts";

export const USER_AGENT = `hearth-hub/0.1.0; node/${process.versions.node}`;

export interface HubContext {
  endpoint: string;
  fetch: typeof fetch;
  token?: string;
  signal?: AbortSignal;
}

/** Resolves endpoint, fetch and token from the options and the environment. */
export function hubContext(opts: HubCallOptions, { requireToken = false, purpose = "" } = {}): HubContext {
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  let token: string | undefined;
  if (typeof opts.accessToken === "string") token = opts.accessToken;
  else if (opts.accessToken !== false && (requireToken || !implicitTokenDisabled())) token = getToken();
  if (requireToken && !token) {
    throw new HubError(
      "HEARTH_HUB_NOT_LOGGED_IN",
      `${purpose}: this needs an access token; pass accessToken, set HF_TOKEN, or run 'hearth login'`,
    );
  }
  return { endpoint, fetch: opts.fetch ?? globalThis.fetch, token, signal: opts.signal };
}

export function authHeaders(ctx: HubContext): Record<string, string> {
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  if (ctx.token) headers.authorization = `Bearer ${ctx.token}`;
  return headers;
}

export interface HubRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: RequestInit["body"];
  /** Send the token (default true; upload hrefs are called without it, as Python does). */
  auth?: boolean;
  redirect?: RequestInit["redirect"];
  /** Statuses that are returned rather than thrown. */
  accept?: number[];
  /** Retry 429/5xx and dropped connections (idempotent calls only), as huggingface_hub does. */
  retry?: boolean;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const MAX_TRIES = 4;

/** {@link hubFetchOnce} with retries and backoff (0.5, 1, 2 s; `Retry-After` honoured up to 10 s). */
export async function hubFetch(ctx: HubContext, url: string, init: HubRequestInit = {}): Promise<Response> {
  if (isOffline()) {
    throw new HubError(
      "HEARTH_HUB_OFFLINE",
      `${init.method ?? "GET"} ${url}: HF_HUB_OFFLINE is set, so Hearth makes no network calls; unset it to reach the hub`,
      { url },
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await hubFetchOnce(ctx, url, init);
    } catch (err) {
      const retriable =
        init.retry &&
        attempt < MAX_TRIES &&
        err instanceof HubError &&
        (err.code === "HEARTH_HUB_NETWORK" || (err.status !== undefined && RETRY_STATUSES.has(err.status)));
      if (!retriable) throw err;
      const after = (err as HubError & { retryAfter?: number }).retryAfter;
      await sleep(after !== undefined ? Math.min(after, 10) * 1000 : 500 * 2 ** (attempt - 1));
    }
  }
}

/** fetch + headers + error mapping. Network failures become HEARTH_HUB_NETWORK. */
async function hubFetchOnce(ctx: HubContext, url: string, init: HubRequestInit = {}): Promise<Response> {
  const method = init.method ?? "GET";
  const headers = { ...(init.auth === false ? { "user-agent": USER_AGENT } : authHeaders(ctx)), ...init.headers };
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method,
      headers,
      body: init.body,
      redirect: init.redirect ?? "follow",
      signal: ctx.signal,
      // Needed by undici for streamed request bodies.
      ...(init.body && typeof (init.body as ReadableStream).getReader === "function" ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    throw new HubError(
      "HEARTH_HUB_NETWORK",
      `${method} ${url}: could not reach the hub (${cause?.code ?? cause?.message ?? (err as Error).message})`,
      { url },
      { cause: err },
    );
  }
  if (
    res.ok ||
    (res.status >= 300 && res.status < 400 && init.redirect === "manual") ||
    init.accept?.includes(res.status)
  )
    return res;
  const err = await errorFromResponse(res, method, url);
  const retryAfter = Number(res.headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && res.headers.has("retry-after")) Object.assign(err, { retryAfter });
  throw err;
}

/** Maps a failed answer onto a {@link HubError}, reading headers first (HEAD has no body). */
export async function errorFromResponse(res: Response, method: string, url: string): Promise<HubError> {
  const serverCode = res.headers.get("x-error-code") ?? undefined;
  const headerMessage = res.headers.get("x-error-message") ?? undefined;
  const requestId =
    res.headers.get("x-request-id") ??
    res.headers.get("x-amzn-trace-id") ??
    res.headers.get("x-amz-cf-id") ??
    undefined;
  let bodyMessage: string | undefined;
  if (method !== "HEAD") {
    const text = await res.text().catch(() => "");
    bodyMessage = messageFromBody(text, res.headers.get("content-type") ?? "");
  }
  const detail = headerMessage ?? bodyMessage ?? res.statusText;
  let code: HubErrorCode;
  if (serverCode === "RepoNotFound") code = "HEARTH_HUB_REPO_NOT_FOUND";
  else if (serverCode === "RevisionNotFound") code = "HEARTH_HUB_REVISION_NOT_FOUND";
  else if (serverCode === "EntryNotFound") code = "HEARTH_HUB_ENTRY_NOT_FOUND";
  else if (serverCode === "GatedRepo") code = "HEARTH_HUB_GATED_REPO";
  else if (res.status === 403 && detail === "Access to this resource is disabled.") code = "HEARTH_HUB_DISABLED_REPO";
  else if (
    res.status === 401 &&
    /^https:\/\//.test(url) &&
    /\/api\/(models|datasets|spaces)\/|\/resolve\//.test(url) &&
    detail !== "Invalid credentials in Authorization header"
  )
    code = "HEARTH_HUB_REPO_NOT_FOUND"; // huggingface.co answers 401 for private/missing repos
  else code = STATUS_CODES[res.status] ?? "HEARTH_HUB_HTTP";
  const ridText = requestId ? ` (request id ${requestId})` : "";
  return new HubError(code, `${method} ${url}: ${res.status} ${detail}${ridText}`, {
    status: res.status,
    url,
    requestId,
    serverCode,
    repoCommit: res.headers.get("x-repo-commit") ?? undefined,
  });
}

const STATUS_CODES: Record<number, HubErrorCode> = {
  400: "HEARTH_HUB_BAD_REQUEST",
  401: "HEARTH_HUB_UNAUTHORIZED",
  403: "HEARTH_HUB_FORBIDDEN",
  409: "HEARTH_HUB_CONFLICT",
  412: "HEARTH_HUB_PRECONDITION_FAILED",
};

function messageFromBody(text: string, contentType: string): string | undefined {
  if (!text) return undefined;
  if (contentType.includes("json")) {
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      const err = body.error;
      if (typeof err === "string") return err;
      if (Array.isArray(err)) return err.join("\n");
      if (typeof body.error_description === "string") return body.error_description;
      if (typeof body.message === "string") return body.message;
      if (Array.isArray(body.errors)) return body.errors.map((e) => (e as { message?: string }).message).join("\n");
    } catch {
      // fall through to the text
    }
  }
  return /^\s*</.test(text) ? undefined : text.slice(0, 500);
}

/** GET a JSON document. */
export async function getJson<T>(ctx: HubContext, url: string): Promise<T> {
  const res = await hubFetch(ctx, url, { retry: true });
  return (await res.json()) as T;
}

/** POST/PUT/DELETE a JSON body, parse a JSON answer (or undefined when empty). */
export async function sendJson<T>(ctx: HubContext, method: string, url: string, body: unknown, accept?: number[]) {
  const res = await hubFetch(ctx, url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    accept,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
