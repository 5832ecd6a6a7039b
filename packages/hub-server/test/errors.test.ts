import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { HubServerError, HubServerErrorCodes } from "../src/errors.ts";

it("docs/errors/hub-server.md lists exactly the codes of src/errors.ts", async () => {
  const doc = await readFile(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "hub-server.md"), "utf8");
  const documented = [...doc.matchAll(/^\|\s*`(HEARTH_HUBSERVER_\w+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const defined = Object.keys(HubServerErrorCodes).map((c) => [
    c,
    new HubServerError(c as keyof typeof HubServerErrorCodes, "x").status,
  ]);
  assert.deepEqual(documented.sort(), defined.sort());
});
