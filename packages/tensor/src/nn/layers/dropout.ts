import { dropout } from "../../ops/nn/dropout.ts";
import type { Tensor } from "../../tensor.ts";
import { Module } from "../module.ts";

/** Inverted dropout with probability `p`, active only in training mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
