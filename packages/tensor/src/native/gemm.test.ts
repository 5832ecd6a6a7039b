// The native GEMM against a plain float64 JavaScript reference: every kernel family this CPU
// has, float32/bfloat16/float16 inputs, transposed and strided operands, batches, alpha/beta,
// the matrix-vector paths, thread counts, and argument errors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type GemmStrides, type NativeGemmDType, native } from "./index.ts";

if (!native) throw new Error("gemm.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
after(() => {
  addon.selectGemmKernel("");
  addon.setNumThreads(0);
});

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}

// Values k/64 with |k| <= 64 are exact in float32, bfloat16 and float16 alike.
function exactValue(): number {
  return (Math.floor(rand() * 129) - 64) / 64;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toBits(v: number, dtype: NativeGemmDType): number {
  f32[0] = v;
  const u = u32[0] ?? 0;
  if (dtype === "bfloat16") return u >>> 16;
  if (v === 0) return (u >>> 16) & 0x8000;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/** A buffer of `n` elements of `dtype` holding the given values (in storage order). */
function makeBuffer(values: Float64Array, dtype: NativeGemmDType): Float32Array | Uint16Array {
  if (dtype === "float32") return Float32Array.from(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toBits(values[i] ?? 0, dtype);
  return out;
}

interface Operand {
  values: Float64Array;
  offset: number;
  strides: GemmStrides;
}

/** Lays out a batch×rows×cols operand, optionally transposed and with padding between rows. */
function layout(batch: number, rows: number, cols: number, transposed: boolean, pad: number, exact: boolean): Operand {
  const offset = pad;
  const inner = transposed ? rows : cols;
  const outer = transposed ? cols : rows;
  const ld = inner + pad;
  const bs = outer * ld + pad;
  const values = new Float64Array(offset + batch * bs);
  for (let i = 0; i < values.length; i++) values[i] = exact ? exactValue() : Math.fround(rand() * 2 - 1);
  const strides: GemmStrides = transposed ? [bs, 1, ld] : [bs, ld, 1];
  return { values, offset, strides };
}

function at(op: Operand, b: number, i: number, j: number): number {
  return op.values[op.offset + b * op.strides[0] + i * op.strides[1] + j * op.strides[2]] ?? Number.NaN;
}

/** Row i of A times column j of B (batch item 0) in float64, with the sum of the terms' magnitudes. */
function dot64(A: Operand, B: Operand, K: number, i: number, j: number): { sum: number; mag: number } {
  let sum = 0;
  let mag = 0;
  for (let k = 0; k < K; k++) {
    const p = at(A, 0, i, k) * at(B, 0, k, j);
    sum += p;
    mag += Math.abs(p);
  }
  return { sum, mag };
}

/** Epilogues `product` fuses into the GEMM call. */
interface Fused {
  bias: Float32Array;
  addend: Float32Array;
  activation: "geluTanh";
}

/**
 * C = A·B (M×N, row-major, beta 0) for a one-item A and B in float32 (`a`, `b` their values),
 * with B pre-packed when `packed` is given, and optionally the `fused` bias, addend (M×N) and
 * activation.
 */
function rowMajorProduct(
  M: number,
  N: number,
  K: number,
  A: Operand,
  a: Float32Array,
  B: Operand,
  b: Float32Array,
  packed: ArrayBuffer | null,
  fused?: Fused,
): Float32Array {
  const c = new Float32Array(M * N);
  addon.gemm(
    "float32",
    M,
    N,
    K,
    1,
    a,
    A.offset,
    A.strides,
    b,
    B.offset,
    B.strides,
    c,
    0,
    [0, N, 1],
    1,
    0,
    packed,
    fused?.bias ?? null,
    false,
    fused?.addend ?? null,
    0,
    [0, N, 1],
    fused?.activation ?? null,
  );
  return c;
}

/**
 * Runs `product` with the fine task split on (HEARTH_GEMM_FINE=1) and off (=0, one task per
 * thread) and fails unless both give C bit for bit. The caller restores the switch.
 */
function assertFineSplitBits(label: string, product: () => Float32Array): void {
  process.env.HEARTH_GEMM_FINE = "1";
  const split = product();
  process.env.HEARTH_GEMM_FINE = "0";
  const plain = product();
  for (let i = 0; i < split.length; i++)
    if (!Object.is(split[i], plain[i])) assert.fail(`${label}: C[${i}] ${split[i]} vs ${plain[i]}`);
}

interface Case {
  M: number;
  N: number;
  K: number;
  batch?: number;
  ta?: boolean;
  tb?: boolean;
  pad?: number;
  alpha?: number;
  beta?: number;
  dtype?: NativeGemmDType;
  cColStride?: number;
}

function runCase(c: Case): void {
  const { M, N, K } = c;
  const batch = c.batch ?? 1;
  const dtype = c.dtype ?? "float32";
  const alpha = c.alpha ?? 1;
  const beta = c.beta ?? 0;
  const pad = c.pad ?? 0;
  const exact = dtype !== "float32";
  const A = layout(batch, M, K, c.ta ?? false, pad, exact);
  const B = layout(batch, K, N, c.tb ?? false, pad, exact);
  const ccs = c.cColStride ?? 1;
  const crs = N * ccs + pad;
  const cbs = M * crs;
  const cInit = new Float32Array(batch * cbs + 1);
  for (let i = 0; i < cInit.length; i++) cInit[i] = beta === 0 ? Number.NaN : rand() * 2 - 1;
  const cOut = cInit.slice();
  addon.gemm(
    dtype,
    M,
    N,
    K,
    batch,
    makeBuffer(A.values, dtype),
    A.offset,
    A.strides,
    makeBuffer(B.values, dtype),
    B.offset,
    B.strides,
    cOut,
    1,
    [cbs, crs, ccs],
    alpha,
    beta,
  );
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let sum = 0;
        let mag = 0;
        for (let k = 0; k < K; k++) {
          const p = at(A, b, i, k) * at(B, b, k, j);
          sum += p;
          mag += Math.abs(p);
        }
        const idx = 1 + b * cbs + i * crs + j * ccs;
        const old = beta === 0 ? 0 : (cInit[idx] ?? 0);
        const want = alpha * sum + (beta === 0 ? 0 : beta * old);
        const got = cOut[idx] ?? Number.NaN;
        const tol = 2e-6 * (Math.abs(alpha) * mag + Math.abs(beta * old)) + 1e-6;
        if (!(Math.abs(got - want) <= tol)) {
          assert.fail(`${JSON.stringify(c)}: C[${b},${i},${j}] = ${got}, want ${want} (tol ${tol})`);
        }
      }
  // Elements of C outside the view are untouched.
  for (let idx = 0; idx < cInit.length; idx++) {
    const inView =
      idx >= 1 &&
      (() => {
        const r = idx - 1;
        const b = Math.floor(r / cbs);
        const i = Math.floor((r % cbs) / crs);
        const rem = (r % cbs) % crs;
        return b < batch && i < M && rem % ccs === 0 && rem / ccs < N;
      })();
    if (!inView) assert.ok(Object.is(cOut[idx], cInit[idx]), `C[${idx}] outside the view was written`);
  }
}

const families = ["generic", "avx2", "avx512", "avx512-bf16", "amx-bf16", "amx-bf16x3"].filter((f) =>
  addon.selectGemmKernel(f),
);
addon.selectGemmKernel("");

const shapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [14, 32, 16],
  [15, 33, 17],
  [6, 16, 8],
  [29, 47, 31],
  [64, 64, 64],
  [37, 100, 389],
  [130, 70, 513],
];

describe("native gemm", () => {
  for (const family of families) {
    test(`${family}: float32 shapes that are and are not multiples of the tile`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const [M, N, K] of shapes) runCase({ M, N, K });
    });

    test(`${family}: transposed and padded operands, strided C, alpha and beta`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const [M, N, K] of [
        [17, 35, 19],
        [40, 70, 130],
      ] as const) {
        for (const ta of [false, true])
          for (const tb of [false, true]) runCase({ M, N, K, ta, tb, pad: 3, alpha: 0.5, beta: -1.5 });
        runCase({ M, N, K, cColStride: 2, alpha: 2, beta: 0.25 });
      }
    });

    test(`${family}: bfloat16 and float16 inputs accumulate in float32`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const dtype of ["bfloat16", "float16"] as const) {
        for (const [M, N, K] of [
          [5, 9, 3],
          [20, 40, 77],
          [33, 65, 400],
          [37, 70, 1031],
          // k slices of 136 and 127 (tails of 7 in the 8-deep transposes), widths under a tile
          [7, 17, 263],
        ] as const) {
          runCase({ M, N, K, dtype });
          runCase({ M, N, K, dtype, ta: true, tb: true, pad: 1, beta: 1 });
          runCase({ M, N, K, dtype, tb: true });
        }
      }
    });

    test(`${family}: batches and matrix-vector products`, () => {
      assert.ok(addon.selectGemmKernel(family));
      runCase({ M: 9, N: 21, K: 13, batch: 3, pad: 2 });
      runCase({ M: 9, N: 21, K: 13, batch: 4, ta: true, beta: 1 });
      for (const dtype of ["float32", "bfloat16", "float16"] as const) {
        for (const tb of [false, true]) {
          runCase({ M: 1, N: 77, K: 50, tb, dtype, pad: 1 });
          runCase({ M: 1, N: 2000, K: 33, tb, dtype, batch: 2, beta: 1 });
          // A few rows (a small decoding batch) with several column chunks.
          runCase({ M: 3, N: 77, K: 50, tb, dtype, pad: 1 });
          runCase({ M: 8, N: 700, K: 900, tb, ta: !tb, dtype, batch: 2, beta: 1, alpha: 0.5 });
        }
        for (const ta of [false, true]) runCase({ M: 70, N: 1, K: 45, ta, dtype, pad: 2 });
      }
    });
  }

  // Wide enough for several column blocks (the packed A is then reused by the later ones), deep
  // enough for several k slices whose depth is not a multiple of the k unit, rows not a
  // multiple of any tile height; with 1 thread (one task), and with 2, split along the columns
  // (N > M, into 2 or, for many columns, more chunks) or along the rows (M > N).
  test("several column blocks and k slices, split across 1 and 2 threads", () => {
    try {
      for (const family of families) {
        assert.ok(addon.selectGemmKernel(family));
        for (const threads of [1, 2]) {
          addon.setNumThreads(threads);
          runCase({ M: 19, N: 1400, K: 401, beta: 0.5 });
          runCase({ M: 19, N: 1400, K: 401, ta: true, tb: true, pad: 1 });
          runCase({ M: 75, N: 40, K: 397, ta: true, cColStride: 2 });
        }
      }
      addon.selectGemmKernel("");
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        runCase({ M: 31, N: 1300, K: 390, tb: true, batch: 2, pad: 2 });
        runCase({ M: 200, N: 33, K: 150, ta: true, beta: 1 });
        // Columns for several B blocks per thread: more column chunks than threads.
        runCase({ M: 20, N: 4000, K: 30, tb: true });
      }
    } finally {
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // Products of at least 64 MFLOP on 2 threads pack the operand every task shares once and cut
  // the other into 4 tasks per thread (gemm.cpp run_gemm): the same micro-panels in the same
  // order, so C is bit-for-bit what the one-task-per-thread split (HEARTH_GEMM_FINE=0) gives.
  test("large products on 2 threads: the shared-operand split gives the per-task split's bits", () => {
    const big = (M: number, N: number, K: number, ta: boolean, tb: boolean, beta: number) => {
      const A = layout(1, M, K, ta, 1, false);
      const B = layout(1, K, N, tb, 1, false);
      const c0 = Float32Array.from({ length: M * N }, () => rand() * 2 - 1);
      assertFineSplitBits(`${M}x${N}x${K} ta ${ta} tb ${tb}`, () => {
        const c = c0.slice();
        const a = Float32Array.from(A.values);
        const b = Float32Array.from(B.values);
        addon.gemm("float32", M, N, K, 1, a, A.offset, A.strides, b, B.offset, B.strides, c, 0, [0, N, 1], 1, beta);
        return c;
      });
    };
    try {
      addon.setNumThreads(2);
      for (const family of families) {
        assert.ok(addon.selectGemmKernel(family));
        big(75, 1400, 400, false, false, 0); // columns split, A packed once
        big(75, 1400, 400, true, true, 0.5);
        big(1400, 70, 400, false, false, 0); // rows split, B packed once
        big(1400, 70, 400, true, true, 1);
      }
      // ... and agree with the float64 reference.
      addon.selectGemmKernel("");
      runCase({ M: 75, N: 1400, K: 400, ta: true, pad: 1 });
      runCase({ M: 1400, N: 70, K: 400, tb: true, beta: 1 });
    } finally {
      delete process.env.HEARTH_GEMM_FINE;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // A short task (fewer than 24 A micro-panels) on a family with b_panel_outer (avx2) runs each B
  // micro-panel against all its A panels before the next (gemm.cpp run_block), a tall one each A
  // panel against the whole B block: the same micro-kernel calls in another order, so a short
  // product's rows are bit for bit the same rows of a tall product over the same B, on the
  // shared-A split (2 threads), the per-task packing (1 thread), with a pre-packed B or not, and
  // with a bias, a tanh GELU and an addend fused; and right against the float64 reference. (Only
  // avx2, with generic as the control: other families' row panels are not bound to this property.)
  test("short products: B-panel-outer order gives a tall product's bits", () => {
    const [K, N, tall, rows] = [600, 1000, 200, 77];
    const A = layout(1, tall, K, false, 0, false);
    const B = layout(1, K, N, false, 0, false);
    const a = Float32Array.from(A.values);
    const b = Float32Array.from(B.values);
    const bias = Float32Array.from({ length: N }, () => rand());
    const addend = Float32Array.from({ length: tall * N }, () => rand());
    const packed = addon.allocate(addon.gemmPackedBytes("float32", K, N), false);
    addon.gemmPackB("float32", K, N, b, B.offset, [B.strides[1], B.strides[2]], packed);
    const fusions: Fused = { bias, addend, activation: "geluTanh" };
    const run = (M: number, withPacked: boolean, fused: boolean) =>
      rowMajorProduct(M, N, K, A, a, B, b, withPacked ? packed : null, fused ? fusions : undefined);
    try {
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (const family of families.filter((f) => f === "generic" || f === "avx2")) {
          assert.ok(addon.selectGemmKernel(family));
          for (const withPacked of [false, true])
            for (const fused of [false, true]) {
              const short = run(rows, withPacked, fused);
              const whole = run(tall, withPacked, fused);
              for (let i = 0; i < short.length; i++)
                if (!Object.is(short[i], whole[i]))
                  assert.fail(
                    `${family} ${threads}t packed ${withPacked} fused ${fused}: C[${i}] ${short[i]} vs ${whole[i]}`,
                  );
            }
        }
      }
      addon.selectGemmKernel("");
      const plain = run(rows, false, false);
      for (let i = 0; i < rows; i += 19)
        for (let j = 0; j < N; j += 37) {
          const { sum, mag } = dot64(A, B, K, i, j);
          assert.ok(Math.abs((plain[i * N + j] ?? Number.NaN) - sum) <= 1e-5 * mag, `C[${i}, ${j}]`);
        }
    } finally {
      addon.free(packed);
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  /** A random bias and addend for an M×N product, then tanh GELU: every fused epilogue at once. */
  const randomFusions = (M: number, N: number): Fused => ({
    bias: Float32Array.from({ length: N }, () => rand()),
    addend: Float32Array.from({ length: M * N }, () => rand()),
    activation: "geluTanh",
  });

  // A taller task on a family with b_panel_outer (avx2) runs the same B-panel-outer order band by
  // band of 16 A panels (gemm.cpp kTallBandPanels; HEARTH_GEMM_BAND=0 runs each A panel against
  // the whole B block instead): the same micro-kernel calls in another order, so the same bits,
  // with A packed per band (one column block) or kept for all column blocks, rows cut into tasks,
  // a last band short or of one panel, and the fusions (a pre-packed B, not banded, beside them);
  // and right against the float64 reference.
  test("tall products: banded B-panel-outer order gives the A-panel-outer bits", () => {
    const K = 600;
    const product = (M: number, N: number, tb: boolean, withPacked: boolean, fused: boolean) => {
      const A = layout(1, M, K, false, 0, false);
      const B = layout(1, K, N, tb, 0, false);
      const a = Float32Array.from(A.values);
      const b = Float32Array.from(B.values);
      const fusions = fused ? randomFusions(M, N) : undefined;
      const packed = withPacked ? addon.allocate(addon.gemmPackedBytes("float32", K, N), false) : null;
      if (packed) addon.gemmPackB("float32", K, N, b, B.offset, [B.strides[1], B.strides[2]], packed);
      const run = (band: string) => {
        process.env.HEARTH_GEMM_BAND = band;
        return rowMajorProduct(M, N, K, A, a, B, b, packed, fusions);
      };
      try {
        return { A, B, banded: run("1"), plain: run("0") };
      } finally {
        if (packed) addon.free(packed);
      }
    };
    try {
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (const family of families.filter((f) => f === "generic" || f === "avx2")) {
          assert.ok(addon.selectGemmKernel(family));
          // 197 rows: 33 panels, bands of 16, 16 and 1; 300 columns: one column block (A per band);
          // 1000 columns: several (A kept); 610 rows over 200 columns: row tasks on 2 threads.
          for (const [M, N, tb, withPacked, fused] of [
            [197, 300, false, false, false],
            [197, 1000, true, false, true],
            [130, 300, true, false, true],
            [610, 200, false, false, false],
            [130, 300, true, true, true],
          ] as const) {
            const { banded, plain } = product(M, N, tb, withPacked, fused);
            for (let i = 0; i < banded.length; i++)
              if (!Object.is(banded[i], plain[i]))
                assert.fail(`${family} ${threads}t ${M}x${N} tb ${tb}: C[${i}] ${banded[i]} vs ${plain[i]}`);
          }
        }
      }
      addon.selectGemmKernel("");
      const { A, B, banded } = product(197, 300, true, false, false);
      for (let i = 0; i < 197; i += 13)
        for (let j = 0; j < 300; j += 17) {
          const { sum, mag } = dot64(A, B, K, i, j);
          assert.ok(Math.abs((banded[i * 300 + j] ?? Number.NaN) - sum) <= 1e-5 * mag, `C[${i}, ${j}]`);
        }
    } finally {
      delete process.env.HEARTH_GEMM_BAND;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // A float32 A with contiguous columns is read in place by a family with micro_lda (avx2, avx512)
  // instead of being packed (gemm.cpp a_in_place): the same micro-kernel calls on the same values,
  // so the packed A's bits, in every loop order and task cut (short, tall and banded, column and
  // row tasks, the k split), with padded rows, k and row tails and the fused epilogues; and
  // right against the float64 reference.
  test("a float32 A read in place gives the packed A's bits", () => {
    const product = (M: number, N: number, K: number, pad: number, tb: boolean, fused: boolean) => {
      const A = layout(1, M, K, false, pad, false);
      const B = layout(1, K, N, tb, pad, false);
      const a = Float32Array.from(A.values);
      const b = Float32Array.from(B.values);
      const fusions = fused ? randomFusions(M, N) : undefined;
      const run = (inPlace: string) => {
        process.env.HEARTH_GEMM_A_IN_PLACE = inPlace;
        return rowMajorProduct(M, N, K, A, a, B, b, null, fusions);
      };
      return { A, B, direct: run("1"), packed: run("0") };
    };
    try {
      for (const threads of [1, 2, 3]) {
        addon.setNumThreads(threads);
        for (const family of families.filter((f) => f === "generic" || f === "avx2" || f === "avx512")) {
          assert.ok(addon.selectGemmKernel(family));
          // 50 rows: a short task (B-panel-outer); 197: bands of 16; 610 over 200 columns: row
          // tasks; 150 x 2000 x 600: a fine column split; 20 x 30 x 8200: cut along k.
          for (const [M, N, K, pad, tb, fused] of [
            [50, 300, 600, 0, false, false],
            [50, 1000, 77, 3, true, true],
            [197, 300, 600, 5, true, true],
            [197, 1000, 259, 0, false, false],
            [610, 200, 300, 1, false, true],
            [150, 2000, 600, 0, true, false],
            [20, 30, 8200, 2, false, false],
          ] as const) {
            const { direct, packed } = product(M, N, K, pad, tb, fused);
            for (let i = 0; i < direct.length; i++)
              if (!Object.is(direct[i], packed[i]))
                assert.fail(`${family} ${threads}t ${M}x${N}x${K} pad ${pad}: C[${i}] ${direct[i]} vs ${packed[i]}`);
          }
        }
      }
      addon.selectGemmKernel("");
      const { A, B, direct } = product(197, 300, 600, 5, true, false);
      for (let i = 0; i < 197; i += 13)
        for (let j = 0; j < 300; j += 17) {
          const { sum, mag } = dot64(A, B, 600, i, j);
          assert.ok(Math.abs((direct[i * 300 + j] ?? Number.NaN) - sum) <= 1e-5 * mag, `C[${i}, ${j}]`);
        }
    } finally {
      delete process.env.HEARTH_GEMM_A_IN_PLACE;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // A short product (fewer rows than 24 A micro-panels: a 128-token prefill) takes the column
  // split over a shared packed A in shrinking tasks whatever its task count would have been, and
  // with a pre-packed B each thread claims its next task during its current one's last B block
  // (gemm.cpp shrinking_cuts, TaskFeed): the bits of the one-task-per-thread split on 2 and 3
  // threads, and right against the float64 reference.
  test("short products: shrinking column tasks over a pre-packed B give the per-task split's bits", () => {
    const short = (M: number, N: number, K: number, tb: boolean, packedB: boolean) => {
      const A = layout(1, M, K, false, 1, false);
      const B = layout(1, K, N, tb, 1, false);
      const a = Float32Array.from(A.values);
      const b = Float32Array.from(B.values);
      const bytes = addon.gemmPackedBytes("float32", K, N);
      const packed = packedB ? addon.allocate(bytes, false) : null;
      if (packed) addon.gemmPackB("float32", K, N, b, B.offset, [B.strides[1], B.strides[2]], packed);
      assertFineSplitBits(`${M}x${N}x${K} tb ${tb} packed ${packedB}`, () =>
        rowMajorProduct(M, N, K, A, a, B, b, packed),
      );
      if (packed) addon.free(packed);
    };
    try {
      for (const threads of [2, 3]) {
        addon.setNumThreads(threads);
        for (const family of families) {
          assert.ok(addon.selectGemmKernel(family));
          short(128, 1543, 300, true, true); // a ragged last column panel
          short(101, 777, 1100, false, true); // deep: tasks down to one micro-panel wide
          short(128, 3100, 170, false, false); // 8 equal tasks before, shrinking ones now
        }
      }
      addon.setNumThreads(2);
      addon.selectGemmKernel("");
      runCase({ M: 70, N: 1200, K: 500, tb: true, pad: 2 });
    } finally {
      delete process.env.HEARTH_GEMM_FINE;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // A product at least 8192 deep and 4 times deeper than it is wide or tall (a language-model
  // head's input gradient) is cut along k into partial products summed in chunk order
  // (gemm.cpp run_split_k): right against the float64 reference on every family (transposed and
  // padded operands, alpha, beta, padded C rows), the same bits on 1, 2 and 3 threads, and not
  // the bits of the uncut product (HEARTH_GEMM_SPLIT_K=0), so the cut path is the one tested.
  test("deep products cut along k: right, the same bits on any number of threads", () => {
    const M = 24;
    const N = 40;
    const K = 9001;
    const a = Float32Array.from({ length: M * K }, () => rand() - 0.5);
    const b = Float32Array.from({ length: K * N }, () => rand() - 0.5);
    const run = (threads: number) => productOnThreads(threads, a, b, M, N, K);
    try {
      for (const family of families) {
        assert.ok(addon.selectGemmKernel(family));
        for (const threads of [1, 2]) {
          addon.setNumThreads(threads);
          runCase({ M, N, K });
          runCase({ M: 17, N: 33, K: 8200, ta: true, tb: true, pad: 3, alpha: 0.5, beta: 2 });
          runCase({ M: 30, N: 20, K: 8192, tb: true, pad: 1, beta: 1 });
        }
      }
      addon.selectGemmKernel("");
      const one = run(1);
      for (const t of [2, 3]) assert.deepEqual(run(t), one);
      process.env.HEARTH_GEMM_SPLIT_K = "0";
      const uncut = run(2);
      assert.ok(
        one.some((v, i) => !Object.is(v, uncut[i])),
        "the k-split product should sum in another order than the uncut one",
      );
    } finally {
      delete process.env.HEARTH_GEMM_SPLIT_K;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // A product cut into one task per thread for 2 threads is cut unevenly, the calling thread's
  // share following the two threads' speeds (gemm.cpp run_pair); HEARTH_GEMM_BALANCE pins the
  // share. Every cut, by columns and by rows, gives the 1-thread product's bits and the float64
  // reference's values.
  test("2-thread products cut unevenly: the same bits at every share", () => {
    const cases: Array<[number, number, number, boolean, boolean]> = [
      [200, 300, 150, false, false], // columns cut
      [200, 300, 150, true, true],
      [300, 70, 200, false, true], // rows cut
    ];
    try {
      for (const family of families) {
        assert.ok(addon.selectGemmKernel(family));
        for (const [M, N, K, ta, tb] of cases) {
          const A = layout(1, M, K, ta, 1, false);
          const B = layout(1, K, N, tb, 1, false);
          const a = Float32Array.from(A.values);
          const b = Float32Array.from(B.values);
          const run = (threads: number) => {
            addon.setNumThreads(threads);
            const c = new Float32Array(M * N);
            addon.gemm("float32", M, N, K, 1, a, A.offset, A.strides, b, B.offset, B.strides, c, 0, [0, N, 1], 1, 0);
            return c;
          };
          const one = run(1);
          for (const share of ["0.2", "0.35", "0.5", "0.65", "0.8", "0", ""]) {
            process.env.HEARTH_GEMM_BALANCE = share;
            const c = run(2);
            for (let i = 0; i < c.length; i++)
              if (!Object.is(c[i], one[i]))
                assert.fail(`${family} ${M}x${N}x${K} share ${share}: C[${i}] ${c[i]} vs ${one[i]} on 1 thread`);
          }
          process.env.HEARTH_GEMM_BALANCE = "0.3";
          addon.setNumThreads(2);
          runCase({ M, N, K, ta, tb, beta: 0.5, pad: 2 });
        }
      }
    } finally {
      delete process.env.HEARTH_GEMM_BALANCE;
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  // One of M, N, K small (adapter ranks, short inputs): N <= NR/2 with more rows runs as
  // Cᵀ = Bᵀ·Aᵀ (C then written through its strides), K of a few elements, a few rows over many
  // columns; every family, transposed and padded operands, strided C, batches, 1 and 2 threads.
  test("skinny products: one of M, N, K small", () => {
    try {
      for (const family of families) {
        assert.ok(addon.selectGemmKernel(family));
        for (const threads of [1, 2]) {
          addon.setNumThreads(threads);
          runCase({ M: 100, N: 16, K: 70 });
          runCase({ M: 130, N: 9, K: 400, ta: true, tb: true, pad: 1, alpha: 0.5, beta: 1 });
          runCase({ M: 45, N: 12, K: 33, tb: true, cColStride: 3, beta: -1 });
          runCase({ M: 60, N: 13, K: 20, batch: 2, ta: true, pad: 2 });
          runCase({ M: 40, N: 16, K: 50, dtype: "bfloat16", tb: true });
          runCase({ M: 90, N: 200, K: 8, tb: true });
          runCase({ M: 64, N: 300, K: 3, beta: 0.5 });
          runCase({ M: 12, N: 500, K: 64, ta: true });
          runCase({ M: 16, N: 40, K: 900, tb: true, pad: 1 });
        }
      }
    } finally {
      addon.selectGemmKernel("");
      addon.setNumThreads(0);
    }
  });

  test("a broadcast batch (stride 0) reuses one matrix", () => {
    const K = 8;
    const N = 5;
    const a = Float32Array.from({ length: 3 * 2 * K }, () => rand());
    const b = Float32Array.from({ length: K * N }, () => rand());
    const c = new Float32Array(3 * 2 * N);
    addon.gemm("float32", 2, N, K, 3, a, 0, [2 * K, K, 1], b, 0, [0, N, 1], c, 0, [2 * N, N, 1], 1, 0);
    for (let bt = 0; bt < 3; bt++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += (a[bt * 2 * K + K + k] ?? 0) * (b[k * N + j] ?? 0);
        assert.ok(Math.abs((c[bt * 2 * N + N + j] ?? 0) - s) < 1e-5);
      }
  });

  test("aFloat32: a float32 A is rounded to the 16-bit dtype inside the call, bit for bit as converting it first", () => {
    // rows 1 and 3 take the matrix-vector kernels, 37 the GEMM; a broadcast batch, a strided A
    for (const dtype of ["bfloat16", "float16"] as const) {
      for (const [M, batch, aBatch, transposed] of [
        [1, 1, 0, false],
        [3, 2, 0, false],
        [1, 3, 1, true],
        [37, 2, 1, false],
        [37, 1, 0, true],
      ] as const) {
        const K = 29;
        const N = 41;
        const a = Float32Array.from({ length: 2 * batch * M * K + 7 }, () => rand() * 8 - 4);
        const bs = aBatch ? 2 * M * K : 0; // padded batch items
        const aStrides: GemmStrides = transposed ? [bs, 1, M] : [bs, K, 1];
        const b = makeBuffer(
          Float64Array.from({ length: K * N }, () => rand() * 2 - 1),
          dtype,
        );
        const got = new Float32Array(batch * M * N);
        const cStrides: GemmStrides = [M * N, N, 1];
        addon.gemm(dtype, M, N, K, batch, a, 3, aStrides, b, 0, [0, N, 1], got, 0, cStrides, 1, 0, null, null, true);
        const rounded = new Uint16Array(a.length);
        addon.convert(a, "float32", rounded, dtype, a.length);
        const want = new Float32Array(batch * M * N);
        addon.gemm(dtype, M, N, K, batch, rounded, 3, aStrides, b, 0, [0, N, 1], want, 0, cStrides, 1, 0);
        assert.deepEqual(got, want, `${dtype} M ${M} batch ${batch}${transposed ? " transposed" : ""}`);
      }
    }
    // the float32 A's extent is checked in floats
    const c = new Float32Array(2);
    const b = new Uint16Array(6);
    const call = (a: Float32Array) => () =>
      addon.gemm("bfloat16", 1, 2, 3, 1, a, 0, [0, 3, 1], b, 0, [0, 2, 1], c, 0, [0, 2, 1], 1, 0, null, null, true);
    assert.doesNotThrow(call(new Float32Array(3)));
    assert.throws(call(new Float32Array(2)), /gemm: operand 'a' reaches element 2 but its buffer holds 2/);
  });

  test("K = 0 scales C by beta; empty products leave C alone", () => {
    const c = Float32Array.from([1, 2, 3, 4]);
    addon.gemm(
      "float32",
      2,
      2,
      0,
      1,
      new Float32Array(0),
      0,
      [0, 0, 1],
      new Float32Array(0),
      0,
      [0, 2, 1],
      c,
      0,
      [0, 2, 1],
      1,
      2,
    );
    assert.deepEqual([...c], [2, 4, 6, 8]);
    addon.gemm(
      "float32",
      0,
      2,
      3,
      1,
      new Float32Array(0),
      0,
      [0, 3, 1],
      new Float32Array(6),
      0,
      [0, 2, 1],
      c,
      0,
      [0, 2, 1],
      1,
      0,
    );
    assert.deepEqual([...c], [2, 4, 6, 8]);
  });

  test("results do not depend on the number of threads", () => {
    const M = 200;
    const N = 300;
    const K = 150;
    const a = Float32Array.from({ length: M * K }, () => rand() - 0.5);
    const b = Float32Array.from({ length: K * N }, () => rand() - 0.5);
    const run = (threads: number) => productOnThreads(threads, a, b, M, N, K);
    const one = run(1);
    for (const t of [2, 3]) {
      const c = run(t);
      assert.equal(addon.numThreads(), t);
      assert.deepEqual(c, one);
    }
    addon.setNumThreads(0);
    runCase({ M: 300, N: 260, K: 120 });
    runCase({ M: 1, N: 50257, K: 8, tb: true });
  });

  test("reports the kernel family chosen from the CPU's features", () => {
    assert.ok(addon.selectGemmKernel(""));
    const f = addon.cpuFeatures();
    const expected = f.avx512f && f.avx512bw && f.avx512vl && f.fma ? "avx512" : f.avx2 && f.fma ? "avx2" : "generic";
    // float32 on AMX tiles by bf16x3 splitting only where asked for (HEARTH_FLOAT32_MATMUL=bf16x3)
    // and the CPU has them; float16 inputs always widen on the FMA kernel.
    const bf16x3 = expected === "avx512" && f.avx512bf16 && f.amxBf16 && process.env.HEARTH_FLOAT32_MATMUL === "bf16x3";
    assert.equal(addon.gemmKernel("float32"), bf16x3 ? "amx-bf16x3" : expected);
    assert.equal(addon.gemmKernel("float16"), expected);
    // With AVX512-BF16 or AMX the fastest of them and widening to float32 is kept (timed once).
    const bf16 = addon.gemmKernel("bfloat16");
    if (expected === "avx512" && (f.avx512bf16 || f.amxBf16)) {
      assert.ok(["avx512", "avx512-bf16", "amx-bf16"].includes(bf16), bf16);
    } else assert.equal(bf16, expected);
    assert.equal(addon.selectGemmKernel("no-such-kernel"), false);
  });

  test("bad arguments throw errors that name the argument, never crash", () => {
    const a = new Float32Array(6);
    const b = new Float32Array(6);
    const c = new Float32Array(4);
    const call = (over: Partial<Record<string, unknown>>) => () =>
      (addon.gemm as unknown as (...args: unknown[]) => void)(
        over.dtype ?? "float32",
        over.M ?? 2,
        2,
        3,
        1,
        over.a ?? a,
        over.aOffset ?? 0,
        over.aStrides ?? [0, 3, 1],
        b,
        0,
        [0, 2, 1],
        over.c ?? c,
        0,
        [0, 2, 1],
        1,
        0,
      );
    assert.doesNotThrow(call({}));
    assert.throws(call({ dtype: "int8" }), /gemm: argument 'dtype'/);
    assert.throws(call({ M: -1 }), /gemm: argument 'M'/);
    assert.throws(call({ M: 2.5 }), /gemm: argument 'M'/);
    assert.throws(call({ aOffset: 1 }), /gemm: operand 'a' reaches element 6 but its buffer holds 6/);
    assert.throws(call({ aStrides: [0, 3] }), /gemm: argument 'aStrides' must have 3 entries/);
    assert.throws(call({ aStrides: [0, -3, 1] }), /gemm: argument 'aStrides' entry 1/);
    assert.throws(call({ a: [1, 2, 3] }), /gemm: argument 'a' must be an ArrayBuffer or a typed array/);
    assert.throws(call({ a: new Uint16Array(6) }), /gemm: argument 'a' is a typed array of 2-byte elements/);
    assert.throws(call({ c: new Float32Array(3) }), /gemm: operand 'c' reaches element 3/);
    assert.throws(() => (addon.gemm as unknown as (...args: unknown[]) => void)("float32", 1), /gemm: expected 16/);
    assert.throws(call({ M: -1 }), { code: "HEARTH_TENSOR_ARGUMENT" });
    assert.throws(call({ aOffset: 1 }), { code: "HEARTH_TENSOR_BUFFER" });
  });
});

/** C = A·B for row-major float32 A [M, K] and B [K, N] on `threads` threads (the selected family). */
function productOnThreads(
  threads: number,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
): Float32Array {
  addon.setNumThreads(threads);
  const c = new Float32Array(M * N);
  addon.gemm("float32", M, N, K, 1, a, 0, [0, K, 1], b, 0, [0, N, 1], c, 0, [0, N, 1], 1, 0);
  return c;
}

/** C = A·B for row-major float32 A [M, K] and B [K, N] on the given kernel family. */
function product(family: string, a: Float32Array, b: Float32Array, M: number, N: number, K: number): Float32Array {
  assert.ok(addon.selectGemmKernel(family));
  const c = new Float32Array(M * N);
  addon.gemm("float32", M, N, K, 1, a, 0, [0, K, 1], b, 0, [0, N, 1], c, 0, [0, N, 1], 1, 0);
  addon.selectGemmKernel("");
  return c;
}

describe("float32 products on AMX by bf16x3 splitting", {
  skip: !addon.selectGemmKernel("amx-bf16x3") && "no AMX-BF16 on this CPU",
}, () => {
  after(() => addon.selectGemmKernel(""));

  test("as accurate as the FMA kernel against a float64 product, values over many binades", () => {
    const [M, N, K] = [40, 72, 1500];
    // significands from the whole float32 range and exponents over ±20 binades
    const draw = () => Math.fround((rand() * 2 - 1) * 2 ** Math.floor(rand() * 41 - 20));
    const a = Float32Array.from({ length: M * K }, draw);
    const b = Float32Array.from({ length: K * N }, draw);
    const errors = (c: Float32Array) => {
      let sq = 0;
      let worst = 0;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let want = 0;
          let mag = 0;
          for (let k = 0; k < K; k++) {
            const p = (a[i * K + k] as number) * (b[k * N + j] as number);
            want += p;
            mag += Math.abs(p);
          }
          const rel = Math.abs((c[i * N + j] as number) - want) / mag;
          sq += rel * rel;
          worst = Math.max(worst, rel);
        }
      return { rms: Math.sqrt(sq / (M * N)), worst };
    };
    const fma = errors(product("avx512", a, b, M, N, K));
    const split = errors(product("amx-bf16x3", a, b, M, N, K));
    // both at float32's rounding level (2^-24 ≈ 6e-8 per operation) relative to Σ|a·b|
    assert.ok(split.worst < 2e-6, `bf16x3 worst relative error ${split.worst}`);
    assert.ok(split.rms < 2.5 * fma.rms, `bf16x3 rms ${split.rms} vs FMA ${fma.rms}`);
  });

  test("products near the float32 range's ends: no overflow in the split, non-finite stays non-finite", () => {
    const [M, N, K] = [33, 34, 40];
    const a = Float32Array.from({ length: M * K }, () => rand() * 2 - 1);
    const b = Float32Array.from({ length: K * N }, () => rand() * 2 - 1);
    a[0] = 3.4e38; // rounds to Inf in bfloat16: the split must keep it finite
    b.fill(0, 0, N); // row 0 of B zero except one entry, so C[0, 1] = a[0]·0.25 exactly
    b[1] = 0.25;
    a[K] = Number.POSITIVE_INFINITY; // row 1 of C: non-finite (float32 gives ±Inf, bf16x3 ±Inf or NaN)
    a[2 * K + 3] = Number.NaN;
    const c = product("amx-bf16x3", a, b, M, N, K);
    const ref = product("avx512", a, b, M, N, K);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const [got, want] = [c[i * N + j] as number, ref[i * N + j] as number];
        if (Number.isFinite(want))
          assert.ok(Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-5, `C[${i},${j}] ${got} vs ${want}`);
        else assert.ok(!Number.isFinite(got), `C[${i},${j}] ${got} must be non-finite like ${want}`);
      }
    assert.ok(Math.abs((c[1] as number) - 3.4e38 * 0.25) <= 1e-6 * 3.4e38);
  });
});

describe("HEARTH_GEMM_STATS", () => {
  // Its own process: the switch is read once at load. Level 2 runs every product that overwrites
  // C a second time; C must come out as without the statistics (the same family, so the same bits).
  test("prints per-shape statistics at exit and leaves every product's C as it was", () => {
    const addonPath = fileURLToPath(new URL("../../build/Release/hearth_native.node", import.meta.url));
    const script = `const n = require(${JSON.stringify(addonPath)});
const S = 512, f = (len, s) => Float32Array.from({ length: len }, (_, i) => ((i * s) % 17) / 16 - 0.5);
const a = f(S * S, 7), b = f(S * S, 5), bias = f(S, 3), add = f(S * S, 11), st = [0, S, 1];
const fused = new Float32Array(S * S), acc = f(S * S, 13);
for (let r = 0; r < 4; r++) n.gemm("float32", S, S, S, 1, a, 0, st, b, 0, st, fused, 0, st, 1, 0, null, bias, false, add, 0, st, "gelu");
n.gemm("float32", S, S, S, 1, a, 0, st, b, 0, st, acc, 0, st, 0.5, 2);
const bits = (x) => Array.from(new Uint32Array(x.buffer)); // JSON would turn -0 into 0
console.log(JSON.stringify([bits(fused), bits(acc)]));`;
    const r = spawnSync(process.execPath, ["-e", script], {
      env: { ...process.env, HEARTH_GEMM_STATS: "2" },
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /GEMM statistics \(HEARTH_GEMM_STATS\)/);
    assert.match(r.stderr, /^512x512x512 +5 /m); // 4 fused products and the accumulating one
    assert.match(r.stderr, /^512x512x512 2nd +4 /m); // beta 2 accumulates into C: not run again
    const [fused, acc] = JSON.parse(r.stdout) as [number[], number[]];
    const S = 512;
    const f = (len: number, s: number) => Float32Array.from({ length: len }, (_, i) => ((i * s) % 17) / 16 - 0.5);
    const [a, b, bias, add, st] = [f(S * S, 7), f(S * S, 5), f(S, 3), f(S * S, 11), [0, S, 1] as GemmStrides];
    addon.selectGemmKernel(""); // the child's automatic family
    const want = new Float32Array(S * S);
    addon.gemm("float32", S, S, S, 1, a, 0, st, b, 0, st, want, 0, st, 1, 0, null, bias, false, add, 0, st, "gelu");
    const wantAcc = f(S * S, 13);
    addon.gemm("float32", S, S, S, 1, a, 0, st, b, 0, st, wantAcc, 0, st, 0.5, 2);
    assert.deepEqual(Uint32Array.from(fused), new Uint32Array(want.buffer));
    assert.deepEqual(Uint32Array.from(acc), new Uint32Array(wantAcc.buffer));
  });
});
