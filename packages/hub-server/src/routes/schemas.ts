/** JSON-schema fragments shared by the route plugins. */
export const repoParams = {
  type: "object",
  required: ["types", "ns", "name"],
  properties: {
    types: { type: "string", enum: ["models", "datasets", "spaces"] },
    ns: { type: "string" },
    name: { type: "string" },
    rev: { type: "string" },
    "*": { type: "string" },
  },
} as const;

export const errorReply = {
  type: "object",
  properties: { error: { type: "string" }, code: { type: "string" } },
} as const;

export interface RepoParams {
  types: "models" | "datasets" | "spaces";
  ns: string;
  name: string;
  rev?: string;
  "*"?: string;
}

/** Reads a repeatable query parameter given as `k=a&k=b` or `k[]=a`. */
export function queryList(q: Record<string, unknown>, key: string): string[] {
  const out: string[] = [];
  for (const k of [key, `${key}[]`]) {
    const v = q[k];
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === "string") out.push(x);
  }
  return out;
}
