// The few-row products (decoding: up to 8 rows against a weight matrix) that the GEMM hands to
// the gemv kernels, against a float64 reference: every row count 1..8, both matrix layouts
// (rows along k: dot form; along n: axpy form, where threads split k), the small side on
// either operand, odd sizes with vector tails, strided rows, batches, alpha/beta, float32 and
// 16-bit weights, 1 and 2 threads, every kernel family this CPU has. Then bfloat16 weights with
// full mantissas (and float32 x rounded by the product itself) against float64 sums of the same
// products, guided splits on 2 threads included. And float32 weights packed for the GEMM, which
// products of a few rows read in their panel form.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type NativeGemmDType, native } from "./index.ts";

if (!native) throw new Error("gemv.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
after(() => {
  addon.selectGemmKernel("");
  addon.setNumThreads(0);
});

let seed = 99;
// Values k/32 with |k| <= 32: exact in float32, bfloat16 and float16, so 16-bit inputs are exact.
function value(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (Math.floor((seed / 2 ** 32) * 65) - 32) / 32;
}

function store(values: Float64Array, dtype: NativeGemmDType): Float32Array | Uint16Array {
  const f = Float32Array.from(values);
  if (dtype === "float32") return f;
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) {
    const bits = u[i] ?? 0;
    if (dtype === "bfloat16") out[i] = bits >>> 16;
    else if ((bits & 0x7fffffff) === 0) out[i] = (bits >>> 16) & 0x8000;
    else out[i] = ((bits >>> 16) & 0x8000) | ((((bits >>> 23) & 0xff) - 112) << 10) | ((bits >>> 13) & 0x3ff);
  }
  return out;
}

interface Case {
  rows: number; // the small side
  n: number;
  K: number;
  /** The weight's rows run along k (a Linear weight, dot form) instead of along n (Conv1D, axpy form). */
  rowsAlongK: boolean;
  /** The small side is B's columns (out = Wᵀ-side · x) instead of A's rows. */
  smallIsB?: boolean;
  batch?: number;
  dtype?: NativeGemmDType;
  pad?: number;
  beta?: number;
  /** Hand the GEMM's packing of W along (float32, one item, x as A): the panel form reads it. */
  packed?: boolean;
}

