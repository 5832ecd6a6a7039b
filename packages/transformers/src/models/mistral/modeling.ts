/**
 * Mistral (Jiang et al., 2023): Llama's architecture with sliding-window attention (each
 * position sees the last `sliding_window` positions) and no biases.
 */
import { type DecoderSpec, LlamaForCausalLM, LlamaModel } from "../llama/modeling.ts";
import { MistralConfig } from "./config.ts";

function mistralSpec(config: MistralConfig): DecoderSpec {
  return { qkvBias: false, outBias: false, mlpBias: false, slidingWindow: config.sliding_window ?? null };
}

/** The bare Mistral decoder. */
export class MistralModel extends LlamaModel {
  static override readonly configClass: typeof MistralConfig = MistralConfig;
  static override spec(config: MistralConfig): DecoderSpec {
    return mistralSpec(config);
  }
}

/** Mistral with its language-modelling head. */
export class MistralForCausalLM extends LlamaForCausalLM {
  static override readonly configClass: typeof MistralConfig = MistralConfig;
  static override readonly baseModel: typeof LlamaModel = MistralModel;
}
