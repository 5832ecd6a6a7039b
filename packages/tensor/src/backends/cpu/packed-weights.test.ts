// Pre-packed GEMM weights: the native packed path against the per-call packing (bit for bit:
// the same panels, read in place) for odd sizes, transposed and sliced B, float32/bfloat16/
// float16 and every kernel family this CPU has; and the matmul kernel's use of packings against
// the `js` backend, through weight updates that do and do not bump the storage's version.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  copy_,
  enableGrad,
  listBackends,
  manualSeed,
  matmul,
  noGrad,
  packedWeightBytes,
  randn,
  SGD,
  setWeightPacking,
  sum,
  type Tensor,
  to,
  withBackend,
} from "../../index.ts";
import { type NativeGemmDType, native } from "../../native/index.ts";

const addon = native;
after(() => {
  addon?.selectGemmKernel("");
  addon?.setNumThreads(0);
  setWeightPacking(true);
});

let seed = 99;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}

/** `n` random values of `dtype` as the raw array the GEMM reads. */
function values(n: number, dtype: NativeGemmDType): Float32Array | Uint16Array {
  const f = Float32Array.from({ length: n }, rand);
  if (dtype === "float32") return f;
  // bfloat16 by truncation; float16 from small exact values (sign, 5-bit exponent 14, 4 mantissa bits).
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from(u, (bits, i) =>
    dtype === "bfloat16" ? bits >>> 16 : ((i & 1) << 15) | (14 << 10) | (((bits >>> 19) & 0xf) << 6),
  );
}

interface Case {
  M: number;
  K: number;
  N: number;
  dtype: NativeGemmDType;
  /** B given as a row-major Bᵀ (a Linear layer's weight). */
  transposed?: boolean;
  /** Elements of padding before B and after each of its rows (a slice of a larger buffer). */
  pad?: number;
  beta?: number;
}

