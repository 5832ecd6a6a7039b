/** `pipeline(task, model)`: the one-line entry point, as Python's `transformers.pipeline`. */
import { ErrorCodes, fail } from "../errors.ts";
import type { FromPretrainedOptions, PreTrainedModelForCausalLM } from "../modeling/pretrained-model.ts";
import { AutoModelForCausalLM } from "../models/auto.ts";
import { AutoTokenizer } from "../tokenizers/auto.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { TextGenerationPipeline } from "./text-generation.ts";

export { type TextGenerationOptions, type TextGenerationOutput, TextGenerationPipeline } from "./text-generation.ts";

/** The tasks `pipeline` knows. */
export const PIPELINE_TASKS = ["text-generation"] as const;

/**
 * Builds a pipeline. `model` is a loaded model or a folder/repository id (the tokenizer is
 * then loaded from the same place unless given).
 *
 * @example
 * const generator = await pipeline("text-generation", "path/to/model");
 * const [out] = await generator.call("Once upon a time", { maxNewTokens: 30 });
 */
export async function pipeline(
  task: "text-generation",
  model: string | PreTrainedModelForCausalLM,
  options: { tokenizer?: string | PreTrainedTokenizer } & FromPretrainedOptions = {},
): Promise<TextGenerationPipeline> {
  if (task !== "text-generation") {
    throw fail(
      ErrorCodes.PIPELINE_BAD_INPUT,
      `pipeline: unknown task '${String(task)}'; supported: ${PIPELINE_TASKS.join(", ")}`,
    );
  }
  const { tokenizer, ...loadOptions } = options;
  const m = typeof model === "string" ? await AutoModelForCausalLM.fromPretrained(model, loadOptions) : model;
  let tok = tokenizer;
  if (tok === undefined) {
    if (typeof model !== "string") {
      throw fail(ErrorCodes.PIPELINE_BAD_INPUT, "pipeline: pass { tokenizer } when 'model' is an already loaded model");
    }
    tok = model;
  }
  const t = typeof tok === "string" ? await AutoTokenizer.fromPretrained(tok) : tok;
  return new TextGenerationPipeline(m, t);
}