function run(c: Case): void {
  const { rows, n, K } = c;
  const batch = c.batch ?? 1;
  const dtype = c.dtype ?? "float32";
  const pad = c.pad ?? 0;
  const beta = c.beta ?? 0;
  const alpha = beta === 0 ? 1 : 0.5;
  // x: rows × K with row stride K + pad; W(k, j) laid out with rows along k or along n.
  const xs = [batch * rows * (K + pad) + pad, rows * (K + pad), K + pad] as const;
  const wld = (c.rowsAlongK ? K : n) + pad;
  const wbs = (c.rowsAlongK ? n : K) * wld;
  const x = Float64Array.from({ length: batch * xs[1] + 1 }, value);
  const w = Float64Array.from({ length: batch * wbs + 1 }, value);
  const xAt = (b: number, r: number, k: number) => x[b * xs[1] + r * xs[2] + k] ?? Number.NaN;
  const wAt = (b: number, k: number, j: number) =>
    w[b * wbs + (c.rowsAlongK ? j * wld + k : k * wld + j)] ?? Number.NaN;
  // Element strides [batch, row, col] of W as the K×n operand, and of x as rows×K or K×rows.
  const wStrides: [number, number, number] = c.rowsAlongK ? [wbs, 1, wld] : [wbs, wld, 1];
  const xRows: [number, number, number] = [xs[1], xs[2], 1];
  const outLd = (c.smallIsB ? rows : n) + 1;
  const outBs = (c.smallIsB ? n : rows) * outLd;
  const init = Float32Array.from({ length: batch * outBs }, () => (beta === 0 ? Number.NaN : value()));
  const out = init.slice();
  let packed: ArrayBuffer | undefined;
  if (c.packed) {
    packed = addon.allocate(addon.gemmPackedBytes(dtype, K, n), false);
    addon.gemmPackB(dtype, K, n, store(w, dtype), 0, [wStrides[1], wStrides[2]], packed);
  }
  if (!c.smallIsB) {
    // out[r, j] = x[r, :] · W[:, j]
    addon.gemm(
      dtype,
      rows,
      n,
      K,
      batch,
      store(x, dtype),
      0,
      xRows,
      store(w, dtype),
      0,
      wStrides,
      out,
      0,
      [outBs, outLd, 1],
      alpha,
      beta,
      packed,
    );
  } else {
    // out[j, r] = Wᵀ[j, :] · xᵀ[:, r]: the weight is A (n × K), x is B (K × rows)
    const aStrides: [number, number, number] = [wStrides[0], wStrides[2], wStrides[1]];
    const bStrides: [number, number, number] = [xRows[0], xRows[2], xRows[1]];
    addon.gemm(
      dtype,
      n,
      rows,
      K,
      batch,
      store(w, dtype),
      0,
      aStrides,
      store(x, dtype),
      0,
      bStrides,
      out,
      0,
      [outBs, outLd, 1],
      alpha,
      beta,
    );
  }
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let mag = 0;
        for (let k = 0; k < K; k++) {
          const p = xAt(b, r, k) * wAt(b, k, j);
          sum += p;
          mag += Math.abs(p);
        }
        const idx = b * outBs + (c.smallIsB ? j * outLd + r : r * outLd + j);
        const old = beta === 0 ? 0 : (init[idx] ?? 0);
        const want = alpha * sum + beta * old;
        const got = out[idx] ?? Number.NaN;
        if (!(Math.abs(got - want) <= 2e-6 * (mag + Math.abs(old)) + 1e-6)) {
          assert.fail(`${JSON.stringify(c)}: out[${b}, ${r}, ${j}] = ${got}, want ${want}`);
        }
      }
  // The padding column of every output row is never written.
  for (let i = outLd - 1; i < out.length; i += outLd) assert.ok(Object.is(out[i], init[i]), `out[${i}] was written`);
  if (packed) addon.free(packed);
}

const families = ["generic", "avx2", "avx512", "avx512-bf16"].filter((f) => addon.selectGemmKernel(f));
addon.selectGemmKernel("");