/** C from the per-call packing and from a pre-packed B: they must agree bit for bit. */
function packedMatchesUnpacked(native: NonNullable<typeof addon>, c: Case): void {
  const { M, K, N, dtype } = c;
  const pad = c.pad ?? 0;
  const a = values(M * K, dtype);
  const inner = c.transposed ? K : N;
  const outer = c.transposed ? N : K;
  const b = values(pad + outer * (inner + pad), dtype);
  const bStrides: [number, number] = c.transposed ? [1, inner + pad] : [inner + pad, 1];
  const bytes = native.gemmPackedBytes(dtype, K, N);
  assert.ok(bytes > 0);
  const packed = native.allocate(bytes, false);
  native.gemmPackB(dtype, K, N, b, pad, bStrides, packed);
  const start = Float32Array.from({ length: M * N }, rand);
  const run = (bPacked?: ArrayBuffer) => {
    const out = Float32Array.from(start);
    native.gemm(
      dtype,
      M,
      N,
      K,
      1,
      a,
      0,
      [0, K, 1],
      b,
      pad,
      [0, ...bStrides],
      out,
      0,
      [0, N, 1],
      1,
      c.beta ?? 0,
      bPacked,
    );
    return out;
  };
  const want = run();
  const got = run(packed);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${JSON.stringify(c)}: C[${i}] ${got[i]} vs ${want[i]}`);
  }
  native.free(packed);
}

describe("native gemm with a pre-packed B", { skip: !addon && "the native addon did not load" }, () => {
  const native = addon as NonNullable<typeof addon>;
  const families = ["generic", "avx2", "avx512", "avx512-bf16", "amx-bf16"].filter((f) => native.selectGemmKernel(f));
  native.selectGemmKernel("");

  for (const family of families) {
    test(`${family}: odd sizes, transposed and sliced B, three dtypes, 1 and 2 threads`, () => {
      assert.ok(native.selectGemmKernel(family));
      for (const threads of [1, 2]) {
        native.setNumThreads(threads);
        for (const dtype of ["float32", "bfloat16", "float16"] as const) {
          packedMatchesUnpacked(native, { M: 19, K: 37, N: 53, dtype });
          packedMatchesUnpacked(native, { M: 128, K: 768, N: 200, dtype, transposed: true });
          packedMatchesUnpacked(native, { M: 33, K: 700, N: 97, dtype, pad: 5, beta: 1 });
          packedMatchesUnpacked(native, { M: 130, K: 1100, N: 70, dtype, transposed: true, pad: 3 });
        }
      }
      native.selectGemmKernel("");
      native.setNumThreads(0);
    });
  }

  test("a packing made for another kernel family is ignored, not misread", () => {
    if (families.length < 2) return;
    const [first, second] = families as [string, string];
    native.selectGemmKernel(first);
    const K = 64;
    const N = 48;
    const b = values(K * N, "float32");
    const packed = native.allocate(native.gemmPackedBytes("float32", K, N), false);
    native.gemmPackB("float32", K, N, b, 0, [N, 1], packed);
    native.selectGemmKernel(second);
    // 20 rows take the GEMM, 8 the few-row kernels (the panel form where they read packings)
    for (const M of [20, 8]) {
      const a = values(M * K, "float32");
      const want = new Float32Array(M * N);
      const got = new Float32Array(M * N);
      native.gemm("float32", M, N, K, 1, a, 0, [0, K, 1], b, 0, [0, N, 1], want, 0, [0, N, 1], 1, 0);
      native.gemm("float32", M, N, K, 1, a, 0, [0, K, 1], b, 0, [0, N, 1], got, 0, [0, N, 1], 1, 0, packed);
      assert.deepEqual(got, want, `${M} rows`);
    }
    native.selectGemmKernel("");
  });

  test("bad arguments throw coded errors", () => {
    const b = values(32 * 32, "float32");
    const small = native.allocate(64);
    assert.throws(() => native.gemmPackB("float32", 32, 32, b, 0, [32, 1], small), { code: "HEARTH_TENSOR_ARGUMENT" });
    assert.throws(() => native.gemmPackB("float32", 33, 32, b, 0, [32, 1], native.allocate(1 << 16)), {
      name: "RangeError",
      message: /gemmPackB: operand 'b' reaches element/,
    });
    const a = values(20 * 32, "float32");
    const c = new Float32Array(20 * 32);
    assert.throws(
      () => native.gemm("float32", 20, 32, 32, 1, a, 0, [0, 32, 1], b, 0, [0, 32, 1], c, 0, [0, 32, 1], 1, 0, small),
      { code: "HEARTH_TENSOR_ARGUMENT" },
    );
    assert.equal(native.gemmPackedBytes("float32", 32, 4), 0);
  });
});

function assertClose(got: Tensor, want: Tensor, rtol = 1e-5): void {
  const g = got.dataSync() as Float32Array;
  const w = want.dataSync() as Float32Array;
  assert.equal(g.length, w.length);
  let scale = 1e-30;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs((g[i] as number) - (w[i] as number)) <= rtol * scale)) {
      assert.fail(`element ${i}: ${g[i]} vs ${w[i]}`);
    }
  }
}

describe("matmul with packed weights", { skip: !listBackends().includes("cpu") && "no cpu backend" }, () => {
  /** x·W on the cpu backend under noGrad, beside the js reference. */
  const check = (x: Tensor, w: Tensor) => {
    const got = noGrad(() => matmul(x, w));
    const want = withBackend("js", () => matmul(x, w));
    assertClose(got, want, x.dtype === "float32" ? 1e-5 : 1e-2);
  };

  test("packs a weight on its first product outside autograd and follows its updates", () => {
    manualSeed(3);
    const w = randn([96, 80]);
    const x = randn([40, 96]);
    const before = packedWeightBytes();
    check(x, w);
    const afterFirst = packedWeightBytes();
    assert.ok(afterFirst > before, "the weight was packed");
    check(x, w);
    assert.equal(packedWeightBytes(), afterFirst, "the packing was reused");
    // An update through the engine bumps the storage's version: the packing is redone.
    copy_(w, randn([96, 80]));
    check(x, w);
    // A write that skips the bump (every value scaled, as an optimiser would) is caught by the sample.
    const data = w.view_().data as Float32Array;
    for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) * 1.5;
    check(x, w);
    // A transposed view of the same storage is a matrix of its own.
    const wt = w.transpose(0, 1);
    check(randn([24, 80]), wt);
    // Releasing the storage (its last view) frees its packings.
    w.dispose();
    assert.ok(packedWeightBytes() > before);
    wt.dispose();
    assert.equal(packedWeightBytes(), before);
  });

  test("bfloat16 and float16 weights, sliced and transposed", () => {
    manualSeed(4);
    for (const dtype of ["bfloat16", "float16"] as const) {
      const w = to(randn([130, 70]), dtype);
      check(to(randn([33, 130]), dtype), w);
      check(to(randn([33, 130]), dtype), w);
      // A few rows: bfloat16 reuses the packing (on the GEMM's bf16 tiles), float16 takes the
      // matrix-vector path.
      check(to(randn([8, 130]), dtype), w);
      const big = to(randn([90, 200]), dtype);
      check(to(randn([17, 60]), dtype), big.slice(1, 20, 80).slice(0, 10, 70).transpose(0, 1));
    }
  });

  test("no packing under autograd, in backward, for few rows, or when turned off", () => {
    manualSeed(5);
    const w = randn([64, 64]).requiresGrad_();
    const x = randn([32, 64]);
    const before = packedWeightBytes();
    const y = enableGrad(() => sum(matmul(x, w)));
    y.backward();
    noGrad(() => matmul(randn([1, 64]), w));
    const was = setWeightPacking(false);
    noGrad(() => matmul(x, w));
    setWeightPacking(was);
    assert.equal(packedWeightBytes(), before);
  });

  test("a few rows multiply a [K, N] weight from its transposed copy, made once and kept current", () => {
    manualSeed(7);
    for (const dtype of ["float32", "bfloat16", "float16"] as const) {
      // odd sizes; a slice of a wider matrix (row stride above N) beside a plain one
      const wide = to(randn([67, 61]), dtype);
      for (const w of [to(randn([67, 45]), dtype), wide.slice(1, 3, 48)]) {
        const before = packedWeightBytes();
        for (let rows = 2; rows <= 8; rows++) check(to(randn([rows, 67]), dtype), w);
        const made = packedWeightBytes();
        assert.ok(made > before, `${dtype}: a copy was made`);
        // batched rows of one token each (a decoding step's [B, 1, K] input)
        check(to(randn([5, 1, 67]), dtype), w);
        assert.equal(packedWeightBytes(), made, `${dtype}: the copy was reused`);
        copy_(w, to(randn([67, 45]), dtype));
        check(to(randn([3, 67]), dtype), w);
        check(to(randn([1, 67]), dtype), w);
      }
    }
    // wider than one transposing panel (256 columns), with a tail panel
    const wideBefore = packedWeightBytes();
    check(randn([3, 19]), randn([19, 300]));
    assert.ok(packedWeightBytes() > wideBefore);
    // a weight already laid with its rows along K (a Linear's weight.T) needs no copy
    const before = packedWeightBytes();
    check(randn([4, 40]), randn([30, 40]).transpose(0, 1));
    assert.equal(packedWeightBytes(), before);
  });

  test("float32 products of gemvPackedRows() to 8 rows read the weight's GEMM packing, made once and kept current", (t) => {
    const native = addon as NonNullable<typeof addon>;
    const from = native.gemvPackedRows();
    if (from === 0) return t.skip("this kernel family's few-row products read no packing");
    manualSeed(8);
    const w = randn([67, 45]);
    for (const weight of [w, randn([45, 67]).transpose(0, 1)]) {
      const before = packedWeightBytes();
      check(randn([from, 67]), weight);
      assert.equal(
        packedWeightBytes() - before,
        native.gemmPackedBytes("float32", 67, 45),
        "the GEMM's packing was made",
      );
      for (let rows = from; rows <= 8; rows++) check(randn([rows, 67]), weight);
      // batched rows of one token each (a decoding step's [B, 1, K] input), and a prompt's rows
      check(randn([8, 1, 67]), weight);
      check(randn([40, 67]), weight);
      assert.equal(packedWeightBytes() - before, native.gemmPackedBytes("float32", 67, 45), "and reused");
    }
    copy_(w, randn([67, 45]));
    check(randn([7, 67]), w);
    // fewer rows take the transposed copy or the weight as it lies
    const before = packedWeightBytes();
    check(randn([from - 1, 40]), randn([30, 40]).transpose(0, 1));
    assert.equal(packedWeightBytes(), before);
  });

  test("one row: from a transposed copy only for bfloat16 where the GEMM has bf16 tiles (the vdpbf16ps dot form)", () => {
    manualSeed(8);
    const bf16Dot = native?.gemmKernel("bfloat16").endsWith("bf16") ?? false;
    for (const dtype of ["float32", "bfloat16", "float16"] as const) {
      const w = to(randn([67, 45]), dtype);
      const before = packedWeightBytes();
      check(to(randn([1, 67]), dtype), w);
      // a decoding step's [1, 1, K] input
      check(to(randn([1, 1, 67]), dtype), w);
      const copied = dtype === "bfloat16" && bf16Dot;
      assert.equal(packedWeightBytes() - before, copied ? 67 * 45 * 2 : 0, dtype);
      w.dispose();
      assert.equal(packedWeightBytes(), before, dtype);
    }
  });

  test("evaluation between optimiser steps sees the updated weights", () => {
    manualSeed(6);
    const w = randn([64, 48]).requiresGrad_();
    const x = randn([20, 64]);
    const opt = new SGD([w], { lr: 0.1 });
    for (let step = 0; step < 3; step++) {
      check(x, w.detach());
      const loss = enableGrad(() => sum(matmul(x, w)));
      loss.backward();
      opt.step();
      opt.zeroGrad();
    }
    check(x, w.detach());
  });
});
