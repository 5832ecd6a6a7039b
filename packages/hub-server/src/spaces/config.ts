/** The Space README front matter (hub-api.md §9.1): title, emoji, sdk, app_file, app_port, models, datasets, ... */
import { parseCard } from "../repos/card.ts";

export type SpaceSdk = "static" | "node";

export interface SpaceConfig {
  title?: string;
  emoji?: string;
  sdk: SpaceSdk;
  /** Entry file: the page for static Spaces, the program for node Spaces. */
  appFile: string;
  /** Port the app listens on; undefined: the hub picks one and passes it as `PORT`. */
  appPort?: number;
  models: string[];
  datasets: string[];
  pinned: boolean;
  license?: string;
  shortDescription?: string;
}

export type ParsedConfig = { ok: true; config: SpaceConfig } | { ok: false; error: string };

const strList = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/**
 * Reads a Space's README.md. `files` tells which paths exist, to pick a default app file;
 * `defaultSdk` is the `sdk` given at repo creation, used when the README names none.
 * Unknown SDKs (gradio, streamlit, docker) are a config error here: this hub runs `static` and `node`.
 */
export function parseSpaceConfig(readme: string | undefined, files: Set<string>, defaultSdk?: unknown): ParsedConfig {
  const data = readme ? parseCard(readme).data : {};
  // the README wins; else the sdk given when the repo was created; else static
  const sdk = data.sdk ?? defaultSdk ?? "static";
  if (sdk !== "static" && sdk !== "node")
    return {
      ok: false,
      error: `README.md: sdk must be 'static' or 'node' on this hub, got ${JSON.stringify(sdk)}`,
    };
  const defaults = sdk === "static" ? ["index.html"] : ["app.ts", "app.js", "app.mjs", "index.js"];
  const appFile =
    typeof data.app_file === "string" ? data.app_file.replace(/^\.?\//, "") : defaults.find((f) => files.has(f));
  if (!appFile || !files.has(appFile))
    return {
      ok: false,
      error: `README.md: app_file ${appFile ? `'${appFile}' is not in the repository` : `missing and none of ${defaults.join(", ")} exists`}`,
    };
  let appPort: number | undefined;
  if (data.app_port !== undefined) {
    const p = Number(data.app_port);
    if (!Number.isInteger(p) || p < 1024 || p > 65535)
      return {
        ok: false,
        error: `README.md: app_port must be an integer in [1024, 65535], got ${JSON.stringify(data.app_port)}`,
      };
    appPort = p;
  }
  const s = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    ok: true,
    config: {
      title: s(data.title),
      emoji: s(data.emoji),
      sdk,
      appFile,
      appPort,
      models: strList(data.models),
      datasets: strList(data.datasets),
      pinned: data.pinned === true,
      license: s(data.license),
      shortDescription: s(data.short_description),
    },
  };
}

/** `<ns>--<name>`: the host label of a Space at its own origin (lower case, like HF subdomains). */
export function spaceHostLabel(r: { namespace: string; name: string }): string {
  return `${r.namespace}--${r.name}`.toLowerCase();
}
