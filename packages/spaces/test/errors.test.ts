import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { SpacesError, SpacesErrorCodes } from "../src/errors.ts";

it("docs/errors/spaces.md lists exactly the codes of src/errors.ts", async () => {
  const doc = await readFile(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "spaces.md"), "utf8");
  const documented = [...doc.matchAll(/^\|\s*`(HEARTH_SPACES_\w+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const defined = Object.keys(SpacesErrorCodes).map((c) => [
    c,
    new SpacesError(c as keyof typeof SpacesErrorCodes, "x").status,
  ]);
  assert.deepEqual(documented.sort(), defined.sort());
});
