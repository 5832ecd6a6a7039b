import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CODES } from "./errors.ts";

test("docs/errors/tensor.md lists exactly the codes of errors.ts", () => {
  const doc = readFileSync(new URL("../../../docs/errors/tensor.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/^\| `(HEARTH_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(ERROR_CODES).sort());
});
