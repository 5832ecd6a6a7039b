/** Fixture paths and golden readers shared by the peft tests. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AdamW, scope, type Tensor } from "@hearth/tensor";
import { safeOpenSync, toFloat32 } from "@hearth/tensor/safetensors";

/** The repository's fixtures/hf-tiny folder. */
export const HF_TINY = fileURLToPath(new URL("../../../fixtures/hf-tiny/", import.meta.url));

/** A golden written by Python (JSON + tensors). */
export function loadGolden(name: string): { json: Record<string, unknown>; tensor(key: string): Float32Array } {
  const json = JSON.parse(readFileSync(`${HF_TINY}goldens/${name}.json`, "utf8"));
  const file = safeOpenSync(`${HF_TINY}goldens/${name}.safetensors`);
  return { json, tensor: (key) => Float32Array.from(toFloat32(file.raw(key).dtype, file.raw(key).data)) };
}

/** Asserts |a − b| ≤ tol · max(1, |b|) everywhere. */
export function assertClose(actual: Tensor | Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  const a = actual instanceof Float32Array ? actual : (actual.contiguous().dataSync() as Float32Array);
  assert.equal(a.length, expected.length, `${what}: ${a.length} values, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = expected[i] as number;
    const d = Math.abs((a[i] as number) - e) / Math.max(1, Math.abs(e));
    if (!(d <= worst)) worst = d;
  }
  assert.ok(worst <= tol, `${what}: largest difference ${worst} exceeds ${tol}`);
}

/** Largest absolute difference of two tensors. */
export function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.contiguous().dataSync() as Float32Array;
  const y = b.contiguous().dataSync() as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
}

/**
 * Trains `params` with AdamW for `steps` steps on one sequence (its own labels), with `model` in
 * training mode; returns each step's loss.
 */
export function trainOnSequence(
  model: { train(): unknown; forward(input: { inputIds: Tensor; labels: Tensor }): unknown },
  params: Tensor[],
  inputIds: () => Tensor,
  { steps, lr }: { steps: number; lr: number },
): number[] {
  const opt = new AdamW(params, { lr });
  model.train();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    losses.push(
      scope(() => {
        const { loss } = model.forward({ inputIds: inputIds(), labels: inputIds() }) as { loss: Tensor };
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      }),
    );
  }
  return losses;
}
