import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { HUB_ERROR_CODES, HubError, type HubErrorCode } from "@hearth/hub";
import { exitCodeFor, UsageError } from "../src/exit-codes.ts";
import { EXIT } from "../src/index.ts";

test("docs/errors/cli.md agrees with the code: HEARTH_CLI_USAGE and the exit status of every hub code", () => {
  const doc = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "cli.md"), "utf8");
  assert.match(doc, /\|\s*`HEARTH_CLI_USAGE`\s*\|/);
  assert.equal(new UsageError("x").code, "HEARTH_CLI_USAGE");
  assert.equal(exitCodeFor(new UsageError("x")), EXIT.USAGE);
  const rows = [...doc.matchAll(/^\|\s*(\d)\s*\|(.*)\|\s*$/gm)];
  const documented = new Map<string, number>();
  for (const [, exit, text] of rows) {
    let prefix = "";
    for (const m of text.matchAll(/`(HEARTH_[A-Z_]+|_[A-Z_]+)`/g)) {
      const name = m[1].startsWith("_") ? `${prefix}${m[1]}` : m[1];
      if (!m[1].startsWith("_")) prefix = name.split("_").slice(0, 2).join("_");
      documented.set(name, Number(exit));
    }
  }
  for (const code of Object.keys(HUB_ERROR_CODES) as HubErrorCode[]) {
    const expected = documented.get(code) ?? EXIT.ERROR;
    assert.equal(exitCodeFor(new HubError(code, "m")), expected, `${code} exits ${expected} in the doc`);
  }
});
