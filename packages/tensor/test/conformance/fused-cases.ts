/**
 * Conformance cases for the fused primitives (softmax, logSoftmax, layerNorm, rmsNorm, gelu,
 * silu and their backwards): widths that are not multiples of the vector width (16 or 8),
 * transposed and sliced inputs, dims other than the last, rows big enough to be split over the
 * thread pool, masked (−∞) entries, and the 16-bit dtypes.
 */
import { apply, type DType, neg, type Tensor, tensor } from "../../src/index.ts";
import { type Case, r, rT } from "./cases.ts";

const softmaxLike = ["softmax", "logSoftmax"] as const;

export function fusedCases(): Case[] {
  const cases: Case[] = [];
  for (const op of softmaxLike) {
    const shapes: [string, () => Tensor, number][] = [
      ["[5,37] last dim", () => r([5, 37]).mul(3), -1],
      ["[300,129] pooled rows", () => r([300, 129]).mul(3), 1],
      ["transposed [19,6]", () => rT([19, 6]), -1],
      ["[7,3,5] dim 0", () => r([7, 3, 5]), 0],
      ["sliced [4,40] dim 1", () => r([4, 48]).slice(1, 3, 43), 1],
      ["width 1", () => r([6, 1]), 1],
    ];
    for (const [what, make, dim] of shapes) {
      cases.push({ name: `${op} ${what}`, op, make: () => ({ inputs: [make()], attrs: { dim } }) });
      cases.push({
        name: `${op}Backward ${what}`,
        op: `${op}Backward`,
        make: () => {
          const x = make();
          const y = apply(op, [x], { dim })[0] as Tensor;
          return { inputs: [y, r([...x.shape])], attrs: { dim } };
        },
      });
    }
    cases.push({
      name: `${op} masked -inf and an all -inf row`,
      op,
      make: () => ({
        inputs: [
          tensor([
            [1, Number.NEGATIVE_INFINITY, 2, 0.5],
            [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
            [3, 3, Number.NEGATIVE_INFINITY, -1],
          ]),
        ],
        attrs: { dim: -1 },
      }),
    });
    cases.push({
      name: `${op} bfloat16`,
      op,
      make: () => ({ inputs: [r([3, 21], "bfloat16")], attrs: { dim: -1 } }),
      rtol: 8e-3,
    });
  }

  const ln = (x: Tensor, k: number, w: Tensor | null, b: Tensor | null, eps = 1e-5) => ({
    inputs: [x, ...(w ? [w] : []), ...(b ? [b] : [])],
    attrs: { normalizedDims: k, eps, weight: w !== null, bias: b !== null },
  });
  const lnCases: [string, () => ReturnType<typeof ln>][] = [
    ["[6,45] affine", () => ln(r([6, 45]).mul(2).add(1), 1, r([45]), r([45]))],
    ["[300,131] pooled rows, weight only", () => ln(r([300, 131]), 1, r([131]), null)],
    ["[3,4,20] over 2 dims, bias only", () => ln(r([3, 4, 20]), 2, null, r([4, 20]))],
    ["transposed [9,5] no affine", () => ln(rT([9, 5]), 1, null, null, 1e-3)],
    ["bfloat16", () => ln(r([4, 19], "bfloat16"), 1, r([19], "bfloat16"), r([19], "bfloat16"))],
  ];
  for (const [what, make] of lnCases) {
    const rtol = what === "bfloat16" ? 8e-3 : 2e-5;
    cases.push({ name: `layerNorm ${what}`, op: "layerNorm", make, rtol });
    for (const [needWeight, needBias] of [
      [true, true],
      [false, false],
    ]) {
      cases.push({
        name: `layerNormBackward ${what} needWeight=${needWeight} needBias=${needBias}`,
        op: "layerNormBackward",
        rtol: rtol * 2,
        make: () => {
          const c = make();
          const [y, mean, rstd] = apply("layerNorm", c.inputs, c.attrs) as [Tensor, Tensor, Tensor];
          const x = c.inputs[0] as Tensor;
          return {
            inputs: [x, ...(c.attrs.weight ? [c.inputs[1] as Tensor] : []), mean, rstd, r([...y.shape], y.dtype)],
            attrs: {
              normalizedDims: c.attrs.normalizedDims,
              weight: c.attrs.weight,
              needWeight: needWeight && c.attrs.weight,
              needBias: needBias && c.attrs.bias,
            },
          };
        },
      });
    }
  }

  const rms = (x: Tensor, w: Tensor | null) => ({
    inputs: [x, ...(w ? [w] : [])],
    attrs: { eps: 1e-6, weight: w !== null },
  });
  const rmsCases: [string, () => ReturnType<typeof rms>][] = [
    ["[5,67] weight", () => rms(r([5, 67]), r([67]))],
    ["[260,130] pooled rows", () => rms(r([260, 130]), r([130]))],
    ["transposed [11,3] no weight", () => rms(rT([11, 3]), null)],
    ["float16", () => rms(r([3, 17], "float16"), r([17], "float16"))],
  ];
  for (const [what, make] of rmsCases) {
    const rtol = what === "float16" ? 8e-3 : 2e-5;
    cases.push({ name: `rmsNorm ${what}`, op: "rmsNorm", make, rtol });
    cases.push({
      name: `rmsNormBackward ${what}`,
      op: "rmsNormBackward",
      rtol: rtol * 2,
      make: () => {
        const c = make();
        const [y, rstd] = apply("rmsNorm", c.inputs, c.attrs) as [Tensor, Tensor];
        return {
          inputs: [...c.inputs, rstd, r([...y.shape], y.dtype)],
          attrs: { weight: c.attrs.weight, needWeight: c.attrs.weight },
        };
      },
    });
  }

  const acts: [string, object][] = [
    ["gelu", { approximate: "none" }],
    ["gelu", { approximate: "tanh" }],
    ["silu", {}],
  ];
  for (const [op, attrs] of acts) {
    const label = `${op}${"approximate" in attrs ? ` ${(attrs as { approximate: string }).approximate}` : ""}`;
    const inputs: [string, () => Tensor, DType][] = [
      ["[7,37] wide range", () => r([7, 37]).mul(4), "float32"],
      ["[300,257] pooled", () => r([300, 257]).mul(3), "float32"],
      ["transposed [5,9]", () => rT([5, 9]).mul(3), "float32"],
      ["extremes", () => tensor([-30, -12, -9, -5.5, -1e-4, 0, 1e-4, 5.5, 9, 12, 30]), "float32"],
      ["bfloat16", () => r([5, 9], "bfloat16").mul(3), "bfloat16"],
    ];
    for (const [what, make, dtype] of inputs) {
      const rtol = dtype === "float32" ? 1e-5 : 8e-3;
      cases.push({ name: `${label} ${what}`, op, make: () => ({ inputs: [make()], attrs }), rtol });
      cases.push({
        name: `${op}Backward ${label} ${what}`,
        op: `${op}Backward`,
        make: () => {
          const x = make();
          return { inputs: [x, neg(r([...x.shape], x.dtype))], attrs };
        },
        rtol,
      });
    }
  }
  return cases;
}
