import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { it } from "node:test";
import { ErrorCodes } from "./errors.ts";

it("docs/errors/peft.md lists exactly the codes of errors.ts", () => {
  const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/errors/peft.md"), "utf8");
  const documented = new Set(doc.match(/HEARTH_[A-Z_]+/g));
  assert.deepEqual([...documented].sort(), Object.values(ErrorCodes).sort());
});
