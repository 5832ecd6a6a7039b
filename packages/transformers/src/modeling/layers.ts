/**
 * Layers transformers defines on top of the engine's `nn`: GPT-2's `Conv1D` (a linear layer
 * stored transposed, `weight [in, out]`) and the output head that shares the input embedding.
 */
import {
  addmm,
  type DType,
  type Embedding,
  Linear,
  linear,
  Module,
  type ProductOptions,
  randn,
  type Tensor,
  to,
  zeros,
} from "@hearth/tensor";

/**
 * Python's `transformers.pytorch_utils.Conv1D`: y = x·W + b with `weight [nx, nf]` (the
 * transpose of `Linear`'s layout, as GPT-2 checkpoints store it).
 *
 * @example
 * const proj = new Conv1D(192, 64); // 64 → 192
 */
export class Conv1D extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  /** `nf` output features, `nx` input features (Python's argument order). */
  constructor(
    readonly nf: number,
    readonly nx: number,
    opts: { dtype?: DType; initializerRange?: number } = {},
  ) {
    super();
    const w = randn([nx, nf], { std: opts.initializerRange ?? 0.02 });
    this.weight = this.registerParameter("weight", opts.dtype && opts.dtype !== "float32" ? to(w, opts.dtype) : w);
    this.bias = this.registerParameter("bias", zeros([nf], { dtype: opts.dtype ?? "float32" }));
  }

  /**
   * `x·W + b` (Python's torch.addmm(bias, x, weight)): the bias is added in the pass that writes
   * the product, and so are `options.residual` (of the output's shape) and `options.activation`
   * when given (see `addmm`), as for `Linear.forward`.
   */
  forward(x: Tensor, options?: ProductOptions): Tensor {
    return addmm(this.bias, x, this.weight, options);
  }
}

/**
 * An output projection whose weight is the input embedding's (`tie_word_embeddings`). It
 * registers that very tensor as its `weight`, so the parameter exists once and the state dict
 * lists it under both names, as PyTorch does.
 */
export class TiedLinear extends Module {
  #low: Tensor | null = null;

  constructor(readonly embedding: Embedding) {
    super();
    this.registerParameter("weight", embedding.weight);
  }

  get weight(): Tensor {
    return this.embedding.weight;
  }

  /**
   * Multiplies with a 16-bit copy of the shared weight from now on (weight-only low precision,
   * `./weight-only.ts`), leaving the embedding's own lookup table untouched.
   */
  storeLowPrecision(dtype: DType): void {
    this.#low?.dispose();
    this.#low = to(this.embedding.weight.detach(), dtype);
  }

  /** The `[vocab, dim]` matrix `forward` multiplies with: the 16-bit copy when one is stored. */
  get matmulWeight(): Tensor {
    return this.#low ?? this.embedding.weight;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.matmulWeight);
  }
}

/**
 * A decoder's output head over `embedding`'s vocabulary: the embedding itself when `tied`, else
 * a bias-free Linear of the same shape (Python's `lm_head` / Whisper's `proj_out`).
 */
export function outputHead(embedding: Embedding, tied: boolean): TiedLinear | Linear {
  const [vocab, dim] = embedding.weight.shape as [number, number];
  return tied ? new TiedLinear(embedding) : new Linear(dim, vocab, { bias: false });
}
