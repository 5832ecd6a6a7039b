// The native any-dtype kernels of the cpu backend against the js reference, element for element
// (bit-exact where the js arithmetic allows it): the random fill (same stream for the same seed,
// every dtype, sizes across the threaded split, 1 and 2 threads), casts between every pair of
// dtypes on strided views with special values, cumsum, sort, argmax and argmin along every dim
// of permuted views with NaN, ±0 and ties, and scatterAdd for every dtype.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DTYPES, type DType } from "../dtype.ts";
import { apply, listBackends, manualSeed, randn, type Tensor, tensor, withBackend } from "../index.ts";
import { anyDTypeNative } from "./any-dtype.ts";

const addon = anyDTypeNative;
const skip = !addon || !listBackends().includes("cpu") ? "the native addon is not built" : false;
const THREADS = [1, 2];
after(() => {
  addon?.setNumThreads(0);
  addon?.selectRandomKernel("");
});

/** Elements as numbers, or as exact bigints for int64 (NaN stays NaN). */
function values(t: Tensor): (number | bigint)[] {
  return Array.from(t.dataSync() as ArrayLike<number | bigint>);
}

/** Runs `op` on js and cpu (inputs built on js) and asserts identical outputs. */
function sameOnBoth(what: string, op: string, inputs: Tensor[], attrs: object, tol = 0): void {
  const want = withBackend("js", () => apply(op, inputs, attrs));
  const got = withBackend("cpu", () => apply(op, inputs, attrs));
  want.forEach((w, k) => {
    const g = got[k] as Tensor;
    assert.equal(g.dtype, w.dtype, what);
    assert.deepEqual(g.shape, w.shape, what);
    const gv = values(g);
    const wv = values(w);
    for (let i = 0; i < wv.length; i++) {
      const a = gv[i] as number | bigint;
      const b = wv[i] as number | bigint;
      if (tol > 0 && typeof b === "number") {
        assert.ok(
          Object.is(a, b) || Math.abs((a as number) - b) <= tol * (1 + Math.abs(b)),
          `${what}[${k}][${i}]: ${a} vs ${b}`,
        );
      } else {
        assert.ok(Object.is(a, b), `${what} output ${k} element ${i}: ${a} vs ${b}`);
      }
    }
  });
}

/** Values of every kind in float32: fractions, ties, ±0, NaN, ±inf and out-of-range integers. */
const SPECIALS = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 255.9, 256, -129, 127.5, 3e9, -3e9, 1e20, -1e20, 2 ** 31];
SPECIALS.push(2 ** 63, -(2 ** 63), 2 ** 64 + 2 ** 41, 65519, 65520, 1e-40, Number.NaN, Infinity, -Infinity);

/** A [rows, cols] source of `dtype` holding the specials and random values, as a transposed view. */
function source(dtype: DType, rows: number, cols: number): Tensor {
  const n = rows * cols;
  const base = withBackend("js", () => randn([n]).mul(300).dataSync() as Float32Array);
  const data = Float32Array.from(base, (v, i) => (i < SPECIALS.length ? (SPECIALS[i] as number) : v));
  return withBackend("js", () => {
    let t = tensor(data, { shape: [cols, rows] });
    if (dtype === "bool") t = t.gt(0);
    else if (dtype === "int64")
      t = t
        .clamp(-1e15, 1e15)
        .to("int64")
        .mul(tensor([7n], { dtype: "int64" }));
    else t = t.to(dtype);
    return t.transpose(0, 1);
  });
}

