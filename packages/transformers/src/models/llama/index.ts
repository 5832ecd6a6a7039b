export { LlamaConfig } from "./config.ts";
export {
  type DecoderSpec,
  LlamaAttention,
  LlamaDecoderLayer,
  LlamaForCausalLM,
  LlamaMLP,
  LlamaModel,
  llamaSpec,
} from "./modeling.ts";
export { LlamaForSequenceClassification } from "./sequence-classification.ts";
export { LLAMA_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import "./init-weights.ts";
import { LlamaConfig } from "./config.ts";
import { LlamaForCausalLM, LlamaModel } from "./modeling.ts";
import { LlamaForSequenceClassification } from "./sequence-classification.ts";

/** Llama's registry entry. */
export const llamaFamily: ModelFamily = {
  modelType: "llama",
  config: LlamaConfig,
  tasks: { model: LlamaModel, causalLM: LlamaForCausalLM, sequenceClassification: LlamaForSequenceClassification },
};
