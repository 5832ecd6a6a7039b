import { gelu } from "../../ops/elementwise/gelu.ts";
import { silu } from "../../ops/elementwise/silu.ts";
import { relu, tanh } from "../../ops/elementwise/unary.ts";
import type { Tensor } from "../../tensor.ts";
import { Module } from "../module.ts";

/** max(x, 0) as a module (for `Sequential`). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** GELU as a module. */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** SiLU as a module. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** tanh as a module. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
