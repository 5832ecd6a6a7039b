import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ERROR_CODES } from "../src/errors.ts";

test("docs/errors/datasets.md lists exactly the codes in errors.ts", () => {
  const doc = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "datasets.md"), "utf8");
  const documented = [...doc.matchAll(/`(HEARTH_DATASETS_[A-Z_]+)`/g)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERROR_CODES).sort());
});
