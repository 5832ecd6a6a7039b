/**
 * Qwen2 (Qwen team, 2024): Llama's architecture with biases on the q/k/v projections (none on
 * the output projection or MLP) and an optional sliding window (`use_sliding_window`).
 */
import { type DecoderSpec, LlamaForCausalLM, LlamaModel } from "../llama/modeling.ts";
import { Qwen2Config } from "./config.ts";

function qwen2Spec(config: Qwen2Config): DecoderSpec {
  return {
    qkvBias: true,
    outBias: false,
    mlpBias: false,
    slidingWindow: config.use_sliding_window ? (config.sliding_window ?? null) : null,
  };
}

/** The bare Qwen2 decoder. */
export class Qwen2Model extends LlamaModel {
  static override readonly configClass: typeof Qwen2Config = Qwen2Config;
  static override spec(config: Qwen2Config): DecoderSpec {
    return qwen2Spec(config);
  }
}

/** Qwen2 with its language-modelling head. */
export class Qwen2ForCausalLM extends LlamaForCausalLM {
  static override readonly configClass: typeof Qwen2Config = Qwen2Config;
  static override readonly baseModel: typeof LlamaModel = Qwen2Model;
}
