/**
 * Conformance cases for backends: every primitive on contiguous and strided inputs, broadcasts,
 * size-1 dims and each dtype the op accepts. `runCase` evaluates one case on a backend; the
 * suite compares every backend with the `js` reference.
 */

import { apply, type DType, manualSeed, randn, type Tensor, tensor, transpose, withBackend } from "../../src/index.ts";
import { fusedCases } from "./fused-cases.ts";

export interface Case {
  name: string;
  op: string;
  /** Builds the inputs (with the `js` backend) and attributes. */
  make: () => { inputs: Tensor[]; attrs?: object };
  /** Relative tolerance for float outputs (default 1e-5; 16-bit floats use one ulp of bf16). */
  rtol?: number;
}

const FLOATS: DType[] = ["float32", "float16", "bfloat16"];
export const r = (shape: number[], dtype: DType = "float32", positive = false): Tensor => {
  let t = randn(shape);
  if (positive) t = t.abs().add(0.5);
  return t.to(dtype);
};
const ints = (shape: number[], lo: number, hi: number, dtype: DType = "int64") =>
  r(shape)
    .mul((hi - lo) / 4)
    .add((hi + lo) / 2)
    .clamp(lo, hi - 1)
    .to(dtype);
/** Non-contiguous: the transpose of a contiguous [shape[1], shape[0]] tensor. */
export const rT = (shape: [number, number], dtype: DType = "float32", positive = false) =>
  transpose(r([shape[1], shape[0]], dtype, positive));

