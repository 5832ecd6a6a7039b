/**
 * Which files make which split, following Python's `datasets`: explicit `dataFiles` patterns, the
 * README's YAML `configs` (`config_name`, `data_files` with `split`/`path`), or split names found
 * in file and folder names (`train`, `test`, `validation`/`valid`/`dev`/`val`, ...), else `train`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { fail } from "../errors.ts";

/** Split name → repo-relative (or absolute) file paths. */
export type SplitFiles = Record<string, string[]>;

/** `dataFiles` as users give it: one pattern, a list, or per split. */
export type DataFilesOption = string | string[] | Record<string, string | string[]>;

const SPLIT_KEYWORDS: Record<string, string[]> = {
  train: ["train", "training"],
  validation: ["validation", "valid", "dev", "val"],
  test: ["test", "testing", "eval", "evaluation"],
};
const DELIM = "[-._ 0-9]";

/** Every file under `root` (relative, POSIX separators), skipping hidden files and folders. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith(".") || entry.name.startsWith("__")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(full).isFile()))
        out.push(relative(root, full).split(sep).join("/"));
    }
  };
  walk(root);
  return out;
}

/** A glob (`*`, `**`, `?`, `[...]`, `{a,b}`) as an anchored regular expression over POSIX paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(",")
        .map((p) => p.replace(/[.+^$()|\\]/g, "\\$&"))
        .join("|")})`;
      i = end;
    } else if (c === "[") {
      const end = glob.indexOf("]", i);
      re += glob.slice(i, end + 1);
      i = end;
    } else re += c.replace(/[.+^$()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Files of `all` matching a pattern (a plain path matches itself; a folder matches its contents). */
export function matchPattern(all: string[], pattern: string): string[] {
  const p = pattern.replace(/^\.\//, "");
  if (all.includes(p)) return [p];
  const folder = p.endsWith("/") ? p : `${p}/`;
  const inFolder = all.filter((f) => f.startsWith(folder));
  if (inFolder.length && !/[*?[{]/.test(p)) return inFolder;
  const re = globToRegExp(p);
  return all.filter((f) => re.test(f));
}

/** `dataFiles` as split → patterns (one pattern or a list means the `train` split). */
export function patternsPerSplit(dataFiles: DataFilesOption): Record<string, string[]> {
  return typeof dataFiles === "string" || Array.isArray(dataFiles)
    ? { train: ([] as string[]).concat(dataFiles) }
    : Object.fromEntries(Object.entries(dataFiles).map(([k, v]) => [k, ([] as string[]).concat(v)]));
}

/** Resolves user `dataFiles` against the file list. */
export function resolveDataFiles(all: string[], dataFiles: DataFilesOption, where: string): SplitFiles {
  const out: SplitFiles = {};
  for (const [split, patterns] of Object.entries(patternsPerSplit(dataFiles))) {
    const files = [...new Set(patterns.flatMap((p) => matchPattern(all, p)))];
    if (files.length === 0) {
      throw fail(
        "HEARTH_DATASETS_FILE_NOT_FOUND",
        `loadDataset: data files for split '${split}' (${patterns.join(", ")}) match nothing in ${where}`,
      );
    }
    out[split] = files;
  }
  return out;
}

/** Python's split inference from file and folder names; everything is `train` when nothing matches. */
export function inferSplits(all: string[]): SplitFiles {
  const out: SplitFiles = {};
  // Folder patterns win over file-name patterns, as in Python's DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME.
  for (const byDir of [true, false]) {
    for (const [split, words] of Object.entries(SPLIT_KEYWORDS)) {
      const res = words.flatMap((w) =>
        byDir
          ? [new RegExp(`(^|/)${w}${DELIM}*/`, "i")]
          : [new RegExp(`(^|/)${w}${DELIM}*[^/]*$`, "i"), new RegExp(`(^|/)[^/]*${DELIM}${w}${DELIM}*[^/]*$`, "i")],
      );
      const files = all.filter((f) => res.some((r) => r.test(byDir ? f : (f.split("/").pop() ?? f))));
      if (files.length) out[split] = files;
    }
    if (Object.keys(out).length) return out;
  }
  return { train: all };
}

/** One config of a README's YAML header. */
export interface ReadmeConfig {
  configName: string;
  dataFiles: DataFilesOption | null;
  dataDir: string | null;
  isDefault: boolean;
}

/** The `configs` of a dataset card's YAML front matter (empty when none). */
export function readmeConfigs(readmePath: string): ReadmeConfig[] {
  let text: string;
  try {
    text = readFileSync(readmePath, "utf8");
  } catch {
    return [];
  }
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return [];
  let yaml: unknown;
  try {
    yaml = parseYaml(m[1]);
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_BAD_ARGUMENT",
      `loadDataset: the YAML header of '${readmePath}' does not parse: ${(error as Error).message}`,
      error,
    );
  }
  const configs = (yaml as { configs?: unknown })?.configs;
  if (!Array.isArray(configs)) return [];
  return configs.map((c: Record<string, unknown>) => {
    let dataFiles: DataFilesOption | null = null;
    const df = c.data_files;
    if (typeof df === "string" || (Array.isArray(df) && df.every((x) => typeof x === "string")))
      dataFiles = df as string | string[];
    else if (Array.isArray(df)) {
      const per: Record<string, string[]> = {};
      for (const entry of df as { split?: string; path?: string | string[] }[]) {
        const split = entry.split ?? "train";
        per[split] = (per[split] ?? []).concat(entry.path ?? []);
      }
      dataFiles = per;
    } else if (df && typeof df === "object") dataFiles = df as Record<string, string | string[]>;
    return {
      configName: String(c.config_name ?? "default"),
      dataFiles,
      dataDir: typeof c.data_dir === "string" ? c.data_dir : null,
      isDefault: c.default === true,
    };
  });
}
