export { ffmpegDecode, readAudio, resampleAudio } from "./audio/decode.ts";
export { rfft } from "./audio/fft.ts";
export { hannWindow, logMelSpectrogram, melFilterBank } from "./audio/mel.ts";
export * from "./audio/wav.ts";
export { labelId, labelOf, numLabels } from "./configuration/labels.ts";
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
export * from "./image/image.ts";
export * from "./image/resample.ts";
export {
  type DecoderAttentionMask,
  decoderAttentionMask,
  decoderMask,
  maskValue,
  scaledDotProductAttention,
} from "./modeling/attention.ts";
export * from "./modeling/classification-loss.ts";
export type {
  ClassifierOutput,
  EncoderOutput,
  LabeledTextInput,
  TextEncoderInput,
} from "./modeling/encoder-outputs.ts";
export { KVCache } from "./modeling/kv-cache.ts";
export { Conv1D, TiedLinear } from "./modeling/layers.ts";
export type { CausalLMInput, CausalLMOutput, DecoderInput, DecoderOutput } from "./modeling/outputs.ts";
export { paddingMask } from "./modeling/padding-mask.ts";
export {
  type FromPretrainedOptions as ModelFromPretrainedOptions,
  type LoadingInfo,
  type ModelClass,
  PreTrainedModel,
  PreTrainedModelForCausalLM,
} from "./modeling/pretrained-model.ts";
export {
  hubSnapshotResolver,
  MODEL_FILE_PATTERNS,
  type ModelResolver,
  type ResolveOptions,
  resolveModelDir,
  setModelResolver,
} from "./modeling/resolve.ts";
export { applyRotary, type RopeOptions, type RopeScaling, RotaryEmbedding } from "./modeling/rope.ts";
export {
  AutoConfig,
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForImageClassification,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForSpeechSeq2Seq,
  AutoModelForTokenClassification,
  familyOf,
} from "./models/auto.ts";
export * from "./models/bert/index.ts";
export * from "./models/distilbert/index.ts";
export * from "./models/gpt2/index.ts";
export * from "./models/llama/index.ts";
export * from "./models/mistral/index.ts";
export * from "./models/qwen2/index.ts";
export { MODEL_FAMILIES, type ModelFamily, type TaskName } from "./models/registry.ts";
export * from "./models/roberta/index.ts";
export * from "./models/vit/index.ts";
export * from "./models/whisper/index.ts";
export * from "./pipelines/index.ts";
export * from "./processors/auto.ts";
export * from "./processors/image-processor.ts";
export * from "./tokenizers/index.ts";
export * from "./trainer/index.ts";
