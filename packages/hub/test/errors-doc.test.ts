import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { HUB_ERROR_CODES } from "../src/index.ts";

test("docs/errors/hub.md lists exactly the codes of src/errors.ts", () => {
  const doc = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "hub.md"), "utf8");
  const documented = [...doc.matchAll(/^\|\s*`(HEARTH_HUB_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(HUB_ERROR_CODES).sort());
});
