/**
 * Prompt tuning without changing the model: the input `Embedding` is wrapped so that ids at or
 * above the vocabulary size (`vocab + k` for virtual token k) look up the learned prompt table
 * instead. `PeftModel` puts those ids in front of every input, which gives the model the same
 * input embeddings as PEFT's `cat(prompt, embed(ids))`.
 *
 * Shapes: B batch, T length, n virtual tokens, E embedding size, V vocabulary.
 */
import {
  add,
  clamp,
  type Embedding,
  embedding,
  ge,
  Module,
  mul,
  sub,
  type Tensor,
  to,
  unsqueeze,
} from "@hearth/tensor";

/** The input embedding plus `prompt_embeddings` `[n, E]` for ids `V .. V + n − 1`. */
export class PromptTuningEmbedding extends Module {
  readonly vocabSize: number;
  prompt_embeddings: Tensor;

  constructor(
    readonly base: Embedding,
    prompt: Tensor,
  ) {
    super();
    this.registerModule("base", base);
    this.vocabSize = base.weight.shape[0] as number;
    this.prompt_embeddings = this.registerParameter("prompt_embeddings", prompt);
  }

  /** `ids` `[B, T]` → `[B, T, E]`. */
  forward(ids: Tensor): Tensor {
    const V = this.vocabSize;
    const n = this.prompt_embeddings.shape[0] as number;
    const isVirtual = ge(ids, V);
    const real = this.base.forward(clamp(ids, 0, V - 1));
    const virt = embedding(clamp(sub(ids, V), 0, n - 1), this.prompt_embeddings);
    const w = unsqueeze(to(isVirtual, real.dtype), -1);
    // blend by the 0/1 mask so gradients reach only the rows that were used
    return add(mul(real, sub(1, w)), mul(virt, w));
  }
}
