/** The small part of gitattributes / gitignore pattern matching the hub needs. */

/** HF's default `.gitattributes` for new repos. */
export const defaultGitattributes = `${[
  "*.7z",
  "*.arrow",
  "*.bin",
  "*.bz2",
  "*.ckpt",
  "*.ftz",
  "*.gz",
  "*.h5",
  "*.joblib",
  "*.lfs.*",
  "*.mlmodel",
  "*.model",
  "*.msgpack",
  "*.npy",
  "*.npz",
  "*.onnx",
  "*.ot",
  "*.parquet",
  "*.pb",
  "*.pickle",
  "*.pkl",
  "*.pt",
  "*.pth",
  "*.rar",
  "*.safetensors",
  "saved_model/**/*",
  "*.tar.*",
  "*.tar",
  "*.tflite",
  "*.tgz",
  "*.wasm",
  "*.xz",
  "*.zip",
  "*.zst",
  "*tfevents*",
]
  .map((p) => `${p} filter=lfs diff=lfs merge=lfs -text`)
  .join("\n")}\n`;

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (pattern.startsWith("[[:space:]]", i)) {
      re += "\\s";
      i += 10;
    } else if (c === "\\" && i + 1 < pattern.length) {
      re += (pattern[++i] as string).replace(/[.+^${}()|[\]\\*?]/g, "\\$&");
    } else if (c === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i++;
        if (pattern[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** git's rule: a pattern without `/` matches the basename, otherwise the whole path. */
export function matchesPattern(pattern: string, path: string): boolean {
  const p = pattern.replace(/^\//, "").replace(/\/$/, "");
  if (!p) return false;
  const target = pattern.includes("/") ? path : (path.split("/").pop() as string);
  if (globToRegExp(p).test(target)) return true;
  // a directory pattern also covers everything below it
  return pattern.includes("/") && path.startsWith(`${p}/`);
}

/** Patterns whose attributes set `filter=lfs`. */
export function lfsPatterns(gitattributes: string): string[] {
  const out: string[] = [];
  for (const line of gitattributes.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const [pattern, ...attrs] = t.split(/\s+/);
    if (pattern && attrs.includes("filter=lfs")) out.push(pattern);
  }
  return out;
}

export const isLfsTracked = (gitattributes: string, path: string): boolean =>
  lfsPatterns(gitattributes).some((p) => matchesPattern(p, path));

/** Whether a `.gitignore` text ignores `path` (negations `!x` un-ignore). */
export function isIgnored(gitignore: string, path: string): boolean {
  let ignored = false;
  for (const line of gitignore.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    if (t.startsWith("!")) {
      if (matchesPattern(t.slice(1), path)) ignored = false;
    } else if (
      matchesPattern(t, path) ||
      path
        .split("/")
        .slice(0, -1)
        .some((_, i, a) => matchesPattern(t, a.slice(0, i + 1).join("/")))
    )
      ignored = true;
  }
  return ignored;
}

/** Escapes a literal path for use as a gitattributes pattern. */
export const escapePattern = (path: string): string =>
  path.replace(/([*?[\]\\])/g, "\\$1").replace(/ /g, "[[:space:]]");
