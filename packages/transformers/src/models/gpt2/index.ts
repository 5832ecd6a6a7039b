export { GPT2Config } from "./config.ts";
export { GPT2Attention, GPT2Block, GPT2LMHeadModel, GPT2MLP, GPT2Model } from "./modeling.ts";
export { GPT2ForSequenceClassification } from "./sequence-classification.ts";
export { GPT2_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import "./init-weights.ts";
import { GPT2Config } from "./config.ts";
import { GPT2LMHeadModel, GPT2Model } from "./modeling.ts";
import { GPT2ForSequenceClassification } from "./sequence-classification.ts";

/** GPT-2's registry entry. */
export const gpt2Family: ModelFamily = {
  modelType: "gpt2",
  config: GPT2Config,
  tasks: { model: GPT2Model, causalLM: GPT2LMHeadModel, sequenceClassification: GPT2ForSequenceClassification },
};