describe("native gemv (few-row products)", () => {
  for (const family of families) {
    test(`${family}: rows 1..8, both layouts, odd sizes and tails`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (let rows = 1; rows <= 8; rows++)
        for (const rowsAlongK of [true, false]) {
          run({ rows, n: 37, K: 45, rowsAlongK, pad: 1 });
          run({ rows, n: 5, K: 3, rowsAlongK, smallIsB: true });
        }
    });

    test(`${family}: 16-bit weights, batches, alpha and beta`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const dtype of ["float32", "bfloat16", "float16"] as const)
        for (const rowsAlongK of [true, false])
          for (const rows of [1, 3, 8]) {
            run({ rows, n: 70, K: 130, rowsAlongK, dtype, pad: 2, beta: 1 });
            run({ rows, n: 33, K: 19, rowsAlongK, dtype, batch: 3, smallIsB: rows === 3 });
          }
    });

    test(`${family}: every row count and weight dtype on blocks with ragged edges, 1 and 2 threads`, () => {
      assert.ok(addon.selectGemmKernel(family));
      // n 525: two full 256-column passes of the axpy form's row groups and a tail pass of 13 (a
      // vector and 5 scalar columns), and a dot form whose 4- and 2-row blocks of W leave 1; K 91
      // and 94: dot steps of 16, an 8-wide one and 3 or 6 scalar k; axpy rows of W by 4 or 3 with
      // 1 to 3 left. 525 × 94 float32 is about 200 KB: one thread; n 2101 goes to the pool.
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (const dtype of ["float32", "bfloat16", "float16"] as const)
          for (const rowsAlongK of [true, false])
            for (let rows = 1; rows <= 8; rows++) {
              run({ rows, n: 525, K: rows % 2 === 0 ? 91 : 94, rowsAlongK, dtype, pad: rows % 3 });
              if (rows === 7) run({ rows, n: 2101, K: 91, rowsAlongK, dtype, pad: 1, beta: 1 });
            }
      }
      addon.setNumThreads(0);
    });
  }

  test("float32 dot form from 5 rows (the avx2 lane-wise kernel): every remainder of its 12-row blocks, K at and past its limit", () => {
    // 12 rows of W a block, 3 from each of 4 parts of the task's rows, then blocks of 4 and single
    // rows: n from 1 to 29 leaves every remainder; K 768 is the deepest it takes, 769 the dot form.
    for (const family of families) {
      assert.ok(addon.selectGemmKernel(family));
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (let rows = 5; rows <= 8; rows++) {
          for (let n = 1; n <= 29; n++) run({ rows, n, K: n % 5, rowsAlongK: true, pad: n % 3 });
          for (const K of [767, 768, 769]) run({ rows, n: 53, K, rowsAlongK: true, pad: 1, beta: rows === 6 ? 1 : 0 });
          run({ rows, n: 1000, K: 300, rowsAlongK: true, batch: 2 });
        }
      }
    }
    addon.setNumThreads(0);
    addon.selectGemmKernel("");
  });

  test("dot form: every remainder of the blocks of rows of W taken from 4 or 3 runs of the task's rows", () => {
    // A block takes rows j, j + n/JR, … (JR = 4 up to 4 rows of x, 3 above), then the rows past
    // JR·(n/JR) go one at a time: n from 1 to 13 leaves every remainder of both, in float32 and
    // in bfloat16 (the widening and the vdpbf16ps kernels); n 1234 on 2 threads cuts guided
    // chunks, each split into runs of its own.
    for (const family of families) {
      assert.ok(addon.selectGemmKernel(family));
      for (const dtype of ["float32", "bfloat16"] as const)
        for (let rows = 1; rows <= 8; rows++) {
          for (let n = 1; n <= 13; n++) run({ rows, n, K: 40 + n, rowsAlongK: true, dtype, pad: n % 2 });
          addon.setNumThreads(2);
          run({ rows, n: 1234, K: 200, rowsAlongK: true, dtype, pad: 1 });
          addon.setNumThreads(0);
        }
    }
    addon.selectGemmKernel("");
  });

  test("float32 weights packed for the GEMM, from gemvPackedRows() rows up: the panel form, its k slices and panel tails, 1 and 2 threads", () => {
    // K 800 is several k slices on every family (272, 272 and 256 where slices are at most 384
    // deep; 400 and 400 at most 768, avx512 under a 1 MB L2); n 45 and 530 end in a part-filled panel; n 2101 on 2 threads takes guided runs of panels. alpha 0.5
    // (beta 1) sums into a tile first, alpha 1 straight into out.
    let tried = 0;
    for (const family of families) {
      assert.ok(addon.selectGemmKernel(family));
      const from = addon.gemvPackedRows();
      if (from === 0) continue;
      assert.ok(from >= 2 && from <= 8, `${family}: gemvPackedRows() ${from}`);
      tried++;
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (let rows = from; rows <= 8; rows++)
          for (const rowsAlongK of [true, false]) {
            run({ rows, n: 45, K: 37, rowsAlongK, packed: true });
            run({ rows, n: 530, K: 800, rowsAlongK, pad: rows % 3, beta: rows === 6 ? 1 : 0, packed: true });
            if (rows === 8) run({ rows, n: 2101, K: 97, rowsAlongK, pad: 1, beta: 1, packed: true });
          }
      }
    }
    assert.ok(tried > 0, "the generic family has the panel form");
    addon.setNumThreads(0);
    addon.selectGemmKernel("");
  });

  test("from gemvPackedRows() rows the packing is what is read, below it the weight", () => {
    // A packing of W handed with a B of zeros (which a caller never does): the rows that take the
    // panel form get x·W, the others x·0.
    const K = 50;
    const n = 40;
    const w = store(Float64Array.from({ length: K * n }, value), "float32");
    const zeros = new Float32Array(K * n);
    for (const family of families) {
      assert.ok(addon.selectGemmKernel(family));
      const from = addon.gemvPackedRows();
      if (from === 0) continue;
      const packed = addon.allocate(addon.gemmPackedBytes("float32", K, n), false);
      addon.gemmPackB("float32", K, n, w, 0, [n, 1], packed);
      for (let rows = 1; rows <= 8; rows++) {
        const x = store(Float64Array.from({ length: rows * K }, value), "float32");
        const want = new Float32Array(rows * n);
        const got = new Float32Array(rows * n);
        addon.gemm("float32", rows, n, K, 1, x, 0, [0, K, 1], w, 0, [0, n, 1], want, 0, [0, n, 1], 1, 0);
        addon.gemm("float32", rows, n, K, 1, x, 0, [0, K, 1], zeros, 0, [0, n, 1], got, 0, [0, n, 1], 1, 0, packed);
        if (rows >= from) {
          for (let i = 0; i < want.length; i++)
            assert.ok(Math.abs((got[i] as number) - (want[i] as number)) <= 1e-5, `${family} rows ${rows}: [${i}]`);
        } else {
          assert.ok(
            got.every((v) => v === 0),
            `${family} rows ${rows} read the packing`,
          );
        }
      }
      addon.free(packed);
    }
    addon.selectGemmKernel("");
  });

  test("a weight whose rows are one row repeated (row stride 0) in the dot form", () => {
    // W(k, j) = w[k] for every j: the dot form's blocks of W all start at the same element.
    const K = 45;
    const n = 70;
    for (const family of families) {
      assert.ok(addon.selectGemmKernel(family));
      for (const dtype of ["float32", "bfloat16"] as const)
        for (let rows = 1; rows <= 8; rows++) {
          const x = Float64Array.from({ length: rows * K }, value);
          const w = Float64Array.from({ length: K }, value);
          const out = new Float32Array(rows * n);
          addon.gemm(
            dtype,
            rows,
            n,
            K,
            1,
            store(x, dtype),
            0,
            [0, K, 1],
            store(w, dtype),
            0,
            [0, 1, 0],
            out,
            0,
            [0, n, 1],
            1,
            0,
          );
          for (let r = 0; r < rows; r++) {
            let want = 0;
            for (let k = 0; k < K; k++) want += (x[r * K + k] as number) * (w[k] as number);
            for (let j = 0; j < n; j++)
              assert.equal(out[r * n + j], Math.fround(want), `${family} ${dtype} rows ${rows}`);
          }
        }
    }
    addon.selectGemmKernel("");
  });

  test("matrices big enough for the thread pool give the same results on 1 and 2 threads", () => {
    for (const threads of [1, 2]) {
      addon.setNumThreads(threads);
      for (const dtype of ["float32", "bfloat16"] as const)
        for (const rowsAlongK of [true, false])
          for (const rows of [1, 2, 5, 8]) {
            // 300 × 700 float32 is 840 KB: threads split k (axpy form) or the outputs (dot form);
            // n 2100 puts several column chunks in the axpy form.
            run({ rows, n: 700, K: 301, rowsAlongK, dtype, pad: 1 });
            if (rows === 5) run({ rows, n: 2100, K: 97, rowsAlongK, dtype, beta: 1 });
          }
      run({ rows: 2, n: 40, K: 1900, rowsAlongK: false, smallIsB: true, pad: 3 });
    }
    addon.setNumThreads(0);
  });
});

