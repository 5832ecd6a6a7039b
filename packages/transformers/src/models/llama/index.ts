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
export { LLAMA_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { LlamaConfig } from "./config.ts";
import { LlamaForCausalLM, LlamaModel } from "./modeling.ts";

/** Llama's registry entry. */
export const llamaFamily: ModelFamily = {
  modelType: "llama",
  config: LlamaConfig,
  tasks: { model: LlamaModel, causalLM: LlamaForCausalLM },
};
