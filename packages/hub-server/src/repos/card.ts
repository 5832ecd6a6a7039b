/** Model/dataset cards: README.md with an optional YAML front-matter block. */
import { parse } from "yaml";

export interface Card {
  data: Record<string, unknown>;
  body: string;
}

/** Splits `---\n<yaml>\n---\n<markdown>`; invalid YAML yields empty data (the body is kept). */
export function parseCard(text: string): Card {
  const m = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  if (!m) return { data: {}, body: text };
  let data: Record<string, unknown> = {};
  try {
    const parsed = parse(m[1] as string) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    data = {};
  }
  return { data, body: text.slice(m[0].length) };
}

/** Errors the metadata would cause on huggingface.co's validate-yaml, in its reply shape. */
export function validateCardYaml(text: string): Array<{ message: string }> {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return [];
  try {
    const parsed = parse(m[1] as string) as unknown;
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed)))
      return [{ message: "YAML metadata must be a mapping" }];
    return [];
  } catch (e) {
    return [{ message: `Invalid YAML metadata: ${(e as Error).message.split("\n")[0]}` }];
  }
}

/** The card fields the hub lifts into repo info (tags, pipeline_tag, library_name, license). */
export function cardSummary(data: Record<string, unknown>): {
  tags: string[];
  pipeline_tag?: string;
  library_name?: string;
  license?: string;
} {
  const tags = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string") tags.add(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === "string") tags.add(x);
  };
  add(data.tags);
  add(data.library_name);
  add(data.pipeline_tag);
  if (typeof data.license === "string") tags.add(`license:${data.license}`);
  if (Array.isArray(data.language)) for (const l of data.language) if (typeof l === "string") tags.add(l);
  if (Array.isArray(data.task_categories))
    for (const t of data.task_categories) if (typeof t === "string") tags.add(`task_categories:${t}`);
  const s = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    tags: [...tags],
    pipeline_tag: s(data.pipeline_tag),
    library_name: s(data.library_name),
    license: s(data.license),
  };
}
