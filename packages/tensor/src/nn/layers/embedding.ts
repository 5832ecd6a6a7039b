import { writeNumbers } from "../../access.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import { randn } from "../../ops/creation/random.ts";
import { mul, ne } from "../../ops/elementwise/binary.ts";
import { unsqueeze } from "../../ops/movement/reshape.ts";
import { embedding } from "../../ops/nn/embedding.ts";
import { cast } from "../../ops/util.ts";
import type { Tensor } from "../../tensor.ts";
import { Module } from "../module.ts";

/**
 * A lookup table [numEmbeddings, embeddingDim] initialised N(0, 1). With `paddingIdx`, that
 * row starts at zero and receives no gradient.
 */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    readonly opts: { paddingIdx?: number } = {},
  ) {
    super();
    const w = randn([numEmbeddings, embeddingDim]);
    if (opts.paddingIdx !== undefined) {
      noGrad(() =>
        writeNumbers(
          w.view_().data,
          w.dtype,
          new Float64Array(embeddingDim),
          (opts.paddingIdx as number) * embeddingDim,
        ),
      );
    }
    this.weight = this.registerParameter("weight", w);
  }
  forward(ids: Tensor): Tensor {
    const out = embedding(ids, this.weight);
    if (this.opts.paddingIdx === undefined) return out;
    return mul(out, unsqueeze(cast(ne(ids, this.opts.paddingIdx), out.dtype), -1));
  }
}
