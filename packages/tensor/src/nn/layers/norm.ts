import { ones, zeros } from "../../ops/creation/fill.ts";
import { layerNorm } from "../../ops/nn/layer-norm.ts";
import { rmsNorm } from "../../ops/nn/rms-norm.ts";
import type { Tensor } from "../../tensor.ts";
import { Module } from "../module.ts";

/** Layer normalisation over the trailing `normalizedShape` dims, with affine weight and bias. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(
    normalizedShape: number | number[],
    readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.registerParameter("weight", affine ? ones(this.normalizedShape) : null);
    this.bias = this.registerParameter("bias", affine && opts.bias !== false ? zeros(this.normalizedShape) : null);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}

/** RMS normalisation over the last dim with a learned scale (eps 1e-6 by default). */
export class RMSNorm extends Module {
  readonly weight: Tensor | null;
  constructor(
    readonly dim: number,
    readonly opts: { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter("weight", opts.elementwiseAffine === false ? null : ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.opts.eps ?? 1e-6);
  }
}
