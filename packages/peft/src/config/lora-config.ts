/**
 * `LoraConfig`: the options of LoRA (Hu et al., 2021) and its variants rsLoRA (Kalajdzievski,
 * 2023) and DoRA (Liu et al., 2024), with PEFT's `adapter_config.json` spelling on disk.
 */
import { ErrorCodes, fail } from "../errors.ts";
import { PyFloat } from "../save/py-float.ts";

/** What the adapter is for (PEFT's `task_type`). */
export type TaskType = "CAUSAL_LM" | "SEQ_CLS" | "SEQ_2_SEQ_LM" | "TOKEN_CLS" | "QUESTION_ANS" | "FEATURE_EXTRACTION";

/** Options of {@link LoraConfig} (camelCase; see `toJSON` for the file's names). */
export interface LoraConfigOptions {
  /** Rank of the update (default 8). */
  r?: number;
  /** Scaling numerator: the update is multiplied by alpha / r (or alpha / √r with rsLoRA). Default 8. */
  loraAlpha?: number;
  /** Dropout on the adapter's input (default 0). */
  loraDropout?: number;
  /**
   * Modules to wrap: a list of names (a module matches when its dotted name equals one or ends
   * with `.name`), or one string read as a regular expression that must match the whole name.
   */
  targetModules?: string[] | string | null;
  /** Modules trained in full and saved with the adapter (e.g. a classification head). */
  modulesToSave?: string[] | null;
  /** The target stores its weight as [in, out] (GPT-2's Conv1D). Set automatically for Conv1D. */
  fanInFanOut?: boolean;
  /** Which biases are trained and saved: "none" (default), "all", or "lora_only". */
  bias?: "none" | "all" | "lora_only";
  /** Scale by alpha / √r instead of alpha / r (rank-stabilised LoRA). */
  useRslora?: boolean;
  /** Weight-decomposed LoRA: a trained magnitude per output feature. */
  useDora?: boolean;
  /** true: PEFT's default (A Kaiming-uniform, B zero); "gaussian": A ~ N(0, 1/r); false: both random (tests only). */
  initLoraWeights?: boolean | "gaussian";
  /** Per-module rank overrides (regex or suffix → r). */
  rankPattern?: Record<string, number>;
  /** Per-module alpha overrides (regex or suffix → alpha). */
  alphaPattern?: Record<string, number>;
  /** Task of the adapted model (default "CAUSAL_LM"). */
  taskType?: TaskType | null;
  /** Folder or repository of the base model, recorded in the file. */
  baseModelNameOrPath?: string | null;
  /** Revision of the base model, recorded in the file. */
  revision?: string | null;
  /** Frozen adapter (set when loaded for inference). */
  inferenceMode?: boolean;
}

/**
 * A LoRA configuration.
 *
 * @example
 * const config = new LoraConfig({ r: 4, loraAlpha: 8, targetModules: ["q_proj", "v_proj"] });
 * const model = getPeftModel(base, config);
 */
export class LoraConfig {
  readonly peftType = "LORA" as const;
  r: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: string[] | string | null;
  modulesToSave: string[] | null;
  fanInFanOut: boolean;
  bias: "none" | "all" | "lora_only";
  useRslora: boolean;
  useDora: boolean;
  initLoraWeights: boolean | "gaussian";
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  taskType: TaskType | null;
  baseModelNameOrPath: string | null;
  revision: string | null;
  inferenceMode: boolean;

  constructor(o: LoraConfigOptions = {}) {
    this.r = o.r ?? 8;
    this.loraAlpha = o.loraAlpha ?? 8;
    this.loraDropout = o.loraDropout ?? 0;
    this.targetModules = o.targetModules ?? null;
    this.modulesToSave = o.modulesToSave ?? null;
    this.fanInFanOut = o.fanInFanOut ?? false;
    this.bias = o.bias ?? "none";
    this.useRslora = o.useRslora ?? false;
    this.useDora = o.useDora ?? false;
    this.initLoraWeights = o.initLoraWeights ?? true;
    this.rankPattern = o.rankPattern ?? {};
    this.alphaPattern = o.alphaPattern ?? {};
    this.taskType = o.taskType === undefined ? "CAUSAL_LM" : o.taskType;
    this.baseModelNameOrPath = o.baseModelNameOrPath ?? null;
    this.revision = o.revision ?? null;
    this.inferenceMode = o.inferenceMode ?? false;
    const bad = (what: string, got: unknown) =>
      fail(ErrorCodes.CONFIG_INVALID, `LoraConfig: ${what}, got ${JSON.stringify(got)}`);
    if (!Number.isInteger(this.r) || this.r <= 0) throw bad("'r' must be a positive integer", this.r);
    if (!(this.loraDropout >= 0 && this.loraDropout < 1))
      throw bad("'loraDropout' must be in [0, 1)", this.loraDropout);
    if (!["none", "all", "lora_only"].includes(this.bias))
      throw bad("'bias' must be none, all or lora_only", this.bias);
    if (![true, false, "gaussian"].includes(this.initLoraWeights))
      throw bad("'initLoraWeights' must be true, false or 'gaussian'", this.initLoraWeights);
    if (this.targetModules !== null && typeof this.targetModules !== "string" && !Array.isArray(this.targetModules))
      throw bad("'targetModules' must be a list of names or a regex string", this.targetModules);
  }

