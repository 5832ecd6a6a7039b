import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AccelerateError, ERROR_CODES } from "./errors.ts";

test("docs/errors/accelerate.md lists exactly the codes of errors.ts", () => {
  const doc = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "errors", "accelerate.md"), "utf8");
  const documented = [...doc.matchAll(/^\|\s*`(HEARTH_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(ERROR_CODES).sort());
  const e = new AccelerateError("HEARTH_ACCELERATE_ARGUMENT", "x");
  assert.equal(e.code, "HEARTH_ACCELERATE_ARGUMENT");
  assert.ok(e instanceof Error);
});
