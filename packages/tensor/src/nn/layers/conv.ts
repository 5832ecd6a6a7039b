import { type ConvOptions, conv1d, conv2d } from "../../ops/nn/conv.ts";
import type { Tensor } from "../../tensor.ts";
import { fanInUniform } from "../init.ts";
import { Module } from "../module.ts";

/** Options of Conv1d/Conv2d. */
export interface ConvLayerOptions extends ConvOptions {
  bias?: boolean;
}

/** 1-d convolution: weight [out, in/groups, k], bias [out]. */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: ConvLayerOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    const fanIn = (inChannels / groups) * kernelSize;
    this.weight = this.registerParameter("weight", fanInUniform([outChannels, inChannels / groups, kernelSize], fanIn));
    this.bias = this.registerParameter("bias", opts.bias === false ? null : fanInUniform([outChannels], fanIn));
  }
  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.opts);
  }
}

/** 2-d convolution: weight [out, in/groups, kh, kw], bias [out]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    readonly opts: ConvLayerOptions = {},
  ) {
    super();
    this.kernelSize = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const groups = opts.groups ?? 1;
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    this.weight = this.registerParameter(
      "weight",
      fanInUniform([outChannels, inChannels / groups, ...this.kernelSize], fanIn),
    );
    this.bias = this.registerParameter("bias", opts.bias === false ? null : fanInUniform([outChannels], fanIn));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}