describe("native random fill reproduces the js stream", { skip }, () => {
  for (const threads of THREADS) {
    test(`every dtype and both distributions, sizes across the threaded split, ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      for (const dtype of DTYPES) {
        for (const distribution of ["uniform", "normal"] as const) {
          for (const [n, seed] of [
            [0, 1],
            [1, 2],
            [2, 0],
            [3, 0xffffffff],
            [17, 12345],
            [40001, 77],
            [70001, 2 ** 31],
          ] as const) {
            if (n > 1000 && dtype !== "float32" && dtype !== "int32" && dtype !== "bfloat16") continue;
            const [a, b] = distribution === "uniform" ? [-3, 250.5] : [0.25, dtype === "float32" ? 0.02 : 40];
            const attrs = { shape: [n], dtype, distribution, seed, a, b };
            sameOnBoth(`random ${distribution} ${dtype} n=${n} seed=${seed}`, "random", [], attrs);
          }
        }
      }
    });
  }

  const variants = addon ? ["avx512", "avx2", "generic"].filter((v) => addon.selectRandomKernel(v)) : [];
  addon?.selectRandomKernel("");
  for (const variant of variants) {
    test(`Box–Muller variant '${variant}': 300k normals of float32, bfloat16 and int32 match js`, () => {
      assert.ok(addon?.selectRandomKernel(variant));
      addon?.setNumThreads(2);
      try {
        assert.equal(addon?.randomKernel(), variant);
        for (const [dtype, n, a, b] of [
          ["float32", 300_007, 0, 1],
          ["float32", 200_001, -3, 1e-3],
          ["bfloat16", 200_001, 0.5, 7],
          ["int32", 100_001, 0, 1000],
        ] as const) {
          const attrs = { shape: [n], dtype, distribution: "normal", seed: n, a, b };
          sameOnBoth(`random ${variant} ${dtype} ${n}`, "random", [], attrs);
        }
      } finally {
        addon?.selectRandomKernel("");
      }
    });
  }

  test("normals whose rounding hangs on libm's last ulp are handed back and finished in js", () => {
    addon?.setNumThreads(2);
    const n = 300001;
    const fixups = addon?.randomFill(new Float32Array(n), "float32", n, "normal", 9, 0, 1);
    assert.ok(fixups && fixups.length > 0 && fixups.length % 3 === 0, "expected a few fixups in 300k normals");
    sameOnBoth("random normal 300k", "random", [], {
      shape: [n],
      dtype: "float32",
      distribution: "normal",
      seed: 9,
      a: 0,
      b: 1,
    });
  });
});

describe("native casts match the js cast for every pair of dtypes", { skip }, () => {
  for (const from of DTYPES) {
    test(`${from} -> every dtype, strided, special values`, () => {
      const x = source(from, 7, 9);
      for (const to of DTYPES) sameOnBoth(`cast ${from} -> ${to}`, "cast", [x], { dtype: to });
    });
  }
  for (const threads of THREADS) {
    test(`large strided casts on ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      for (const [from, to] of [
        ["float32", "int32"],
        ["int64", "float32"],
        ["bool", "float32"],
        ["int32", "int64"],
        ["float32", "bool"],
        ["int64", "bfloat16"],
      ] as [DType, DType][]) {
        sameOnBoth(`cast ${from} -> ${to} 301x257`, "cast", [source(from, 301, 257)], { dtype: to });
      }
    });
  }
});

describe("native cumsum matches the js cumsum", { skip }, () => {
  for (const threads of THREADS) {
    test(`every dtype, every dim of a permuted view, both directions, ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      manualSeed(5);
      for (const dtype of DTYPES) {
        const x = withBackend("js", () => source(dtype, 12, 35).reshape([3, 4, 35]).permute([2, 0, 1]));
        for (const dim of [0, 1, 2]) {
          for (const reverse of [false, true]) {
            sameOnBoth(`cumsum ${dtype} dim ${dim} reverse ${reverse}`, "cumsum", [x], { dim, reverse });
          }
        }
      }
      const big = withBackend("js", () => randn([513, 301]).transpose(0, 1));
      for (const dim of [0, 1]) sameOnBoth(`cumsum 301x513 dim ${dim}`, "cumsum", [big], { dim, reverse: dim === 1 });
    });
  }
});

describe("native sort matches the js sort", { skip }, () => {
  for (const threads of THREADS) {
    test(`every dtype, every dim, both directions, NaN, ±0 and ties, ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      for (const dtype of DTYPES) {
        // Rounded to few distinct values so ties are common; the specials add NaN, ±0 and ±inf.
        const x = withBackend("js", () => {
          const s = source(dtype, 10, 21);
          return (dtype === "float32" ? s.div(100).to("int32").to("float32").add(s.mul(0)) : s)
            .reshape([2, 5, 21])
            .permute([1, 2, 0]);
        });
        for (const dim of [0, 1, 2]) {
          for (const descending of [false, true]) {
            sameOnBoth(`sort ${dtype} dim ${dim} descending ${descending}`, "sort", [x], { dim, descending });
          }
        }
        // Rows of 64 or more take the radix sort.
        const long = source(dtype, 3, 150);
        for (const descending of [false, true])
          sameOnBoth(`sort ${dtype} long rows`, "sort", [long], { dim: 1, descending });
      }
      const big = withBackend("js", () => randn([300, 257]).mul(4).to("int32").to("float32").transpose(0, 1));
      for (const dim of [0, 1]) sameOnBoth(`sort 257x300 dim ${dim}`, "sort", [big], { dim, descending: dim === 0 });
    });
  }
});

