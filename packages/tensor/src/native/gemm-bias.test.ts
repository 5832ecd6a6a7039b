// The GEMM's bias argument (C = alpha·A·B + bias + beta·C, the bias written by the threads that
// compute each block) against filling C with bias + beta·C first and multiplying with beta 1,
// and its addend argument against a separate add after the product: bit for bit, on every path
// a product can take (blocked GEMM, pre-packed B, matrix-vector, transposed thin product, K = 0,
// batches, strided C); and its activation argument against the activation kernel after the product.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type GemmStrides, native } from "./index.ts";

const addon = native;
after(() => {
  addon?.selectGemmKernel("");
  addon?.setNumThreads(0);
});

/**
 * Runs `body` under each `[family, threads]` this CPU runs ("": the default choice; a family it
 * lacks is skipped), then selects the default family again.
 */
function onFamilies(families: readonly (readonly [string, number])[], body: () => void): void {
  const n = addon as NonNullable<typeof addon>;
  for (const [kernel, threads] of families) {
    if (!n.selectGemmKernel(kernel)) continue;
    n.setNumThreads(threads);
    body();
  }
  n.selectGemmKernel("");
}

// The families the addend and activation tests walk: the bias test's, plus float32 on AMX.
const epilogueFamilies = [
  ["", 1],
  ["", 2],
  ["amx-bf16x3", 2],
  ["avx2", 2],
  ["avx512", 1],
  ["generic", 1],
] as const;

let seed = 7;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}
const randoms = (n: number) => Float32Array.from({ length: n }, rand);

/** A 2×8 product (K 2) with the given bias and addend, for the argument checks. */
function tiny(native: NonNullable<typeof addon>, bias: Float32Array | null, addend?: Float32Array): void {
  const c = new Float32Array(16);
  const [a, b] = [randoms(4), randoms(16)];
  native.gemm(
    "float32",
    2,
    8,
    2,
    1,
    a,
    0,
    [0, 2, 1],
    b,
    0,
    [0, 8, 1],
    c,
    0,
    [0, 8, 1],
    1,
    0,
    null,
    bias,
    false,
    addend,
    0,
    [0, 8, 1],
  );
}

interface Case {
  M: number;
  N: number;
  K: number;
  batch?: number;
  beta?: number;
  /** C's column stride (1: row-major). */
  ccs?: number;
  packed?: boolean;
  /** B laid column-major (a Linear weight's transpose), not row-major. */
  bT?: boolean;
  alpha?: number;
}

/** A case's operands: A, B (packed too when asked), C's strides and starting values. */
function operands(c: Case, colMajor: boolean) {
  const native = addon as NonNullable<typeof addon>;
  const { M, N, K } = c;
  const batch = c.batch ?? 1;
  const a = randoms(batch * M * K);
  const b = randoms(K * N);
  const cStrides: GemmStrides = colMajor ? [M * N, 1, M] : [M * N, N, 1];
  const start = randoms(batch * M * N);
  const bytes = native.gemmPackedBytes("float32", K, N);
  const packed = c.packed && bytes > 0 ? native.allocate(bytes, false) : null;
  if (packed) native.gemmPackB("float32", K, N, b, 0, [N, 1], packed);
  return { native, M, N, K, batch, beta: c.beta ?? 0, a, b, cStrides, start, packed };
}

/**
 * The case's product into `out` with the given bias, addend (from addendOffset, with C's strides
 * unless given) and activation.
 */
function gemmWith(
  o: ReturnType<typeof operands>,
  out: Float32Array,
  bias: Float32Array | null,
  addend: Float32Array | null,
  addendOffset: number,
  activation: "gelu" | "geluTanh" | "silu" | null,
  addendStrides?: GemmStrides,
): void {
  const { native, M, N, K, batch, beta, a, b, cStrides, packed } = o;
  native.gemm(
    "float32",
    M,
    N,
    K,
    batch,
    a,
    0,
    [M * K, K, 1],
    b,
    0,
    [0, N, 1],
    out,
    0,
    cStrides,
    1,
    beta,
    packed,
    bias,
    false,
    addend,
    addendOffset,
    addendStrides ?? cStrides,
    activation,
  );
}

