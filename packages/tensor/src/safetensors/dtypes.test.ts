import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bfloat16ToFloat, halfToFloat, toFloat32, viewAs } from "./dtypes.ts";
import { SafetensorsError } from "./errors.ts";

const u8 = (...bytes: number[]) => new Uint8Array(bytes);
const u16 = (...bits: number[]) => new Uint8Array(new Uint16Array(bits).buffer);
const same = (actual: Float32Array, expected: number[]) =>
  assert.deepEqual(
    [...actual].map((v) => (Number.isNaN(v) ? "NaN" : v)),
    expected.map((v) => (Number.isNaN(v) ? "NaN" : v)),
  );

describe("safetensors dtypes: widening to float32", () => {
  test("F16: normals, subnormals, extremes, signed zero, infinities, NaN", () => {
    same(toFloat32("F16", u16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x7e00)), [
      1,
      -2,
      65504,
      2 ** -24,
      2 ** -14,
      0.333251953125,
      Infinity,
      -Infinity,
      Number.NaN,
    ]);
    assert.ok(Object.is(halfToFloat(0x8000), -0));
  });

  test("BF16 is the top half of float32", () => {
    same(toFloat32("BF16", u16(0x3f80, 0x4049, 0xff80, 0x0001)), [1, 3.140625, -Infinity, 2 ** -133]);
    assert.ok(Number.isNaN(bfloat16ToFloat(0x7fc0)));
  });

  test("F8_E4M3 (fn: finite, max 448, S.1111.111 is NaN)", () => {
    same(toFloat32("F8_E4M3", u8(0x38, 0x40, 0x7e, 0xfe, 0x08, 0x01, 0x7f, 0xff, 0x80)), [
      1,
      2,
      448,
      -448,
      2 ** -6,
      2 ** -9,
      Number.NaN,
      Number.NaN,
      -0,
    ]);
  });

  test("F8_E5M2 (IEEE-like: max 57344, infinities, NaNs)", () => {
    same(toFloat32("F8_E5M2", u8(0x3c, 0x7b, 0x7c, 0xfc, 0x7d, 0x01, 0x04)), [
      1,
      57344,
      Infinity,
      -Infinity,
      Number.NaN,
      2 ** -16,
      2 ** -14,
    ]);
  });

  test("F8_E8M0 scales are powers of two, 0xff is NaN", () => {
    same(toFloat32("F8_E8M0", u8(127, 128, 0, 255)), [1, 2, 2 ** -127, Number.NaN]);
  });

  test("F64 rounds to nearest float32; integers convert by value", () => {
    same(toFloat32("F64", new Uint8Array(new Float64Array([0.1, -3]).buffer)), [Math.fround(0.1), -3]);
    same(toFloat32("I64", new Uint8Array(new BigInt64Array([-5n, 2n ** 40n]).buffer)), [-5, 2 ** 40]);
    same(toFloat32("U8", u8(0, 255)), [0, 255]);
    same(toFloat32("I16", new Uint8Array(new Int16Array([-32768, 7]).buffer)), [-32768, 7]);
  });

  test("F32 aligned is a view; misaligned input is copied into an aligned array", () => {
    const bytes = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    assert.equal(toFloat32("F32", bytes).buffer, bytes.buffer);
    const shifted = new Uint8Array(9);
    shifted.set(bytes, 1);
    const view = viewAs("F32", shifted.subarray(1));
    assert.notEqual(view.buffer, shifted.buffer);
    assert.deepEqual([...view], [1.5, -2]);
  });

  test("complex cannot become float32", () => {
    assert.throws(() => toFloat32("C64", new Uint8Array(8)), SafetensorsError);
  });
});
