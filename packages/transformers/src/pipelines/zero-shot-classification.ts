/**
 * The zero-shot-classification pipeline, as Python's `ZeroShotClassificationPipeline`: an NLI
 * model scores "premise → hypothesis" for each candidate label's hypothesis; the entailment
 * logits are compared across labels (softmax), or, with `multiLabel`, entailment against
 * contradiction per label.
 */
import { labelId } from "../configuration/labels.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { encodeBatch, logitsOf, softmax, type TextClassifierModel, textList } from "./shared.ts";

/** The result for one sequence. */
export interface ZeroShotOutput {
  sequence: string;
  labels: string[];
  scores: number[];
}

function nliIndex(config: PretrainedConfig, prefix: string): number {
  const map = (config.get("label2id") ?? {}) as Record<string, number>;
  const key = Object.keys(map).find((k) => k.toLowerCase().startsWith(prefix));
  return key === undefined ? -1 : (labelId(config, key) as number);
}

/** A callable zero-shot-classification pipeline. */
export class ZeroShotClassificationPipeline {
  readonly entailmentId: number;
  readonly contradictionId: number;

  constructor(
    readonly model: TextClassifierModel,
    readonly tokenizer: PreTrainedTokenizer,
  ) {
    const config = model.config as PretrainedConfig;
    this.entailmentId = nliIndex(config, "entail");
    this.contradictionId = nliIndex(config, "contra");
    if (this.entailmentId < 0) {
      throw fail(
        ErrorCodes.PIPELINE_BAD_INPUT,
        "zero-shot-classification: the model's label2id has no 'entailment' label; use an NLI model",
      );
    }
  }

  /**
   * Scores `candidateLabels` for one text or each text of a list.
   *
   * @example
   * const { labels, scores } = await zsc.call("one day I will see the world", { candidateLabels: ["travel", "cooking"] });
   */
  async call(
    input: string | string[],
    options: { candidateLabels: string[] | string; hypothesisTemplate?: string; multiLabel?: boolean },
  ): Promise<ZeroShotOutput | ZeroShotOutput[]> {
    const { texts, single } = textList("zero-shot-classification", input);
    const labels =
      typeof options?.candidateLabels === "string"
        ? options.candidateLabels.split(",").map((s) => s.trim())
        : options?.candidateLabels;
    if (!labels?.length)
      throw fail(ErrorCodes.PIPELINE_BAD_INPUT, "zero-shot-classification: give at least one candidate label");
    const template = options.hypothesisTemplate ?? "This example is {}.";
    if (!template.includes("{}")) {
      throw fail(
        ErrorCodes.PIPELINE_BAD_INPUT,
        `zero-shot-classification: hypothesisTemplate '${template}' has no {} for the label`,
      );
    }
    const results = texts.map((text) => {
      const { input: batch } = encodeBatch(
        this.tokenizer,
        labels.map(() => text),
        { textPair: labels.map((l) => template.replace("{}", l)) },
      );
      const { data, shape } = logitsOf(() => this.model.forward(batch).logits);
      const C = shape[1] as number;
      const row = (i: number) => data.subarray(i * C, (i + 1) * C);
      let scores: number[];
      if (options.multiLabel || labels.length === 1) {
        if (this.contradictionId < 0) {
          throw fail(
            ErrorCodes.PIPELINE_BAD_INPUT,
            "zero-shot-classification: multiLabel needs a 'contradiction' label in label2id",
          );
        }
        scores = labels.map((_, i) => {
          const r = row(i);
          return softmax([r[this.contradictionId] as number, r[this.entailmentId] as number])[1] as number;
        });
      } else {
        scores = softmax(labels.map((_, i) => row(i)[this.entailmentId] as number));
      }
      const order = labels.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
      return {
        sequence: text,
        labels: order.map((i) => labels[i] as string),
        scores: order.map((i) => scores[i] as number),
      };
    });
    return single ? (results[0] as ZeroShotOutput) : results;
  }
}
