/**
 * The feature-extraction pipeline: the encoder's last hidden state per token, as Python's
 * `FeatureExtractionPipeline`, or one sentence embedding per text with `pooling` ("mean" over
 * the attention mask, as sentence-transformers; "cls" the first token) and optional L2
 * normalisation.
 */
import type { EncoderOutput, TextEncoderInput } from "../modeling/encoder-outputs.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { encodeBatch, logitsOf, textList } from "./shared.ts";

/** A model whose `forward` returns hidden states (any encoder's base model). */
export interface EncoderModel {
  forward(input: TextEncoderInput): EncoderOutput;
}

/** Options of one call. */
export interface FeatureExtractionOptions {
  /** "none" (default): per-token vectors; "mean": masked mean; "cls": the first token. */
  pooling?: "none" | "mean" | "cls";
  /** Divide each pooled vector by its L2 norm. */
  normalize?: boolean;
}

/** A callable feature-extraction pipeline. */
export class FeatureExtractionPipeline {
  constructor(
    readonly model: EncoderModel,
    readonly tokenizer: PreTrainedTokenizer,
  ) {}

  /**
   * Hidden states `[1, T, E]` per text (pooling "none", as Python), or one vector `E` per
   * text; a single string gives its result alone, a list one result per text.
   *
   * @example
   * const [a, b] = (await embed.call(["first", "second"], { pooling: "mean", normalize: true })) as number[][];
   */
  async call(
    input: string | string[],
    options: FeatureExtractionOptions = {},
  ): Promise<number[] | number[][] | number[][][] | number[][][][]> {
    const { texts, single } = textList("feature-extraction", input);
    const { enc, input: batch } = encodeBatch(this.tokenizer, texts);
    const { data, shape } = logitsOf(() => this.model.forward(batch).lastHiddenState);
    const [, T, E] = shape as [number, number, number];
    const pooling = options.pooling ?? "none";
    const results = texts.map((_, b): number[] | number[][][] => {
      const mask = enc.attentionMask?.[b] ?? new Array<number>(T).fill(1);
      const row = (t: number) => Array.from(data.subarray((b * T + t) * E, (b * T + t + 1) * E));
      if (pooling === "none") {
        const n = mask.reduce((s, m) => s + m, 0);
        return [Array.from({ length: n }, (_, t) => row(t))];
      }
      let v: number[];
      if (pooling === "cls") v = row(0);
      else {
        v = new Array<number>(E).fill(0);
        let n = 0;
        for (let t = 0; t < T; t++) {
          if (!mask[t]) continue;
          n++;
          const r = row(t);
          for (let e = 0; e < E; e++) v[e] = (v[e] as number) + (r[e] as number);
        }
        v = v.map((x) => x / Math.max(n, 1e-9));
      }
      if (options.normalize) {
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        v = v.map((x) => x / Math.max(norm, 1e-12));
      }
      return v;
    });
    return single ? (results[0] as number[] | number[][][]) : (results as number[][] | number[][][][]);
  }
}
