import { type HubContext, hubFetch } from "./http.ts";

/** Parses `Link: <url>; rel="next"` (RFC 5988) and returns the next URL, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** Yields the items of a JSON-array listing, following `Link: rel="next"` until it is absent. */
export async function* paginate<T>(ctx: HubContext, firstUrl: string): AsyncGenerator<T> {
  let url: string | undefined = firstUrl;
  while (url) {
    const res = await hubFetch(ctx, url, { retry: true });
    const items = (await res.json()) as T[];
    yield* items;
    const next = nextLink(res.headers.get("link"));
    url = next ? new URL(next, url).toString() : undefined;
  }
}
