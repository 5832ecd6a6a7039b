/** The fill-mask pipeline, as Python's `FillMaskPipeline`: the most likely tokens for each mask token. */
import { ErrorCodes, fail } from "../errors.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { encodeBatch, logitsOf, softmax, type TextClassifierModel, textList, topIndices } from "./shared.ts";

/** One candidate. */
export interface FillMaskOutput {
  score: number;
  token: number;
  token_str: string;
  /** The input with this token in place of the mask (decoded, special tokens skipped). */
  sequence: string;
}

/** A callable fill-mask pipeline. */
export class FillMaskPipeline {
  constructor(
    readonly model: TextClassifierModel,
    readonly tokenizer: PreTrainedTokenizer,
  ) {}

  /**
   * Candidates for the mask token of each input (`topK`, default 5). With several masks in one
   * input, one list per mask.
   *
   * @example
   * const [best] = await unmasker.call("Paris is the [MASK] of France.");
   */
  async call(
    input: string | string[],
    options: { topK?: number; targets?: string[] } = {},
  ): Promise<FillMaskOutput[] | FillMaskOutput[][] | FillMaskOutput[][][]> {
    const { texts, single } = textList("fill-mask", input);
    const maskId = this.tokenizer.maskTokenId;
    if (maskId === undefined) throw fail(ErrorCodes.PIPELINE_BAD_INPUT, "fill-mask: the tokenizer has no mask token");
    const { enc, input: batch } = encodeBatch(this.tokenizer, texts);
    const { data, shape } = logitsOf(() => this.model.forward(batch).logits);
    const [, T, V] = shape as [number, number, number];
    let allowed: number[] | null = null;
    if (options.targets) {
      allowed = options.targets.map((t) => {
        const id = this.tokenizer.tokenToId(t) ?? this.tokenizer.encode(t, { addSpecialTokens: false })[0];
        if (id === undefined)
          throw fail(ErrorCodes.PIPELINE_BAD_INPUT, `fill-mask: target '${t}' is not in the vocabulary`);
        return id;
      });
    }
    const k = Math.min(options.topK ?? 5, allowed?.length ?? V);
    const results = enc.inputIds.map((ids, b) => {
      const masks = ids.flatMap((id, t) => (id === maskId ? [t] : []));
      if (!masks.length) {
        throw fail(
          ErrorCodes.PIPELINE_BAD_INPUT,
          `fill-mask: input ${b} has no ${this.tokenizer.convertIdsToTokens([maskId])[0]} token`,
        );
      }
      const perMask = masks.map((t) => {
        const probs = softmax(data.subarray((b * T + t) * V, (b * T + t + 1) * V));
        const candidates = allowed ?? probs.map((_, i) => i);
        const order = topIndices(
          candidates.map((i) => probs[i] as number),
          k,
        ).map((i) => candidates[i] as number);
        return order.map((token): FillMaskOutput => {
          const filled = ids.slice();
          filled[t] = token;
          const real = filled.filter((_, i) => (enc.attentionMask?.[b]?.[i] ?? 1) === 1);
          return {
            score: probs[token] as number,
            token,
            token_str: this.tokenizer.decode([token]),
            sequence: this.tokenizer.decode(real, { skipSpecialTokens: true }),
          };
        });
      });
      return perMask.length === 1 ? (perMask[0] as FillMaskOutput[]) : perMask;
    });
    return single ? (results[0] as FillMaskOutput[] | FillMaskOutput[][]) : (results as FillMaskOutput[][]);
  }
}