describe("native argmax and argmin match the js kernels", { skip }, () => {
  for (const threads of THREADS) {
    test(`every dtype, every dim, first of ties and first NaN, keepdim, ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      for (const dtype of DTYPES) {
        const x = withBackend("js", () => source(dtype, 10, 21).reshape([2, 5, 21]).permute([1, 2, 0]));
        for (const op of ["argmax", "argmin"]) {
          for (const dim of [0, 1, 2]) {
            sameOnBoth(`${op} ${dtype} dim ${dim}`, op, [x], { dim, keepdim: dim === 1 });
          }
        }
      }
      const big = withBackend("js", () => randn([601, 257]).mul(3).to("int32").transpose(0, 1));
      for (const dim of [0, 1]) sameOnBoth(`argmax 257x601 dim ${dim}`, "argmax", [big], { dim, keepdim: false });
      // Contiguous float32 rows (the lane-wise pass): ties of the extreme, ±0, NaNs after it,
      // ±inf, extremes in the tail past the last whole block of lanes, and rows of 31 and 32.
      for (const cols of [31, 32, 1003]) {
        const rows = withBackend(
          "js",
          () => randn([7, cols]).mul(5).to("int32").to("float32").dataSync() as Float32Array,
        );
        const at = (r: number, c: number, v: number) => {
          rows[r * cols + (c < 0 ? cols + c : c)] = v;
        };
        at(1, 20, Number.NaN);
        at(1, -2, Number.NaN);
        at(2, 3, 50);
        at(2, -1, 50);
        at(2, 5, -50);
        at(2, -3, -50);
        for (let c = 0; c < cols; c++) at(3, c, c % 3 === 0 ? -0 : 0);
        at(4, -1, Infinity);
        at(4, 0, -Infinity);
        for (let c = 0; c < cols; c++) at(5, c, -Infinity);
        at(6, -1, 100);
        at(6, -2, -100);
        const x = tensor(rows, { shape: [7, cols] });
        for (const op of ["argmax", "argmin"])
          sameOnBoth(`${op} float32 7x${cols}`, op, [x], { dim: 1, keepdim: false });
      }
    });
  }
});

describe("native integer elementwise ops match the js kernels", { skip }, () => {
  const INTS: DType[] = ["int8", "uint8", "int32", "int64"];
  const binary = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"];
  test("every op: wrap-around, division by zero and the most negative value over -1", () => {
    const a = [-(2 ** 31), 2 ** 31 - 1, 7, -7, 0, 5, -128, 127, 255];
    const b = [-1, 1, 0, 2, 0, -3, -1, 1, 2];
    for (const dtype of INTS) {
      const [x, y] = withBackend("js", () => [
        tensor(Float64Array.from(a)).to(dtype),
        tensor(Float64Array.from(b)).to(dtype),
      ]) as [Tensor, Tensor];
      for (const op of binary) sameOnBoth(`${op} ${dtype} edges`, op, [x, y], {});
      for (const op of ["neg", "abs", "sign", "relu"]) sameOnBoth(`${op} ${dtype} edges`, op, [x], {});
    }
  });
  test("sum, amax and amin over kept and reduced dims of permuted views", () => {
    for (const dtype of [...INTS, "bool"] as DType[]) {
      // int64 from int32 values, so js's float64 sums stay exact.
      const x = withBackend("js", () =>
        (dtype === "int64" ? source("int32", 12, 35).to("int64") : source(dtype, 12, 35))
          .reshape([3, 4, 35])
          .permute([2, 0, 1]),
      );
      for (const op of ["sum", "amax", "amin"]) {
        for (const [dims, keepdim] of [
          [[0], false],
          [[1, 2], true],
          [[0, 1, 2], false],
        ] as [number[], boolean][]) {
          sameOnBoth(`${op} ${dtype} dims ${dims}`, op, [x], { dims, keepdim });
        }
      }
    }
  });
  for (const threads of THREADS) {
    test(`broadcast and strided operands, sizes across the threaded split, ${threads} thread(s)`, () => {
      addon?.setNumThreads(threads);
      for (const dtype of [...INTS, "bool"] as DType[]) {
        const [x, y] = withBackend("js", () => {
          const v = (shape: number[]) => randn(shape).mul(dtype === "int8" || dtype === "uint8" ? 60 : 3000);
          const cast = (t: Tensor) => (dtype === "bool" ? t.gt(0) : t.to(dtype));
          return [cast(v([301, 257])).transpose(0, 1), cast(v([257, 1]))];
        }) as [Tensor, Tensor];
        const ops = dtype === "bool" ? ["eq", "lt"] : ["sub", "mul", "div", "maximum", "ge"];
        for (const op of ops) sameOnBoth(`${op} ${dtype} broadcast`, op, [x, y.expand([257, 301])], {});
        if (dtype !== "bool") sameOnBoth(`neg ${dtype}`, "neg", [x], {});
        sameOnBoth(`sum ${dtype} 257x301`, "sum", [x], { dims: [1], keepdim: false });
      }
    });
  }
});

describe("native scatterAdd matches the js scatterAdd for every dtype", { skip }, () => {
  test("repeated and negative indices into strided operands", () => {
    for (const dtype of DTYPES) {
      const [x, src, index] = withBackend("js", () => [
        source(dtype, 4, 6),
        source(dtype, 9, 6).slice(0, 0, 7),
        tensor(
          Int32Array.from({ length: 42 }, (_, i) => ((i * 7) % 8) - 4),
          { shape: [7, 6] },
        ),
      ]) as [Tensor, Tensor, Tensor];
      // Floats accumulate in float32 (js: in double) before their one rounding.
      const tol = dtype === "float16" || dtype === "bfloat16" ? 8e-3 : dtype === "float32" ? 1e-6 : 0;
      sameOnBoth(`scatterAdd ${dtype}`, "scatterAdd", [x, index, src], { dim: 0 }, tol);
    }
  });
});
