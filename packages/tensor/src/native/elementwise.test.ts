// The native float32 elementwise kernels against JavaScript's own maths: the vectorised exp and
// sigmoid of every kernel family (special values, tails that are not a multiple of the vector
// width, strided rows), binary broadcasts, reductions and the bit-exact strided copy.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { native } from "./index.ts";

if (!native) throw new Error("elementwise.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
after(() => {
  addon.selectGemmKernel("");
  addon.setNumThreads(0);
});

let seed = 99;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};

const families = ["generic", "avx2", "avx512"].filter((f) => addon.selectGemmKernel(f));
addon.selectGemmKernel("");

/**
 * |got - want| within `ulps` float32 ulps of want (or both NaN / equal infinities). Results
 * below the smallest normal float32 may flush to zero.
 */
function near(got: number, exact: number, ulps: number, what: string): void {
  const want = Math.fround(exact);
  if (Number.isNaN(want)) {
    assert.ok(Number.isNaN(got), `${what}: ${got} vs NaN`);
    return;
  }
  if (!Number.isFinite(want) || want === 0) {
    assert.equal(got, want, what);
    return;
  }
  if (Math.abs(want) < 2 ** -126 && got === 0) return;
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
  assert.ok(Math.abs(got - want) <= ulps * Math.max(ulp, 2 ** -149), `${what}: ${got} vs ${want}`);
}

describe("native elementwise kernels", () => {
  const specials = [0, -0, 1, -1, 0.5, 88.7, 88.72, 89, 100, -87.3, -87.5, -103, -104, -150, 1e-30];
  specials.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN);
  for (const family of families) {
    test(`${family}: exp and sigmoid match Math.exp to a few ulps, special values included`, () => {
      assert.ok(addon.selectGemmKernel(family));
      for (const n of [1, 7, 16, 37, 1000]) {
        const x = Float32Array.from({ length: n }, (_, i) => specials[i] ?? Math.fround((rand() - 0.5) * 60));
        const y = new Float32Array(n);
        addon.unary("exp", x, 0, [1], y, [n]);
        for (let i = 0; i < n; i++) near(y[i] as number, Math.exp(x[i] as number), 3, `exp(${x[i]})`);
        addon.unary("sigmoid", x, 0, [1], y, [n]);
        for (let i = 0; i < n; i++) near(y[i] as number, 1 / (1 + Math.exp(-(x[i] as number))), 4, `sigmoid(${x[i]})`);
      }
      // A transposed view takes the scalar path; results agree.
      const x = Float32Array.from({ length: 12 }, () => Math.fround(rand() * 4 - 2));
      const y = new Float32Array(12);
      addon.unary("exp", x, 0, [1, 4], y, [4, 3]);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 3; j++) near(y[i * 3 + j] as number, Math.exp(x[j * 4 + i] as number), 3, "exp strided");
    });
  }

  for (const family of families) {
    test(`${family}: a column sum (a bias gradient) matches float64 sums, the same on 1 and 2 threads`, () => {
      assert.ok(addon.selectGemmKernel(family));
      // [A, R, N] summed over A and R into [N]: rows in blocks (more than one), columns not a
      // multiple of the vector width; also a view whose reduced dims are permuted.
      for (const [A, R, N] of [
        [1, 5, 37],
        [3, 43, 67],
        [4, 128, 300],
        [2, 2100, 17],
      ] as const) {
        const x = Float32Array.from({ length: A * R * N }, () => Math.fround((rand() - 0.5) * 8));
        const want = new Float64Array(N);
        for (let a = 0; a < A; a++)
          for (let r = 0; r < R; r++) for (let j = 0; j < N; j++) want[j] += x[(a * R + r) * N + j] as number;
        const got: Float32Array[] = [];
        for (const threads of [1, 2]) {
          addon.setNumThreads(threads);
          const out = new Float32Array(N).fill(Number.NaN);
          addon.reduce("sum", x, 0, [R * N, N, 1], [A, R, N], [0, 1], out);
          const swapped = new Float32Array(N).fill(Number.NaN);
          addon.reduce("sum", x, 0, [N, R * N, 1], [R, A, N], [0, 1], swapped);
          for (let j = 0; j < N; j++) {
            near(out[j] as number, want[j] as number, 1, `[${A},${R},${N}] column ${j}, ${threads} threads`);
            near(swapped[j] as number, want[j] as number, 1, `permuted [${A},${R},${N}] column ${j}`);
          }
          got.push(out);
        }
        assert.deepEqual(got[1], got[0], `[${A},${R},${N}]: 2 threads differ from 1`);
      }
      addon.setNumThreads(0);
    });
  }

  test("binary ops broadcast rows and scalars, and reductions skip nothing", () => {
    const a = Float32Array.from({ length: 6 }, (_, i) => i);
    const b = Float32Array.from([10, 20, 30]);
    const out = new Float32Array(6);
    addon.binary("sub", a, 0, [3, 1], b, 0, [0, 1], out, [2, 3]);
    assert.deepEqual([...out], [-10, -19, -28, -7, -16, -25]);
    addon.binary("maximum", a, 0, [3, 1], Float32Array.from([Number.NaN]), 0, [0, 0], out, [2, 3]);
    assert.ok(out.every(Number.isNaN));
    const s = new Float32Array(3);
    addon.reduce("sum", a, 0, [3, 1], [2, 3], [0], s);
    assert.deepEqual([...s], [3, 5, 7]);
    addon.reduce("amax", a, 0, [3, 1], [2, 3], [1], s);
    assert.deepEqual([...s.slice(0, 2)], [2, 5]);
    assert.throws(() => addon.reduce("sum", a, 0, [3, 1], [2, 3], [2], s), /reduce: argument 'dims' entry 2/);
    assert.throws(() => addon.unary("cbrt", a, 0, [1], out, [6]), /unary: unknown op 'cbrt'/);
    assert.throws(() => addon.binary("add", a, 1, [1], a, 0, [1], out, [6]), { code: "HEARTH_TENSOR_BUFFER" });
  });

  test("copy is bit-exact for 8-byte elements and honours destination strides", () => {
    const src = BigInt64Array.from([1n, -(2n ** 62n), 3n, 2n ** 60n + 1n]);
    const dst = new BigInt64Array(8);
    addon.copy(src, 0, [2, 1], dst, 1, [1, 4], [2, 2]);
    assert.deepEqual([...dst], [0n, 1n, 3n, 0n, 0n, -(2n ** 62n), 2n ** 60n + 1n, 0n]);
    assert.throws(() => addon.copy(src, 0, [1], new Float32Array(4), 0, [1], [4]), /copy: arguments 'src' and 'dst'/);
  });
});
