/**
 * Helpers for the hf-tiny parity tests: the golden JSON and tensors written by Python's
 * transformers (fixtures/hf-tiny/goldens), and a tolerance check (1e-4 absolute, relative for
 * values above 1).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tensor } from "@hearth/tensor";
import { safeOpenSync, toFloat32 } from "@hearth/tensor/safetensors";

/** The repository's fixtures/hf-tiny folder. */
export const HF_TINY = fileURLToPath(new URL("../../../fixtures/hf-tiny/", import.meta.url));

/** A golden: its JSON and a reader for its tensors. */
export function loadGolden(name: string): {
  json: Record<string, unknown> & Record<string, never>;
  tensor(key: string): Float32Array;
  shape(key: string): number[];
} {
  const json = JSON.parse(readFileSync(`${HF_TINY}goldens/${name}.json`, "utf8"));
  const file = safeOpenSync(`${HF_TINY}goldens/${name}.safetensors`);
  return {
    json,
    tensor: (key) => Float32Array.from(toFloat32(file.raw(key).dtype, file.raw(key).data)),
    shape: (key) => [...file.raw(key).shape],
  };
}

/** Asserts |a − b| ≤ tol · max(1, |b|) everywhere `keep(i)` holds (all by default). */
export function assertClose(
  actual: Tensor | Float32Array,
  expected: Float32Array,
  what: string,
  tol = 1e-4,
  keep: (i: number) => boolean = () => true,
): void {
  const a = actual instanceof Float32Array ? actual : (actual.dataSync() as Float32Array);
  assert.equal(a.length, expected.length, `${what}: ${a.length} values, expected ${expected.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    if (!keep(i)) continue;
    const e = expected[i] as number;
    const d = Math.abs((a[i] as number) - e) / Math.max(1, Math.abs(e));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: largest difference ${worst} at flat index ${at} exceeds ${tol}`);
}
