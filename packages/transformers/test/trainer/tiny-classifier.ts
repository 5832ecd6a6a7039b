/** A tiny classification model and data set shared by the trainer tests (and their child processes). */
import { crossEntropy, LayerNorm, Linear, Module, type Tensor, tensor } from "@hearth/tensor";

/** A bag-of-tokens classifier: mean of one-hot ids → LayerNorm → Linear. */
export class TinyClassifier extends Module {
  readonly norm = this.registerModule("norm", new LayerNorm([8]));
  readonly head = this.registerModule("head", new Linear(8, 2));
  forward(b: { inputIds: Tensor; labels?: Tensor }): { loss?: Tensor; logits: Tensor } {
    const rows = b.inputIds.tolistSync() as number[][];
    const x = tensor(rows.map((r) => Array.from({ length: 8 }, (_, k) => r.filter((v) => v === k).length / r.length)));
    const logits = this.head.forward(this.norm.forward(x));
    return { logits, loss: b.labels ? crossEntropy(logits, b.labels) : undefined };
  }
}

// label 1 when token 3 appears more often than token 5
export const data = Array.from({ length: 48 }, (_, i) => {
  const ids = Array.from({ length: 4 + (i % 4) }, (_, t) => [3, 5, 1, 2][(i * 3 + t * (1 + (i % 2))) % 4] as number);
  return { input_ids: ids, label: ids.filter((v) => v === 3).length > ids.filter((v) => v === 5).length ? 1 : 0 };
});
