/**
 * The text-classification pipeline, as Python's `TextClassificationPipeline`: softmax over the
 * labels (sigmoid for one label or multi-label problems, none for regression), best first.
 */
import { labelOf } from "../configuration/labels.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { encodeBatch, logitsOf, sigmoid, softmax, type TextClassifierModel, textList, topIndices } from "./shared.ts";

/** One label and its score. */
export interface ClassificationOutput {
  label: string;
  score: number;
}

/** Options of one call. */
export interface TextClassificationOptions {
  /** How many labels per input (default 1; null for all). */
  topK?: number | null;
  /** "softmax", "sigmoid" or "none"; default from the config's problem_type and label count. */
  functionToApply?: "softmax" | "sigmoid" | "none";
  /** Second text of each pair (NLI, paraphrase). */
  textPair?: string | string[];
}

/** Python's default `function_to_apply`. */
export function defaultFunction(
  config: { get(key: string): unknown },
  numLabels: number,
): "softmax" | "sigmoid" | "none" {
  const problem = config.get("problem_type");
  if (problem === "multi_label_classification" || numLabels === 1) return "sigmoid";
  if (problem === "regression") return "none";
  return "softmax";
}

/** A callable text-classification pipeline. */
export class TextClassificationPipeline {
  constructor(
    readonly model: TextClassifierModel,
    readonly tokenizer: PreTrainedTokenizer,
  ) {}

  /**
   * Classifies one text (→ a list of the `topK` labels) or a list (→ the best label of each
   * text, or a list per text when `topK` is given), as Python does.
   *
   * @example
   * const [{ label, score }] = await classifier.call("I love this!");
   */
  async call(
    input: string | string[],
    options: TextClassificationOptions = {},
  ): Promise<ClassificationOutput[] | ClassificationOutput[][]> {
    // Python without top_k: one dict per text (a list of one for a single string).
    const { texts, single } = textList("text-classification", input);
    const pair =
      options.textPair === undefined
        ? undefined
        : typeof options.textPair === "string"
          ? [options.textPair]
          : options.textPair;
    const { input: batch } = encodeBatch(this.tokenizer, texts, { textPair: pair });
    const { data, shape } = logitsOf(() => this.model.forward(batch).logits);
    const C = shape[1] as number;
    const fn = options.functionToApply ?? defaultFunction(this.model.config, C);
    const k = options.topK === null ? C : Math.min(options.topK ?? 1, C);
    const results = texts.map((_, b) => {
      const row = data.subarray(b * C, (b + 1) * C);
      const scores = fn === "softmax" ? softmax(row) : fn === "sigmoid" ? sigmoid(row) : Array.from(row);
      return topIndices(scores, k).map((i) => ({
        label: labelOf(this.model.config as PretrainedConfig, i),
        score: scores[i] as number,
      }));
    });
    if (single) return results[0] as ClassificationOutput[];
    return options.topK === undefined ? results.map((r) => r[0] as ClassificationOutput) : results;
  }
}