function check(c: Case): void {
  const { native, M, N, K, batch, beta, a, b, cStrides, start, packed } = operands(c, (c.ccs ?? 1) !== 1);
  const bias = randoms(N);
  const alpha = c.alpha ?? 1;
  const bStrides: GemmStrides = c.bT ? [0, 1, K] : [0, N, 1];
  const want = Float32Array.from(start);
  for (let bi = 0; bi < batch; bi++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const at = bi * cStrides[0] + i * cStrides[1] + j * cStrides[2];
        want[at] =
          beta === 0
            ? (bias[j] as number)
            : Math.fround((bias[j] as number) + Math.fround(beta * (want[at] as number)));
      }
  native.gemm("float32", M, N, K, batch, a, 0, [M * K, K, 1], b, 0, bStrides, want, 0, cStrides, alpha, 1);
  const got = Float32Array.from(start);
  native.gemm(
    "float32",
    M,
    N,
    K,
    batch,
    a,
    0,
    [M * K, K, 1],
    b,
    0,
    bStrides,
    got,
    0,
    cStrides,
    alpha,
    beta,
    packed,
    bias,
  );
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${JSON.stringify(c)}: C[${i}] ${got[i]} vs ${want[i]}`);
  }
}

test("gemm's bias matches a bias-filled C, on every path", { skip: !addon && "the native addon did not load" }, () => {
  const native = addon as NonNullable<typeof addon>;
  // The default family (AVX-512 and AVX2 add the bias inside their micro-kernels, tiles narrower
  // than 16 columns through a stack tile) and the generic one (C rows filled with the bias first)
  // where this CPU runs them.
  const families = [
    ["", 1],
    ["", 2],
    ["avx2", 2],
    ["generic", 1],
  ] as const;
  onFamilies(families, () => {
    check({ M: 37, N: 101, K: 70 });
    check({ M: 50, N: 70, K: 800 });
    check({ M: 128, N: 2304, K: 768, packed: true });
    check({ M: 128, N: 3072, K: 768, packed: true }); // 8 column tasks: each fetches the next one's first B block
    check({ M: 600, N: 200, K: 300, packed: true }); // rows split over a shared packed B
    check({ M: 130, N: 300, K: 900, beta: 0.5 });
    check({ M: 40, N: 96, K: 64, packed: true });
    check({ M: 3, N: 50, K: 40 });
    check({ M: 60, N: 5, K: 33 });
    check({ M: 20, N: 30, K: 0, beta: 2 });
    check({ M: 21, N: 45, K: 17, batch: 3 });
    check({ M: 25, N: 40, K: 19, ccs: 25 });
    // matrix-vector products (the bias added as they store): one row of x against a [K, N]
    // weight (k slabs over the threads) and a [N, K] one, the rows of x on B's side, alpha and
    // beta, a column-major C
    check({ M: 1, N: 3072, K: 768 });
    check({ M: 1, N: 2305, K: 771, beta: 0.5 });
    check({ M: 1, N: 1003, K: 769, bT: true });
    check({ M: 2, N: 300, K: 77, alpha: 0.75 });
    check({ M: 1, N: 517, K: 1200, bT: true, alpha: -2, beta: 0.25 });
    check({ M: 2000, N: 3, K: 300 });
    check({ M: 5, N: 900, K: 400, ccs: 5 });
    check({ M: 1, N: 400, K: 333, batch: 3 });
  });
  // a bias shorter than N
  assert.throws(() => tiny(native, new Float32Array(4)), { code: "HEARTH_TENSOR_ARGUMENT" });
});

interface AddendCase extends Case {
  bias?: boolean;
  /** C's and the addend's column stride (1: row-major, else column-major). */
  colMajor?: boolean;
  /** Row-major only: the addend's rows this many floats longer than C's (a strided view). */
  addendPad?: number;
}

// The addend argument (C = (alpha·A·B + bias + beta·C) + addend, added by the threads that write
// each C tile after its last k slice) against the product followed by a separate float32 add:
// bit for bit, on the same paths, on each family, on the shared-operand split of large products.
function checkAddend(c: AddendCase): void {
  const o = operands(c, !!c.colMajor);
  const { native, M, N, K, batch, beta, a, b, cStrides: strides, start } = o;
  const bias = c.bias ? randoms(N) : null;
  // The addend lies after 3 spare floats, so its offset is exercised too; with addendPad its rows
  // are N + pad floats apart.
  const pad = c.addendPad ?? 0;
  const addend = randoms(3 + batch * M * (N + pad));
  const want = Float32Array.from(start);
  native.gemm("float32", M, N, K, batch, a, 0, [M * K, K, 1], b, 0, [0, N, 1], want, 0, strides, 1, beta, null, bias);
  for (let i = 0; i < want.length; i++) {
    const at = pad === 0 ? i : Math.floor(i / N) * (N + pad) + (i % N); // row-major C when padded
    want[i] = Math.fround((want[i] as number) + (addend[3 + at] as number));
  }
  const got = Float32Array.from(start);
  gemmWith(o, got, bias, addend, 3, null, pad === 0 ? undefined : [M * (N + pad), N + pad, 1]);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${JSON.stringify(c)}: C[${i}] ${got[i]} vs ${want[i]}`);
  }
}

