import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bf16BitsToFloat, f16BitsToFloat, floatToBf16Bits, floatToF16Bits, promoteTypes } from "./dtype.ts";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Reference f32 -> bf16: the classic bit trick (exact round-to-nearest-even for non-NaN). */
function bf16Ref(x: number): number {
  f32[0] = x;
  const bits = u32[0] as number;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

describe("dtype conversions", () => {
  test("every float16 bit pattern round-trips through its value", () => {
    for (let h = 0; h < 65536; h++) {
      const v = f16BitsToFloat(h);
      if (Number.isNaN(v)) continue;
      assert.equal(floatToF16Bits(v), h, `bits 0x${h.toString(16)}`);
    }
  });

  test("every bfloat16 bit pattern round-trips through its value", () => {
    for (let h = 0; h < 65536; h++) {
      const v = bf16BitsToFloat(h);
      if (Number.isNaN(v)) continue;
      assert.equal(floatToBf16Bits(v), h, `bits 0x${h.toString(16)}`);
    }
  });

  test("float32 to bfloat16 matches the bit-trick rounding on random and tie values", () => {
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      u32[0] = seed;
      const x = f32[0] as number;
      if (!Number.isFinite(x)) continue;
      assert.equal(floatToBf16Bits(x), bf16Ref(x), `x=${x}`);
    }
    // exact ties go to even
    assert.equal(bf16BitsToFloat(floatToBf16Bits(1 + 2 ** -8)), 1);
    assert.equal(bf16BitsToFloat(floatToBf16Bits(1 + 3 * 2 ** -8)), 1 + 2 ** -6);
  });

  test("float16 rounding: ties to even, overflow to infinity, subnormals", () => {
    assert.equal(f16BitsToFloat(floatToF16Bits(1 + 2 ** -11)), 1); // tie -> even
    assert.equal(f16BitsToFloat(floatToF16Bits(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
    assert.equal(f16BitsToFloat(floatToF16Bits(65519)), 65504);
    assert.equal(f16BitsToFloat(floatToF16Bits(65520)), Number.POSITIVE_INFINITY);
    assert.equal(f16BitsToFloat(floatToF16Bits(2 ** -25)), 0); // tie with 0 -> even (0)
    assert.equal(f16BitsToFloat(floatToF16Bits(3 * 2 ** -26)), 2 ** -24);
    assert.equal(floatToF16Bits(-0), 0x8000);
    assert.ok(Number.isNaN(f16BitsToFloat(floatToF16Bits(Number.NaN))));
  });

  test("type promotion follows PyTorch's categories", () => {
    assert.equal(promoteTypes("int64", "float16"), "float16");
    assert.equal(promoteTypes("float16", "bfloat16"), "float32");
    assert.equal(promoteTypes("bool", "int32"), "int32");
    assert.equal(promoteTypes("uint8", "int8"), "int32");
    assert.equal(promoteTypes("int32", "int64"), "int64");
  });
});
