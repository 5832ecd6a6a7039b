import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { SafetensorsErrorCode } from "./errors.ts";

test("docs/errors/tensor.md lists exactly the safetensors error codes", () => {
  const doc = readFileSync(new URL("../../../../docs/errors/tensor.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/`(HEARTH_SAFETENSORS_[A-Z0-9_]+)`/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(documented)].sort(), Object.values(SafetensorsErrorCode).sort());
});
