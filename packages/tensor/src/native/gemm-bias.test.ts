// The GEMM's bias argument (C = alpha·A·B + bias + beta·C, the bias written by the threads that
// compute each block) against filling C with bias + beta·C first and multiplying with beta 1:
// bit for bit, on every path a product can take (blocked GEMM, pre-packed B, matrix-vector,
// transposed thin product, K = 0, batches, strided C).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type GemmStrides, native } from "./index.ts";

const addon = native;
after(() => addon?.setNumThreads(0));

let seed = 7;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}
const randoms = (n: number) => Float32Array.from({ length: n }, rand);

interface Case {
  M: number;
  N: number;
  K: number;
  batch?: number;
  beta?: number;
  /** C's column stride (1: row-major). */
  ccs?: number;
  packed?: boolean;
}

function check(c: Case): void {
  const native = addon as NonNullable<typeof addon>;
  const { M, N, K } = c;
  const batch = c.batch ?? 1;
  const beta = c.beta ?? 0;
  const ccs = c.ccs ?? 1;
  const a = randoms(batch * M * K);
  const b = randoms(K * N);
  const bias = randoms(N);
  const cStrides: GemmStrides = ccs === 1 ? [M * N, N, 1] : [M * N, 1, M];
  const start = randoms(batch * M * N);
  const packed =
    c.packed && native.gemmPackedBytes("float32", K, N) > 0
      ? native.allocate(native.gemmPackedBytes("float32", K, N), false)
      : undefined;
  if (packed) native.gemmPackB("float32", K, N, b, 0, [N, 1], packed);
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
  native.gemm("float32", M, N, K, batch, a, 0, [M * K, K, 1], b, 0, [0, N, 1], want, 0, cStrides, 1, 1);
  const got = Float32Array.from(start);
  native.gemm("float32", M, N, K, batch, a, 0, [M * K, K, 1], b, 0, [0, N, 1], got, 0, cStrides, 1, beta, packed, bias);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${JSON.stringify(c)}: C[${i}] ${got[i]} vs ${want[i]}`);
  }
}

test("gemm's bias matches a bias-filled C, on every path", { skip: !addon && "the native addon did not load" }, () => {
  const native = addon as NonNullable<typeof addon>;
  // The default family (AVX-512 adds the bias inside its micro-kernel) and the others (C rows
  // filled with the bias first) where this CPU runs them.
  for (const [kernel, threads] of [
    ["", 1],
    ["", 2],
    ["avx2", 2],
    ["generic", 1],
  ] as const) {
    if (!native.selectGemmKernel(kernel)) continue;
    native.setNumThreads(threads);
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
  }
  native.selectGemmKernel("");
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
        new Float32Array(16),
        0,
        [0, 8, 1],
        1,
        0,
        null,
        new Float32Array(4),
      ),
    { code: "HEARTH_TENSOR_ARGUMENT" },
  );
});
