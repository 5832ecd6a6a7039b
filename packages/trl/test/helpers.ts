/** Fixture paths and golden readers shared by the trl tests. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tensor } from "@hearth/tensor";
import { safeOpenSync, toFloat32 } from "@hearth/tensor/safetensors";

/** The repository's fixtures folder. */
export const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
/** The repository's fixtures/hf-tiny folder. */
export const HF_TINY = `${FIXTURES}hf-tiny/`;

/** A golden written by Python (JSON + tensors). */
export function loadGolden(name: string): { json: Record<string, unknown>; tensor(key: string): Float32Array } {
  const json = JSON.parse(readFileSync(`${HF_TINY}goldens/${name}.json`, "utf8"));
  const file = safeOpenSync(`${HF_TINY}goldens/${name}.safetensors`);
  return { json, tensor: (key) => Float32Array.from(toFloat32(file.raw(key).dtype, file.raw(key).data)) };
}

/**
 * Asserts |a − b| ≤ tol · max(1, |b|) everywhere: absolute for values up to 1, relative above
 * (the goldens' rule; IPO losses near 25 carry float32 rounding of about 1e-6 relative).
 */
export function assertClose(
  actual: Tensor | ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  what: string,
  tol = 1e-5,
): void {
  const a: ArrayLike<number> =
    typeof actual === "number"
      ? [actual]
      : "dataSync" in actual
        ? (actual.contiguous().dataSync() as Float32Array)
        : actual;
  const e: ArrayLike<number> = typeof expected === "number" ? [expected] : expected;
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (e[i] as number)) / Math.max(1, Math.abs(e[i] as number));
    if (!(d <= worst)) worst = d;
  }
  assert.ok(worst <= tol, `${what}: largest difference ${worst} exceeds ${tol}`);
}
