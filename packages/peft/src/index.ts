export { LoraConfig, type LoraConfigOptions, matchesTarget, type TaskType } from "./config/lora-config.ts";
export { PrefixTuningConfig, type PrefixTuningConfigOptions } from "./config/prefix-tuning-config.ts";
export { PromptTuningConfig, type PromptTuningConfigOptions } from "./config/prompt-tuning-config.ts";
export { type ErrorCode, ErrorCodes, HearthPeftError } from "./errors.ts";
export { AdapterDict } from "./lora/adapter-dict.ts";
export { type AdapterSpec, LoraEmbedding, LoraLayer, LoraLinear } from "./lora/layers.ts";
export { cloneModule, ModulesToSaveWrapper } from "./lora/modules-to-save.ts";
export { getPeftModel, type PeftConfig, PeftModel } from "./peft-model.ts";
export { PrefixCache, PrefixEncoder } from "./prefix/prefix-encoder.ts";
export { PromptTuningEmbedding } from "./prompt/prompt-embedding.ts";
export {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  type LoadAdapterOptions,
  loadAdapterFiles,
  pythonJson,
  saveAdapterFiles,
} from "./save/adapter-files.ts";
