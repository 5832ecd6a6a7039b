export { CONFIG_NAME, type ConfigClass, PretrainedConfig } from "./configuration/pretrained-config.ts";
export { type ErrorCode, ErrorCodes, HearthTransformersError } from "./errors.ts";
export { BeamHypotheses, BeamSearchScorer } from "./generation/beam-search.ts";
export { GENERATION_CONFIG_NAME, GenerationConfig, type GenerationOptions } from "./generation/config.ts";
export {
  type GenerateOptions,
  type GenerateOutput,
  type GenerativeModel,
  generate,
  positionsFromMask,
} from "./generation/generate.ts";
export * from "./generation/logits-process.ts";
export * from "./generation/stopping.ts";
export { type Streamer, TextStreamer, type TokenDecoder } from "./generation/streamer.ts";
export { decoderMask, maskValue, scaledDotProductAttention } from "./modeling/attention.ts";
export { KVCache } from "./modeling/kv-cache.ts";
export { Conv1D, TiedLinear } from "./modeling/layers.ts";
export type { CausalLMInput, CausalLMOutput, DecoderInput, DecoderOutput } from "./modeling/outputs.ts";
export {
  type FromPretrainedOptions as ModelFromPretrainedOptions,
  type LoadingInfo,
  type ModelClass,
  PreTrainedModel,
  PreTrainedModelForCausalLM,
} from "./modeling/pretrained-model.ts";
export { type ModelResolver, type ResolveOptions, resolveModelDir, setModelResolver } from "./modeling/resolve.ts";
export { applyRotary, type RopeOptions, type RopeScaling, RotaryEmbedding } from "./modeling/rope.ts";
export { AutoConfig, AutoModel, AutoModelForCausalLM, familyOf } from "./models/auto.ts";
export * from "./models/gpt2/index.ts";
export * from "./models/llama/index.ts";
export * from "./models/mistral/index.ts";
export * from "./models/qwen2/index.ts";
export { MODEL_FAMILIES, type ModelFamily, type TaskName } from "./models/registry.ts";
export {
  PIPELINE_TASKS,
  pipeline,
  type TextGenerationOptions,
  type TextGenerationOutput,
  TextGenerationPipeline,
} from "./pipelines/index.ts";
export * from "./tokenizers/index.ts";
export * from "./trainer/index.ts";