const unaryFloat = ["exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "erf"];
const unaryNumeric = ["neg", "abs", "sign", "relu"];
const binaryArith = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"];
const compare = ["eq", "ne", "lt", "le", "gt", "ge"];

/** Values of every kind for `dtype`: fractions and negatives where the dtype holds them. */
function source(dtype: DType): Tensor {
  const x = r([2, 5]).mul(40);
  if (dtype === "bool") return x.gt(0);
  if (dtype === "uint8") return x.abs().to("uint8");
  return x.to(dtype);
}

export function buildCases(): Case[] {
  manualSeed(77);
  const cases: Case[] = [];
  for (const dtype of FLOATS) {
    const rtol = dtype === "float32" ? 1e-5 : 8e-3;
    for (const op of unaryFloat) {
      const positive = op === "log" || op === "sqrt" || op === "log1p";
      cases.push({
        name: `${op} ${dtype} contiguous`,
        op,
        make: () => ({ inputs: [r([3, 5], dtype, positive)] }),
        rtol,
      });
      cases.push({
        name: `${op} ${dtype} transposed`,
        op,
        make: () => ({ inputs: [rT([4, 3], dtype, positive)] }),
        rtol,
      });
    }
    for (const op of unaryNumeric) {
      cases.push({
        name: `${op} ${dtype} sliced`,
        op,
        make: () => ({ inputs: [r([4, 6], dtype).slice(1, 1, 5)] }),
        rtol,
      });
    }
    for (const op of [...binaryArith, ...compare]) {
      const positive = op === "pow";
      cases.push({
        name: `${op} ${dtype} broadcast [3,1,4]x[2,4]`,
        op,
        make: () => ({ inputs: [r([3, 1, 4], dtype, positive), r([2, 4], dtype)] }),
        rtol,
      });
      cases.push({
        name: `${op} ${dtype} transposed x size-1`,
        op,
        make: () => ({ inputs: [rT([5, 3], dtype, positive), r([1, 3], dtype)] }),
        rtol,
      });
    }
    cases.push({
      name: `matmul ${dtype} batched broadcast`,
      op: "matmul",
      make: () => ({ inputs: [r([2, 1, 5, 7], dtype), r([3, 7, 4], dtype)] }),
      rtol: dtype === "float32" ? 1e-5 : 1e-2,
    });
    cases.push({
      name: `matmul ${dtype} transposed operands`,
      op: "matmul",
      make: () => ({ inputs: [rT([6, 9], dtype), rT([9, 5], dtype)] }),
      rtol: dtype === "float32" ? 1e-5 : 1e-2,
    });
  }
  for (const dtype of ["int32", "int64"] as DType[]) {
    for (const op of ["neg", "abs", "sign", "relu"]) {
      cases.push({ name: `${op} ${dtype}`, op, make: () => ({ inputs: [ints([3, 4], -5, 5, dtype)] }) });
    }
    for (const op of ["add", "sub", "mul", "maximum", "minimum", ...compare]) {
      cases.push({
        name: `${op} ${dtype} broadcast`,
        op,
        make: () => ({ inputs: [ints([2, 3], -9, 9, dtype), ints([3], -9, 9, dtype)] }),
      });
    }
  }
  cases.push({
    name: "matmul float32 large-ish [33,65]x[65,17]",
    op: "matmul",
    make: () => ({ inputs: [r([33, 65]), r([65, 17])] }),
  });
  cases.push({
    name: "where broadcast",
    op: "where",
    make: () => ({ inputs: [r([3, 1]).gt(0), r([3, 4]), r([4])] }),
  });
  const all: DType[] = ["float32", "float16", "bfloat16", "int32", "int64", "uint8", "int8", "bool"];
  for (const from of all) {
    for (const to of all) {
      cases.push({
        name: `cast ${from} -> ${to}`,
        op: "cast",
        make: () => ({ inputs: [source(from).transpose()], attrs: { dtype: to } }),
      });
    }
    cases.push({
      name: `contiguous ${from} strided`,
      op: "contiguous",
      make: () => ({ inputs: [r([4, 3]).mul(9).to(from).transpose().slice(0, 1)] }),
    });
  }
  cases.push({
    name: "contiguous int64 exact bits",
    op: "contiguous",
    make: () => ({
      inputs: [
        tensor([2n ** 62n + 1n, -7n, 3n, 4n])
          .reshape([2, 2])
          .transpose(),
      ],
    }),
  });
  for (const [dims, keepdim] of [
    [[1], false],
    [[0, 2], true],
    [[0, 1, 2], false],
  ] as [number[], boolean][]) {
    for (const op of ["sum", "amax", "amin"]) {
      cases.push({
        name: `${op} dims ${dims} keepdim ${keepdim}`,
        op,
        make: () => ({ inputs: [r([3, 4, 5]).permute([1, 0, 2])], attrs: { dims, keepdim } }),
      });
    }
  }
  cases.push({
    name: "sum float16",
    op: "sum",
    make: () => ({ inputs: [r([4, 8], "float16")], attrs: { dims: [1], keepdim: false } }),
    rtol: 8e-3,
  });
  cases.push({
    name: "sum int32 -> int64",
    op: "sum",
    make: () => ({ inputs: [ints([4, 5], -9, 9, "int32")], attrs: { dims: [0], keepdim: false } }),
  });
  for (const op of ["argmax", "argmin"]) {
    cases.push({
      name: `${op} dim 1 transposed`,
      op,
      make: () => ({ inputs: [rT([5, 6])], attrs: { dim: 1, keepdim: false } }),
    });
  }
  for (const reverse of [false, true]) {
    cases.push({
      name: `cumsum reverse=${reverse}`,
      op: "cumsum",
      make: () => ({ inputs: [rT([4, 6])], attrs: { dim: 1, reverse } }),
    });
  }
  for (const descending of [false, true]) {
    cases.push({
      name: `sort descending=${descending}`,
      op: "sort",
      make: () => ({ inputs: [rT([5, 7])], attrs: { dim: 0, descending } }),
    });
  }
  cases.push({
    name: "pad",
    op: "pad",
    make: () => ({
      inputs: [rT([3, 4])],
      attrs: {
        pads: [
          [1, 0],
          [2, 3],
        ],
        value: 0.5,
      },
    }),
  });
  cases.push({
    name: "cat dim 1 mixed layouts",
    op: "cat",
    make: () => ({ inputs: [r([3, 2]), rT([3, 4]), r([3, 1])], attrs: { dim: 1 } }),
  });
  cases.push({
    name: "gather dim 1",
    op: "gather",
    make: () => ({ inputs: [r([4, 6]), ints([4, 3], 0, 6)], attrs: { dim: 1 } }),
  });
  cases.push({
    name: "scatterAdd dim 0 with repeats",
    op: "scatterAdd",
    make: () => ({ inputs: [r([3, 4]), ints([5, 4], 0, 3), r([5, 4])], attrs: { dim: 0 } }),
  });
  const conv = { kernel: [3, 2], stride: [2, 1], padding: [1, 1], dilation: [1, 2] };
  cases.push({ name: "im2col", op: "im2col", make: () => ({ inputs: [r([2, 3, 7, 6])], attrs: conv }) });
  cases.push({
    name: "col2im",
    op: "col2im",
    make: () => ({ inputs: [r([2, 18, 24])], attrs: { ...conv, outputSize: [7, 6] } }),
  });
  cases.push({
    name: "random uniform",
    op: "random",
    make: () => ({
      inputs: [],
      attrs: { shape: [50], dtype: "float32", distribution: "uniform", seed: 5, a: -1, b: 2 },
    }),
  });
  cases.push({
    name: "random normal",
    op: "random",
    make: () => ({ inputs: [], attrs: { shape: [50], dtype: "float32", distribution: "normal", seed: 6, a: 1, b: 3 } }),
  });
  cases.push({
    name: "multinomial",
    op: "multinomial",
    make: () => ({ inputs: [r([3, 6], "float32", true)], attrs: { numSamples: 4, replacement: false, seed: 9 } }),
  });
  // Integer inputs of the scans, sorts, arg-reductions and scatterAdd.
  cases.push(
    {
      name: "cumsum int32 -> int64",
      op: "cumsum",
      make: () => ({ inputs: [ints([4, 6], -9, 9, "int32")], attrs: { dim: 0 } }),
    },
    {
      name: "sort int64 descending",
      op: "sort",
      make: () => ({ inputs: [ints([3, 7], -3, 3)], attrs: { dim: 1, descending: true } }),
    },
    {
      name: "argmax int32 with ties",
      op: "argmax",
      make: () => ({ inputs: [ints([5, 6], -2, 2, "int32")], attrs: { dim: 1 } }),
    },
    {
      name: "scatterAdd int64",
      op: "scatterAdd",
      make: () => ({ inputs: [ints([3, 4], -5, 5), ints([5, 4], 0, 3), ints([5, 4], -5, 5)], attrs: { dim: 0 } }),
    },
    {
      name: "amax int64 keepdim",
      op: "amax",
      make: () => ({ inputs: [ints([4, 5], -9, 9)], attrs: { dims: [1], keepdim: true } }),
    },
  );
  cases.push(...fusedCases());
  return cases;
}

/** Runs `c` on `backend`, returning the outputs as plain numbers. */
export function runCase(backend: string, c: Case, inputs: Tensor[], attrs: object): number[][] {
  return withBackend(backend, () => apply(c.op, inputs, attrs).map((t) => Array.from(t.dataSync(), Number)));
}