  /** The `adapter_config.json` object, PEFT 0.10's fields in sorted order. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      alpha_pattern: this.alphaPattern,
      auto_mapping: null,
      base_model_name_or_path: this.baseModelNameOrPath,
      bias: this.bias,
      fan_in_fan_out: this.fanInFanOut,
      inference_mode: this.inferenceMode,
      init_lora_weights: this.initLoraWeights,
      layer_replication: null,
      layers_pattern: null,
      layers_to_transform: null,
      loftq_config: {},
      lora_alpha: this.loraAlpha,
      lora_dropout: new PyFloat(this.loraDropout),
      megatron_config: null,
      megatron_core: "megatron.core",
      modules_to_save: this.modulesToSave,
      peft_type: "LORA",
      r: this.r,
      rank_pattern: this.rankPattern,
      revision: this.revision,
      target_modules: this.targetModules,
      task_type: this.taskType,
      use_dora: this.useDora,
      use_rslora: this.useRslora,
    };
    return out;
  }

  /** Reads an `adapter_config.json` object (unknown keys are ignored, as PEFT does for newer fields). */
  static fromJSON(j: Record<string, unknown>): LoraConfig {
    if (j.peft_type !== "LORA") {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `LoraConfig.fromJSON: 'peft_type' must be "LORA", got ${JSON.stringify(j.peft_type)}`,
      );
    }
    for (const k of ["layers_to_transform", "layers_pattern", "layer_replication", "megatron_config"]) {
      if (j[k] !== null && j[k] !== undefined) {
        throw fail(
          ErrorCodes.CONFIG_INVALID,
          `LoraConfig.fromJSON: '${k}' is not supported by Hearth yet, got ${JSON.stringify(j[k])}`,
        );
      }
    }
    return new LoraConfig({
      r: j.r as number,
      loraAlpha: j.lora_alpha as number,
      loraDropout: (j.lora_dropout as number) ?? 0,
      targetModules: (j.target_modules as string[] | string | null) ?? null,
      modulesToSave: (j.modules_to_save as string[] | null) ?? null,
      fanInFanOut: (j.fan_in_fan_out as boolean) ?? false,
      bias: (j.bias as "none") ?? "none",
      useRslora: (j.use_rslora as boolean) ?? false,
      useDora: (j.use_dora as boolean) ?? false,
      initLoraWeights: (j.init_lora_weights as boolean | "gaussian") ?? true,
      rankPattern: (j.rank_pattern as Record<string, number>) ?? {},
      alphaPattern: (j.alpha_pattern as Record<string, number>) ?? {},
      taskType: (j.task_type as TaskType | null) ?? null,
      baseModelNameOrPath: (j.base_model_name_or_path as string | null) ?? null,
      revision: (j.revision as string | null) ?? null,
      inferenceMode: (j.inference_mode as boolean) ?? false,
    });
  }
}

/** PEFT's module-name matching: a string is a regex over the whole name; a list matches by equality or `.name` suffix. */
export function matchesTarget(name: string, targets: string[] | string): boolean {
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(name);
  return targets.some((t) => name === t || name.endsWith(`.${t}`));
}

/** The value of `pattern` (rank or alpha overrides) whose key matches `name`, else `fallback`. */
export function patternValue(name: string, pattern: Record<string, number>, fallback: number): number {
  for (const [k, v] of Object.entries(pattern)) {
    if (name === k || name.endsWith(`.${k}`) || new RegExp(`(^|\\.)${k}$`).test(name)) return v;
  }
  return fallback;
}
