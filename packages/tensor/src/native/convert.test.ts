// The native float conversions (float32 <-> bfloat16/float16) of every kernel family against
// the js encoders, bit for bit: special values (±0, ±inf, NaN, subnormals, ties, overflow),
// lengths that are not a multiple of the vector width, and every 16-bit pattern back to float32.
// Then the cast, comparison, cat/pad and 16-bit elementwise primitives of the cpu backend
// against the js backend.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { bf16BitsToFloat, f16BitsToFloat, floatToBf16Bits, floatToF16Bits } from "../dtype.ts";
import {
  add,
  apply,
  cat,
  eq,
  exp,
  gelu,
  layerNorm,
  lt,
  pad,
  randn,
  sum,
  type Tensor,
  tensor,
  withBackend,
} from "../index.ts";
import { native } from "./index.ts";

const addon = native;
const families = addon ? ["generic", "avx2", "avx512"].filter((f) => addon.selectGemmKernel(f)) : [];
addon?.selectGemmKernel("");
after(() => addon?.selectGemmKernel(""));

const specials = (() => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out: number[] = [0, -0, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 65504, 65520];
  out.push(
    1e-40,
    -3e-39,
    5.96e-8,
    2.98e-8,
    6.1e-5,
    1e-45,
    3.4e38,
    -3.39e38,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    1 + 2 ** -11,
  );
  for (const bits of [0x3f808000, 0x3f818000, 0x7f7fffff, 0x00400000, 0x807fffff, 0x33800000, 0x33000001]) {
    u[0] = bits;
    out.push(f[0] as number);
  }
  let s = 7;
  for (let i = 0; i < 300; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    u[0] = s;
    out.push(f[0] as number);
    out.push(((s % 2000) - 1000) / 7);
  }
  return Float32Array.from(out);
})();

describe("native float conversions match the js encoders bit for bit", { skip: !addon && "no native addon" }, () => {
  const a = addon as NonNullable<typeof addon>;
  for (const family of families) {
    test(`${family}: float32 -> bfloat16/float16 and back`, () => {
      assert.ok(a.selectGemmKernel(family));
      try {
        assert.equal(a.convertKernel(), family);
        for (const n of [1, 7, 15, 16, 17, 33, specials.length]) {
          const src = specials.subarray(specials.length - n);
          for (const [dtype, enc] of [
            ["bfloat16", floatToBf16Bits],
            ["float16", floatToF16Bits],
          ] as const) {
            const bits = new Uint16Array(n);
            a.convert(src, "float32", bits, dtype, n);
            for (let i = 0; i < n; i++) {
              assert.equal(bits[i], enc(src[i] as number), `${dtype}(${src[i]}) at ${i} of ${n}`);
            }
          }
        }
        for (const [dtype, dec] of [
          ["bfloat16", bf16BitsToFloat],
          ["float16", f16BitsToFloat],
        ] as const) {
          const all = new Uint16Array(65536).map((_, i) => i);
          const back = new Float32Array(65536);
          a.convert(all, dtype, back, "float32", 65536);
          for (let i = 0; i < 65536; i++) {
            const want = dec(i);
            if (Number.isNaN(want)) assert.ok(Number.isNaN(back[i] as number), `${dtype} ${i}`);
            else assert.ok(Object.is(back[i], want), `${dtype} bits ${i}: ${back[i]} vs ${want}`);
          }
        }
        const h = new Uint16Array(100).map((_, i) => floatToBf16Bits(i / 3 - 10));
        const f16 = new Uint16Array(100);
        a.convert(h, "bfloat16", f16, "float16", 100);
        for (let i = 0; i < 100; i++) assert.equal(f16[i], floatToF16Bits(bf16BitsToFloat(h[i] as number)));
      } finally {
        a.selectGemmKernel("");
      }
    });
  }
  test("bad arguments throw coded errors", () => {
    assert.throws(() => a.convert(new Float32Array(4), "float32", new Uint16Array(2), "bfloat16", 4), /holds 2/);
    assert.throws(
      () => a.convert(new Float32Array(4), "float32", new Uint16Array(4), "int8" as "float16", 4),
      /must be 'float32'/,
    );
  });
});

const close = (got: Tensor, want: Tensor, rtol: number, what: string) => {
  const g = Array.from(got.dataSync() as ArrayLike<number>, Number);
  const w = Array.from(want.dataSync() as ArrayLike<number>, Number);
  assert.equal(got.dtype, want.dtype, what);
  assert.deepEqual(got.shape, want.shape, what);
  const scale = Math.max(1e-30, ...w.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  w.forEach((v, i) => {
    const x = g[i] as number;
    if (Number.isNaN(v)) assert.ok(Number.isNaN(x), `${what}[${i}]`);
    else assert.ok(Math.abs(x - v) <= rtol * scale || x === v, `${what}[${i}]: ${x} vs ${v}`);
  });
};

test("cpu backend: casts, comparisons, cat/pad and 16-bit ops agree with js", { skip: !addon && "no addon" }, () => {
  const x = randn([33, 70]);
  const both = (what: string, f: () => Tensor, rtol = 0) =>
    close(withBackend("cpu", f), withBackend("js", f), rtol, what);
  for (const d of ["bfloat16", "float16"] as const) {
    both(`cast ${d} transposed`, () => x.transpose().to(d));
    both(`cast ${d} -> float32`, () => x.to(d).to("float32"));
    both(`cast ${d} -> other half`, () => x.to(d).to(d === "float16" ? "bfloat16" : "float16"));
    both(`add ${d} broadcast`, () => add(x.to(d), x.slice(0, 0, 1).to(d)), 8e-3);
    both(`exp ${d} strided`, () => exp(x.to(d).transpose().slice(0, 2, 30)), 8e-3);
    both(`sum ${d}`, () => sum(x.to(d), [1]), 8e-3);
    both(`lt ${d} strided broadcast`, () => lt(x.transpose().to(d), x.slice(0, 0, 1).transpose().to(d)));
    both(`gelu ${d}`, () => gelu(x.to(d), "tanh"), 8e-3);
    both(`layerNorm ${d}`, () => layerNorm(x.to(d), [70]), 8e-3);
  }
  const nan = tensor([1, Number.NaN, 3, -0, 0]);
  both("eq with NaN and -0", () => eq(nan, tensor([1, Number.NaN, 2, 0, -0])));
  both("lt broadcast transposed", () => lt(x.transpose(), x.slice(0, 0, 1).transpose()));
  both("cat int64 + strided float", () =>
    cat(
      [
        tensor([[1n], [2n]], { dtype: "int64" }),
        tensor(
          [
            [3n, 4n],
            [5n, 6n],
          ],
          { dtype: "int64" },
        ),
      ],
      1,
    ),
  );
  both("cat strided float", () => cat([x.transpose().slice(1, 0, 5), x.transpose().slice(1, 7, 9)], 1));
  both("pad with a value", () => pad(x.transpose().slice(0, 3, 9), [1, 2, 3, 0], 2.5));
  both(
    "pad bfloat16 with a value",
    () =>
      apply("pad", [x.to("bfloat16")], {
        pads: [
          [2, 1],
          [0, 3],
        ],
        value: -1,
      })[0] as Tensor,
  );
});