/** float32 values rounded to bfloat16 (nearest even), as bits. */
function bf16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  return Uint16Array.from(u, (b) => (b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
}

function widen(bits: Uint16Array): Float32Array {
  return new Float32Array(Uint32Array.from(bits, (b) => b << 16).buffer);
}

/**
 * out = x·W with bfloat16 W (random full-mantissa values) and x rows of `rows`×K, on the selected
 * family and thread count, against float64 sums of the products of x and the widened W (x
 * rounded to bfloat16 first when `roundA` hands the kernel float32 x): every product is exact,
 * so the kernels differ from it only by float32 rounding of the sums, |got − want| ≤ 1e-5·Σ|x·w|.
 * The reference is computed here, not by another native path that could share a bug.
 */
interface Bf16Case {
  xf: Float32Array;
  xb: Uint16Array;
  w: Uint16Array;
  want: Float64Array;
  mag: Float64Array;
}
const bf16Cases = new Map<string, Bf16Case>();

function bf16Case(rows: number, n: number, K: number): Bf16Case {
  const key = `${rows} ${n} ${K}`;
  const known = bf16Cases.get(key);
  if (known) return known;
  const xf = Float32Array.from({ length: rows * K }, () => value() * 1.37 + 0.011);
  const w = bf16Bits(Float32Array.from({ length: n * K }, () => value() * 0.731 - 0.003));
  const xb = bf16Bits(xf);
  const x32 = widen(xb);
  const w32 = widen(w);
  const want = new Float64Array(rows * n);
  const mag = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < K; k++) {
      const xv = x32[r * K + k] as number;
      for (let j = 0; j < n; j++) {
        const p = xv * (w32[k * n + j] as number); // W stored [K, n] here; the dot form reads its transpose
        want[r * n + j] = (want[r * n + j] as number) + p;
        mag[r * n + j] = (mag[r * n + j] as number) + Math.abs(p);
      }
    }
  const c = { xf, xb, w, want, mag };
  bf16Cases.set(key, c);
  return c;
}

