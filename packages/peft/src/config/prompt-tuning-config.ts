/**
 * `PromptTuningConfig` (Lester et al., 2021): `numVirtualTokens` learned embeddings put before
 * every input of a frozen causal LM. PEFT's `adapter_config.json` spelling on disk.
 */
import { ErrorCodes, fail } from "../errors.ts";
import type { TaskType } from "./lora-config.ts";

/** Options of {@link PromptTuningConfig}. */
export interface PromptTuningConfigOptions {
  /** How many virtual tokens to learn. */
  numVirtualTokens: number;
  /** "RANDOM" (N(0, 1), as `nn.Embedding`) or "TEXT" (the embeddings of `initTokenIds`, repeated to length). */
  promptTuningInit?: "RANDOM" | "TEXT";
  /** Token ids whose embeddings start the prompt when `promptTuningInit` is "TEXT". */
  initTokenIds?: number[];
  /** The text those ids came from (recorded in the file as `prompt_tuning_init_text`). */
  promptTuningInitText?: string | null;
  /** Tokenizer of that text (recorded as `tokenizer_name_or_path`). */
  tokenizerNameOrPath?: string | null;
  taskType?: TaskType;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  inferenceMode?: boolean;
}

/**
 * Prompt tuning for causal LMs.
 *
 * @example
 * const model = getPeftModel(base, new PromptTuningConfig({ numVirtualTokens: 8 }));
 */
export class PromptTuningConfig {
  readonly peftType = "PROMPT_TUNING" as const;
  numVirtualTokens: number;
  promptTuningInit: "RANDOM" | "TEXT";
  initTokenIds: number[] | null;
  promptTuningInitText: string | null;
  tokenizerNameOrPath: string | null;
  taskType: TaskType;
  baseModelNameOrPath: string | null;
  revision: string | null;
  inferenceMode: boolean;
  /** Filled from the model by `getPeftModel`. */
  tokenDim: number | null = null;
  numLayers: number | null = null;
  numAttentionHeads: number | null = null;

  constructor(o: PromptTuningConfigOptions) {
    this.numVirtualTokens = o.numVirtualTokens;
    this.promptTuningInit = o.promptTuningInit ?? "RANDOM";
    this.initTokenIds = o.initTokenIds ?? null;
    this.promptTuningInitText = o.promptTuningInitText ?? null;
    this.tokenizerNameOrPath = o.tokenizerNameOrPath ?? null;
    this.taskType = o.taskType ?? "CAUSAL_LM";
    this.baseModelNameOrPath = o.baseModelNameOrPath ?? null;
    this.revision = o.revision ?? null;
    this.inferenceMode = o.inferenceMode ?? false;
    if (!Number.isInteger(this.numVirtualTokens) || this.numVirtualTokens <= 0) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `PromptTuningConfig: 'numVirtualTokens' must be a positive integer, got ${JSON.stringify(o.numVirtualTokens)}`,
      );
    }
    if (this.promptTuningInit === "TEXT" && !this.initTokenIds?.length) {
      throw fail(ErrorCodes.CONFIG_INVALID, `PromptTuningConfig: 'promptTuningInit' "TEXT" needs 'initTokenIds'`);
    }
    if (this.taskType !== "CAUSAL_LM") {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `PromptTuningConfig: only task type CAUSAL_LM is supported, got ${this.taskType}`,
      );
    }
  }

  /** The `adapter_config.json` object (PEFT 0.10's fields, sorted). */
  toJSON(): Record<string, unknown> {
    return {
      auto_mapping: null,
      base_model_name_or_path: this.baseModelNameOrPath,
      inference_mode: this.inferenceMode,
      num_attention_heads: this.numAttentionHeads,
      num_layers: this.numLayers,
      num_transformer_submodules: 1,
      num_virtual_tokens: this.numVirtualTokens,
      peft_type: "PROMPT_TUNING",
      prompt_tuning_init: this.promptTuningInit,
      prompt_tuning_init_text: this.promptTuningInitText,
      revision: this.revision,
      task_type: this.taskType,
      token_dim: this.tokenDim,
      tokenizer_kwargs: null,
      tokenizer_name_or_path: this.tokenizerNameOrPath,
    };
  }

  static fromJSON(j: Record<string, unknown>): PromptTuningConfig {
    if ((j.num_transformer_submodules ?? 1) !== 1) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `PromptTuningConfig.fromJSON: 'num_transformer_submodules' must be 1 (causal LM), got ${JSON.stringify(j.num_transformer_submodules)}`,
      );
    }
    const c = new PromptTuningConfig({
      numVirtualTokens: j.num_virtual_tokens as number,
      // the learned values come from the file, so the init method is irrelevant on load
      promptTuningInit: "RANDOM",
      promptTuningInitText: (j.prompt_tuning_init_text as string | null) ?? null,
      tokenizerNameOrPath: (j.tokenizer_name_or_path as string | null) ?? null,
      taskType: (j.task_type as TaskType) ?? "CAUSAL_LM",
      baseModelNameOrPath: (j.base_model_name_or_path as string | null) ?? null,
      revision: (j.revision as string | null) ?? null,
      inferenceMode: (j.inference_mode as boolean) ?? false,
    });
    c.promptTuningInit = (j.prompt_tuning_init as "RANDOM" | "TEXT") ?? "RANDOM";
    c.tokenDim = (j.token_dim as number | null) ?? null;
    c.numLayers = (j.num_layers as number | null) ?? null;
    c.numAttentionHeads = (j.num_attention_heads as number | null) ?? null;
    return c;
  }
}
