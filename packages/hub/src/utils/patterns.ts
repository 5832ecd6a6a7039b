/**
 * allow/ignore patterns as huggingface_hub's `filter_repo_objects`: Unix shell-style
 * (`fnmatch`), matched against the whole path, where `*` also crosses `/`; a pattern ending
 * in `/` means "everything under that folder".
 */

const cache = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let p = pattern.endsWith("/") ? `${pattern}*` : pattern;
  p = p.replace(/\\/g, "/");
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const close = p.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = p.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  const out = new RegExp(`^${re}$`, "s");
  cache.set(pattern, out);
  return out;
}

export function matchesPattern(path: string, pattern: string): boolean {
  return toRegExp(pattern).test(path);
}

function asList(patterns: string | string[] | undefined): string[] | undefined {
  return patterns === undefined ? undefined : Array.isArray(patterns) ? patterns : [patterns];
}

/** Keeps paths matching at least one allow pattern (if given) and no ignore pattern. */
export function filterPaths<T>(
  items: Iterable<T>,
  opts: { allowPatterns?: string | string[]; ignorePatterns?: string | string[] },
  key: (item: T) => string = (x) => x as unknown as string,
): T[] {
  const allow = asList(opts.allowPatterns);
  const ignore = asList(opts.ignorePatterns);
  const out: T[] = [];
  for (const item of items) {
    const path = key(item);
    if (allow && !allow.some((p) => matchesPattern(path, p))) continue;
    if (ignore?.some((p) => matchesPattern(path, p))) continue;
    out.push(item);
  }
  return out;
}
