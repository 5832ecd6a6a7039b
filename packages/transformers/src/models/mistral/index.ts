export { MistralConfig } from "./config.ts";
export { MistralForCausalLM, MistralModel } from "./modeling.ts";

import type { ModelFamily } from "../registry-types.ts";
import { MistralConfig } from "./config.ts";
import { MistralForCausalLM, MistralModel } from "./modeling.ts";

/** Mistral's registry entry. */
export const mistralFamily: ModelFamily = {
  modelType: "mistral",
  config: MistralConfig,
  tasks: { model: MistralModel, causalLM: MistralForCausalLM },
};
