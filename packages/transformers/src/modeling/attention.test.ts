import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { decoderMask, maskValue } from "./attention.ts";

const visible = (m: number[][][][], b: number, t: number) =>
  (((m[b] as number[][][])[0] as number[][])[t] as number[]).map((x, s) => (x === 0 ? s : -1)).filter((s) => s >= 0);

test("decoderMask: causal, padding and past positions", () => {
  const mask = decoderMask(
    tensor(
      [
        [0, 1, 1, 1],
        [1, 1, 1, 1],
      ],
      { dtype: "int64" },
    ),
    2,
    2,
    "float32",
  );
  assert.deepEqual(mask.shape, [2, 1, 2, 4]);
  const m = mask.tolistSync() as number[][][][];
  assert.deepEqual(visible(m, 0, 0), [1, 2]);
  assert.deepEqual(visible(m, 0, 1), [1, 2, 3]);
  assert.deepEqual(visible(m, 1, 0), [0, 1, 2]);
  assert.equal(m[0]?.[0]?.[0]?.[0], maskValue("float32"));
});

test("decoderMask: a sliding window sees only the last positions (Mistral)", () => {
  const m = decoderMask(null, 4, 0, "float32", 2).tolistSync() as number[][][][];
  assert.deepEqual(visible(m, 0, 3), [2, 3]);
  assert.deepEqual(visible(m, 0, 0), [0]);
});

test("decoderMask: half-precision masks use that dtype's most negative value", () => {
  const m = decoderMask(null, 2, 0, "bfloat16");
  assert.equal(m.dtype, "bfloat16");
  assert.ok(Number.isFinite(m.dataSync()[1] as number));
});
