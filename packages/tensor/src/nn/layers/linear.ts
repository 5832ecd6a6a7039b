import type { DType } from "../../dtype.ts";
import { linear } from "../../ops/nn/linear.ts";
import type { ProductOptions } from "../../ops/nn/matmul.ts";
import { cast } from "../../ops/util.ts";
import type { Tensor } from "../../tensor.ts";
import { fanInUniform } from "../init.ts";
import { Module } from "../module.ts";

/**
 * y = x·Wᵀ + b, weight [outFeatures, inFeatures] initialised U(±1/√inFeatures) as PyTorch.
 *
 * @example
 * const fc = new Linear(4, 3);
 * const y = fc.forward(randn([2, 4])); // [2, 3]
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; dtype?: DType } = {},
  ) {
    super();
    const d = opts.dtype ?? "float32";
    this.weight = this.registerParameter("weight", cast(fanInUniform([outFeatures, inFeatures], inFeatures), d));
    this.bias = this.registerParameter(
      "bias",
      opts.bias === false ? null : cast(fanInUniform([outFeatures], inFeatures), d),
    );
  }
  /** `options`: a residual added and an activation applied by the product itself (see `matmul`). */
  forward(x: Tensor, options?: ProductOptions): Tensor {
    return linear(x, this.weight, this.bias, options);
  }
}
