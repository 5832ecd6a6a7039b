import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CODES, HearthTensorError } from "../errors.ts";
import { SAFETENSORS_ERROR_CODES } from "./codes.ts";
import { SafetensorsError, SafetensorsErrorCode } from "./errors.ts";

test("safetensors error codes agree across the code table, the package's ERROR_CODES and docs/errors/tensor.md", () => {
  const codes = Object.values(SafetensorsErrorCode).sort();
  assert.deepEqual(Object.keys(SAFETENSORS_ERROR_CODES).sort(), codes);
  for (const code of codes) assert.ok(code in ERROR_CODES, code);
  const doc = readFileSync(new URL("../../../../docs/errors/tensor.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/`(HEARTH_SAFETENSORS_[A-Z0-9_]+)`/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(documented)].sort(), codes);
});

test("SafetensorsError is a HearthTensorError with a code and an optional cause", () => {
  const cause = new Error("ENOENT");
  const error = new SafetensorsError(SafetensorsErrorCode.IO, "safetensors: cannot open x", { cause });
  assert.ok(error instanceof HearthTensorError);
  assert.equal(error.code, "HEARTH_SAFETENSORS_IO");
  assert.equal(error.cause, cause);
});