test("gemm's addend matches the product plus a separate add, on every path", {
  skip: !addon && "the native addon did not load",
}, () => {
  const native = addon as NonNullable<typeof addon>;
  onFamilies(epilogueFamilies, () => {
    checkAddend({ M: 37, N: 101, K: 70 });
    checkAddend({ M: 50, N: 70, K: 800, bias: true }); // several k slices
    checkAddend({ M: 130, N: 300, K: 900, beta: 0.5, bias: true });
    checkAddend({ M: 128, N: 2304, K: 768, packed: true, bias: true });
    checkAddend({ M: 40, N: 96, K: 64, packed: true });
    checkAddend({ M: 3, N: 50, K: 40 });
    checkAddend({ M: 1, N: 77, K: 40, bias: true }); // matrix-vector
    checkAddend({ M: 60, N: 5, K: 33, bias: true }); // thin: run as Cᵀ = Bᵀ·Aᵀ
    checkAddend({ M: 20, N: 30, K: 0, beta: 2, bias: true });
    checkAddend({ M: 21, N: 45, K: 17, batch: 3 });
    checkAddend({ M: 25, N: 40, K: 19, colMajor: true, bias: true });
    checkAddend({ M: 29, N: 53, K: 300, bias: true, addendPad: 7 }); // addend rows apart from C's
    checkAddend({ M: 128, N: 787, K: 768, packed: true, bias: true, addendPad: 5, batch: 2 });
  });
  // Products large enough for the shared-operand split (64 MFLOP) on 2 threads.
  native.setNumThreads(2);
  checkAddend({ M: 300, N: 768, K: 200, bias: true });
  checkAddend({ M: 128, N: 768, K: 1536, packed: true, bias: true }); // short: 6 column tasks of 128
  checkAddend({ M: 1400, N: 70, K: 400 });
  // an addend that reaches past its buffer
  assert.throws(() => tiny(native, null, new Float32Array(15)), { code: "HEARTH_TENSOR_BUFFER" });
});

interface ActivationCase extends AddendCase {
  activation: "gelu" | "geluTanh" | "silu";
  addend?: boolean;
}

// The activation argument (applied to the finished C by the threads that write each tile, after
// bias and addend) against the same product without it followed by the activation kernel over C:
// bit for bit, on the same paths and families.
function checkActivation(c: ActivationCase): void {
  const o = operands(c, !!c.colMajor);
  const { native, M, N, batch, start } = o;
  const bias = c.bias ? randoms(N) : null;
  const addend = c.addend ? randoms(batch * M * N) : null;
  const run = (out: Float32Array, activation: ActivationCase["activation"] | null) =>
    gemmWith(o, out, bias, addend, 0, activation);
  const want = Float32Array.from(start);
  run(want, null);
  native.activation(c.activation, want, want, want.length);
  const got = Float32Array.from(start);
  run(got, c.activation);
  let changed = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${JSON.stringify(c)}: C[${i}] ${got[i]} vs ${want[i]}`);
    if (got[i] !== start[i]) changed++;
  }
  assert.ok(changed > want.length / 2, `${JSON.stringify(c)}: the product wrote C`);
}

test("gemm's activation matches the product then the activation kernel, on every path", {
  skip: !addon && "the native addon did not load",
}, () => {
  const native = addon as NonNullable<typeof addon>;
  onFamilies(epilogueFamilies, () => {
    checkActivation({ M: 37, N: 101, K: 70, activation: "geluTanh" });
    checkActivation({ M: 50, N: 70, K: 800, bias: true, activation: "gelu" }); // several k slices
    checkActivation({ M: 130, N: 300, K: 900, beta: 0.5, bias: true, addend: true, activation: "silu" });
    checkActivation({ M: 128, N: 3072, K: 768, packed: true, bias: true, activation: "geluTanh" }); // GPT-2's c_fc
    checkActivation({ M: 3, N: 50, K: 40, addend: true, activation: "gelu" });
    checkActivation({ M: 1, N: 77, K: 40, bias: true, addend: true, activation: "geluTanh" }); // matrix-vector
    checkActivation({ M: 60, N: 5, K: 33, bias: true, activation: "silu" }); // thin: run as Cᵀ = Bᵀ·Aᵀ
    checkActivation({ M: 20, N: 30, K: 0, beta: 2, bias: true, activation: "gelu" });
    checkActivation({ M: 21, N: 45, K: 17, batch: 3, addend: true, activation: "geluTanh" });
    checkActivation({ M: 25, N: 40, K: 19, colMajor: true, bias: true, activation: "silu" });
  });
  native.setNumThreads(2);
  checkActivation({ M: 300, N: 768, K: 200, bias: true, activation: "geluTanh" }); // shared-operand split
  checkActivation({ M: 1400, N: 70, K: 400, addend: true, activation: "gelu" });
  const c = new Float32Array(16);
  assert.throws(
    () =>
      native.gemm(
        "float32",
        2,
        8,
        2,
        1,
        randoms(4),
        0,
        [0, 2, 1],
        randoms(16),
        0,
        [0, 8, 1],
        c,
        0,
        [0, 8, 1],
        1,
        0,
        null,
        null,
        false,
        null,
        0,
        [0, 8, 1],
        "relu" as "gelu",
      ),
    { code: "HEARTH_TENSOR_ARGUMENT" },
  );
});
