import { existsSync } from "node:fs";
import { getToken, hfHome, hubCacheDir, hubEndpoint, isOffline, storedTokensPath, tokenPath } from "@hearth/hub";
import { type Command, parse } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { VERSION } from "../version.ts";

export const envCommand: Command = {
  name: "env",
  summary: "Print the environment hearth sees (paths, endpoint, token, offline)",
  help: `Usage: hearth env

Prints versions and the settings read from the environment (HF_HOME, HF_HUB_CACHE,
HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, ...), to paste into bug reports. Never prints a token.`,
  async run(argv, io) {
    parse(argv, { help: { type: "boolean", short: "h" } });
    const rows: [string, string][] = [
      ["hearth version", VERSION],
      ["node", process.versions.node],
      ["platform", `${process.platform}-${process.arch}`],
      ["endpoint (HF_ENDPOINT)", hubEndpoint()],
      ["HF_HOME", hfHome()],
      ["cache (HF_HUB_CACHE)", hubCacheDir()],
      ["token path", tokenPath()],
      ["stored tokens path", storedTokensPath()],
      ["token", getToken() ? (process.env.HF_TOKEN ? "set (HF_TOKEN)" : "set (token file)") : "not set"],
      ["offline (HF_HUB_OFFLINE)", String(isOffline())],
      ["cache exists", String(existsSync(hubCacheDir()))],
    ];
    for (const [k, v] of rows) io.out(`- ${k}: ${v}`);
    return EXIT.OK;
  },
};