function checkBf16(family: string, rows: number, n: number, K: number, rowsAlongK: boolean, roundA: boolean): void {
  const { xf, xb, w, want, mag } = bf16Case(rows, n, K);
  // W(k, j) at k·n + j; the dot form gets the same matrix stored transposed (rows along k)
  let wm = w;
  if (rowsAlongK) {
    wm = new Uint16Array(n * K);
    for (let k = 0; k < K; k++) for (let j = 0; j < n; j++) wm[j * K + k] = w[k * n + j] as number;
  }
  const out = new Float32Array(rows * n).fill(Number.NaN);
  const x = roundA ? xf : xb;
  const wStrides: [number, number, number] = rowsAlongK ? [0, 1, K] : [0, n, 1];
  addon.gemm(
    "bfloat16",
    rows,
    n,
    K,
    1,
    x,
    0,
    [0, K, 1],
    wm,
    0,
    wStrides,
    out,
    0,
    [0, n, 1],
    1,
    0,
    undefined,
    undefined,
    roundA,
  );
  for (let i = 0; i < out.length; i++) {
    const g = out[i] as number;
    const e = want[i] as number;
    if (!(Math.abs(g - e) <= 1e-5 * (mag[i] as number) + 1e-30)) {
      assert.fail(
        `${family}, ${addon.numThreads()} threads, rows ${rows}, n ${n}, K ${K}, ${rowsAlongK ? "dot" : "axpy"} form${roundA ? ", roundA" : ""}: out[${Math.floor(i / n)}, ${i % n}] = ${g}, want ${e}`,
      );
    }
  }
}

describe("native gemv, bfloat16 weights against float64 sums of the widened weights' products", () => {
  for (const family of families) {
    test(`${family}: rows 1..8, K and n with vector tails, 1 and 2 threads (guided splits)`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        for (const rowsAlongK of [true, false]) {
          for (let rows = 1; rows <= 8; rows++)
            for (const K of [1, 31, 33, 64]) checkBf16(family, rows, 17, K, rowsAlongK, K === 33);
          // 1500 × 769 bf16 is 2.3 MB: split among the threads, K not a multiple of 4 or 32
          for (const rows of [1, 3]) checkBf16(family, rows, 1500, 769, rowsAlongK, rows === 3);
          checkBf16(family, 1, 4099, 65, rowsAlongK, true);
        }
      }
      addon.setNumThreads(0);
    });
  }
  after(() => addon.selectGemmKernel(""));
});
