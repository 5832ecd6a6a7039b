/**
 * `PrefixTuningConfig` (Li & Liang, 2021): learned keys and values for `numVirtualTokens`
 * positions in front of every attention layer of a frozen causal LM. PEFT's
 * `adapter_config.json` spelling on disk.
 */
import { ErrorCodes, fail } from "../errors.ts";
import type { TaskType } from "./lora-config.ts";

/** Options of {@link PrefixTuningConfig}. */
export interface PrefixTuningConfigOptions {
  /** How many prefix positions to learn. */
  numVirtualTokens: number;
  /** Reparameterise through an MLP (not supported yet: false). */
  prefixProjection?: boolean;
  taskType?: TaskType;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  inferenceMode?: boolean;
}

/**
 * Prefix tuning for causal LMs.
 *
 * @example
 * const model = getPeftModel(base, new PrefixTuningConfig({ numVirtualTokens: 10 }));
 */
export class PrefixTuningConfig {
  readonly peftType = "PREFIX_TUNING" as const;
  numVirtualTokens: number;
  prefixProjection: boolean;
  taskType: TaskType;
  baseModelNameOrPath: string | null;
  revision: string | null;
  inferenceMode: boolean;
  /** Filled from the model by `getPeftModel`. */
  tokenDim: number | null = null;
  numLayers: number | null = null;
  numAttentionHeads: number | null = null;
  encoderHiddenSize: number | null = null;

  constructor(o: PrefixTuningConfigOptions) {
    this.numVirtualTokens = o.numVirtualTokens;
    this.prefixProjection = o.prefixProjection ?? false;
    this.taskType = o.taskType ?? "CAUSAL_LM";
    this.baseModelNameOrPath = o.baseModelNameOrPath ?? null;
    this.revision = o.revision ?? null;
    this.inferenceMode = o.inferenceMode ?? false;
    if (!Number.isInteger(this.numVirtualTokens) || this.numVirtualTokens <= 0) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `PrefixTuningConfig: 'numVirtualTokens' must be a positive integer, got ${JSON.stringify(o.numVirtualTokens)}`,
      );
    }
    if (this.prefixProjection) {
      throw fail(ErrorCodes.CONFIG_INVALID, "PrefixTuningConfig: 'prefixProjection' true is not supported yet");
    }
    if (this.taskType !== "CAUSAL_LM") {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `PrefixTuningConfig: only task type CAUSAL_LM is supported, got ${this.taskType}`,
      );
    }
  }

  /** The `adapter_config.json` object (PEFT 0.10's fields, sorted). */
  toJSON(): Record<string, unknown> {
    return {
      auto_mapping: null,
      base_model_name_or_path: this.baseModelNameOrPath,
      encoder_hidden_size: this.encoderHiddenSize,
      inference_mode: this.inferenceMode,
      num_attention_heads: this.numAttentionHeads,
      num_layers: this.numLayers,
      num_transformer_submodules: 1,
      num_virtual_tokens: this.numVirtualTokens,
      peft_type: "PREFIX_TUNING",
      prefix_projection: this.prefixProjection,
      revision: this.revision,
      task_type: this.taskType,
      token_dim: this.tokenDim,
    };
  }

  static fromJSON(j: Record<string, unknown>): PrefixTuningConfig {
    const c = new PrefixTuningConfig({
      numVirtualTokens: j.num_virtual_tokens as number,
      prefixProjection: (j.prefix_projection as boolean) ?? false,
      taskType: (j.task_type as TaskType) ?? "CAUSAL_LM",
      baseModelNameOrPath: (j.base_model_name_or_path as string | null) ?? null,
      revision: (j.revision as string | null) ?? null,
      inferenceMode: (j.inference_mode as boolean) ?? false,
    });
    c.tokenDim = (j.token_dim as number | null) ?? null;
    c.numLayers = (j.num_layers as number | null) ?? null;
    c.numAttentionHeads = (j.num_attention_heads as number | null) ?? null;
    c.encoderHiddenSize = (j.encoder_hidden_size as number | null) ?? null;
    return c;
  }
}
