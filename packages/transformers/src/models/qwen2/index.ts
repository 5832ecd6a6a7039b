export { Qwen2Config } from "./config.ts";
export { Qwen2ForCausalLM, Qwen2Model } from "./modeling.ts";

import type { ModelFamily } from "../registry-types.ts";
import { Qwen2Config } from "./config.ts";
import { Qwen2ForCausalLM, Qwen2Model } from "./modeling.ts";

/** Qwen2's registry entry. */
export const qwen2Family: ModelFamily = {
  modelType: "qwen2",
  config: Qwen2Config,
  tasks: { model: Qwen2Model, causalLM: Qwen2ForCausalLM },
};
