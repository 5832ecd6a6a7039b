/**
 * `PreTrainedModel`: the base of every model class. It owns the config and generation config,
 * loads Hugging Face checkpoints by parameter name (`fromPretrained`) and writes folders that
 * Python's transformers loads (`savePretrained`).
 */
import { mkdir } from "node:fs/promises";
import { type DeviceMap, initEmptyWeights } from "@hearth/accelerate";
import { type DType, isDType, Module, type Tensor, to as toDType } from "@hearth/tensor";
import type { TensorSource } from "@hearth/tensor/safetensors";
import type { ConfigClass, PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { GenerationConfig } from "../generation/config.ts";
import { type GenerateOptions, type GenerateOutput, generate } from "../generation/generate.ts";
import { type BigModelOptions, dispatchPretrained } from "./big-model.ts";
import { castParameters, openWeights, readTensor, setParameter, toTensorMap, writeWeights } from "./checkpoint.ts";
import { initModuleTree } from "./init-weights.ts";
import { withoutInit } from "./no-init.ts";
import type { CausalLMInput, CausalLMOutput } from "./outputs.ts";
import { type ResolveOptions, resolveModelDir } from "./resolve.ts";
import { storeMatmulWeights } from "./weight-only.ts";

/** Options of `fromPretrained`. */
export interface FromPretrainedOptions extends ResolveOptions, BigModelOptions {
  /** Parameter dtype: "float32" (default, as Python), "bfloat16", "float16", or "auto" for the config's `torch_dtype`. */
  dtype?: DType | "auto";
  /**
   * Weight-only low precision: store the matmul weights (linear layers and the output head) in
   * this dtype and keep activations, norms and embeddings float32 (`modeling/weight-only.ts`).
   * Halves the bytes a decoding step reads; results differ from float32 at 16-bit precision.
   */
  weightsDtype?: "bfloat16" | "float16";
  /** Use this config instead of the folder's `config.json`. */
  config?: PretrainedConfig;
  /** Placement; only "cpu" exists today. */
  device?: string;
}

/** What loading found (Python's `output_loading_info`). */
export interface LoadingInfo {
  /** Checkpoint tensors the model has no parameter for (after ignoring known legacy keys). */
  unexpectedKeys: string[];
}

/** A model class as the registry and the Auto classes see it. */
export interface ModelClass<M extends PreTrainedModel = PreTrainedModel> {
  // biome-ignore lint/suspicious/noExplicitAny: each family's constructor takes its own config class
  new (config: any): M;
  readonly configClass: ConfigClass;
  readonly baseModelPrefix: string;
  name: string;
}

/**
 * Base class of all models. Subclasses build their modules from `config` with Hugging Face's
 * parameter names, so `stateDict()` keys are the checkpoint's keys.
 *
 * @example
 * const model = await LlamaForCausalLM.fromPretrained("path/to/llama");
 * const { logits } = model.forward({ inputIds });
 * await model.savePretrained("out/llama");
 */
export abstract class PreTrainedModel extends Module {
  /** The config class `fromPretrained` reads. */
  static readonly configClass: ConfigClass;
  /** The attribute holding the base model in task heads ("transformer", "model"). */
  static readonly baseModelPrefix: string = "";
  /** Checkpoint keys that may be present but have no parameter (legacy buffers). */
  static readonly ignoreUnexpected: readonly RegExp[] = [];

  readonly config: PretrainedConfig;
  generationConfig: GenerationConfig;
  loadingInfo: LoadingInfo = { unexpectedKeys: [] };
  /** Where each module's weights live when loaded with a `deviceMap` (Python's `hf_device_map`); null otherwise. */
  hfDeviceMap: DeviceMap | null = null;

  constructor(config: PretrainedConfig) {
    super();
    this.config = config;
    this.generationConfig = GenerationConfig.fromModelConfig(config);
  }

  /**
   * Python's `post_init`: gives every module of the model not initialised yet the family's
   * initialisation (see `init-weights.ts`). Each concrete model class calls it at the end of
   * its constructor, so a model built from a config starts from Python's distributions; modules
   * registered later (adapters, wrappers) are left as their own code made them. Draws nothing
   * when the weights are about to be loaded (`fromPretrained`).
   */
  postInit(): void {
    initModuleTree(this, this.config);
  }

  /** Parameters that share another's tensor: target name → source name (e.g. the tied LM head). */
  tiedWeights(): Record<string, string> {
    return {};
  }

  /** Re-links tied parameters after their source was replaced (loading, dtype casts). */
  tieWeights(): void {}

  /**
   * Loads a model from a local folder (or a hub repository id through the installed resolver):
   * `config.json`, `generation_config.json` when present, and safetensors weights, single or
   * sharded. Missing weights and shape mismatches are errors naming the parameter.
   *
   * @example
   * const model = await GPT2LMHeadModel.fromPretrained("fixtures/hf-tiny/models/gpt2");
   */
  static async fromPretrained<M extends PreTrainedModel>(
    this: ModelClass<M>,
    pathOrRepoId: string,
    options: FromPretrainedOptions = {},
  ): Promise<M> {
    if (options.device && options.device !== "cpu") {
      throw fail(ErrorCodes.MODEL_BAD_INPUT, `fromPretrained: device '${options.device}' is not available; use "cpu"`);
    }
    const dir = await resolveModelDir(pathOrRepoId, options);
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being loaded
    const config = options.config ?? (await this.configClass.fromPretrained(dir));
    let dtype = options.dtype ?? "float32";
    if (dtype === "auto") dtype = (config.torch_dtype as DType | undefined) ?? "float32";
    if (!isDType(dtype) || !dtype.includes("float")) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `fromPretrained: option 'dtype' must be a float dtype or "auto", got ${String(dtype)}`,
      );
    }
    const weights = await openWeights(dir);
    let model: M;
    if (options.deviceMap !== undefined) {
      // nothing allocated until the device map says where each weight lives; the meta model
      // takes the dtype first, so the map budgets its bytes and the weights load converted
      model = initEmptyWeights(() => new this(config));
      if (dtype !== "float32") model.to(dtype);
      model.hfDeviceMap = (await dispatchPretrained(model, weights, dir, options)).deviceMap;
    } else {
      model = withoutInit(() => new this(config));
      model.loadWeights(weights, dir);
    }
    try {
      model.generationConfig = await GenerationConfig.fromPretrained(dir);
    } catch {
      // No generation_config.json: keep the defaults derived from config.json, as Python does.
    }
    if (dtype !== "float32") model.to(dtype);
    if (options.weightsDtype) {
      if (options.weightsDtype !== "bfloat16" && options.weightsDtype !== "float16") {
        throw fail(
          ErrorCodes.MODEL_BAD_INPUT,
          `fromPretrained: option 'weightsDtype' must be "bfloat16" or "float16", got ${String(options.weightsDtype)}`,
        );
      }
      storeMatmulWeights(model, options.weightsDtype);
    }
    model.eval();
    return model;
  }

  /** Converts every floating parameter to `dtype`. Returns `this`. */
  to(dtype: DType): this {
    castParameters(this, dtype);
    this.tieWeights();
    return this;
  }

  /** The dtype of the parameters (that of the first floating one). */
  get dtype(): DType {
    return this.namedParameters().find(([, t]) => t.dtype.includes("float"))?.[1].dtype ?? "float32";
  }

  /**
   * Replaces every parameter with the checkpoint's tensor of the same name. Accepts
   * checkpoints saved from the base model or from a task head (the base-model prefix is added
   * or removed as needed).
   */
  loadWeights(source: TensorSource, where = "the checkpoint"): void {
    const own = this.stateDict();
    const tied = this.tiedWeights();
    const { byModelName, unexpected } = this.matchCheckpoint(source, where);
    for (const [name, t] of Object.entries(own)) {
      const ck = byModelName.get(name);
      if (ck === undefined || name in tied) continue;
      let value: Tensor = readTensor(source, ck);
      if (value.dtype !== t.dtype) value = toDType(value, t.dtype);
      setParameter(this, name, value);
    }
    this.tieWeights();
    this.loadingInfo = { unexpectedKeys: unexpected };
  }

  /**
   * Pairs every parameter with its checkpoint key (adding or removing the base-model prefix as
   * needed) and checks that none is missing and every shape agrees; returns model name →
   * checkpoint key and the checkpoint keys nothing uses.
   */
  matchCheckpoint(
    source: TensorSource,
    where = "the checkpoint",
  ): { byModelName: Map<string, string>; unexpected: string[] } {
    const ctor = this.constructor as typeof PreTrainedModel;
    const own = this.stateDict();
    const tied = this.tiedWeights();
    const prefix = ctor.baseModelPrefix ? `${ctor.baseModelPrefix}.` : "";
    const keys = source.keys();
    const ownPrefixed = prefix !== "" && Object.keys(own).some((k) => k.startsWith(prefix));
    const ckptPrefixed = prefix !== "" && keys.some((k) => k.startsWith(prefix));
    // Model name for each checkpoint key.
    const rename = (k: string): string => {
      if (ownPrefixed && !ckptPrefixed && !(k in own)) return prefix + k;
      if (!ownPrefixed && ckptPrefixed && k.startsWith(prefix)) return k.slice(prefix.length);
      return k;
    };
    const byModelName = new Map<string, string>();
    const unexpected: string[] = [];
    for (const k of keys) {
      const m = rename(k);
      if (m in own) byModelName.set(m, k);
      else if (!ctor.ignoreUnexpected.some((re) => re.test(k))) unexpected.push(k);
    }
    const missing = Object.keys(own).filter((k) => !byModelName.has(k) && !(k in tied));
    if (missing.length) {
      const shown = missing.slice(0, 8).join(", ");
      throw fail(
        ErrorCodes.MODEL_MISSING_WEIGHT,
        `fromPretrained: ${where} has no weight for ${missing.length} parameter${missing.length > 1 ? "s" : ""} of ${ctor.name}: ${shown}${missing.length > 8 ? ", …" : ""}`,
      );
    }
    for (const [name, t] of Object.entries(own)) {
      const ck = byModelName.get(name);
      if (ck === undefined || name in tied) continue;
      const shape = source.info(ck).shape;
      if (shape.length !== t.ndim || shape.some((s, i) => s !== t.shape[i])) {
        throw fail(
          ErrorCodes.MODEL_SHAPE_MISMATCH,
          `fromPretrained: parameter '${name}' of ${ctor.name} has shape [${t.shape.join(", ")}] but ${where} holds '${ck}' with shape [${shape.join(", ")}]`,
        );
      }
    }
    return { byModelName, unexpected };
  }

  /**
   * Writes `config.json`, `generation_config.json` and `model.safetensors` (sharded above
   * `maxShardSize`, default "5GB") into `folder`, as Python's `save_pretrained` does: tied
   * copies are left out and the config names this class in `architectures`.
   */
  async savePretrained(folder: string, options: { maxShardSize?: number | string } = {}): Promise<void> {
    try {
      await mkdir(folder, { recursive: true });
    } catch (error) {
      throw fail(
        ErrorCodes.MODEL_SAVE_FAILED,
        `savePretrained: cannot create ${folder}: ${(error as Error).message}`,
        error,
      );
    }
    const config = this.config.clone({ architectures: [this.constructor.name], torch_dtype: this.dtype });
    await writeWeights(
      toTensorMap(this.stateDict(), new Set(Object.keys(this.tiedWeights()))),
      folder,
      options.maxShardSize,
    );
    await config.savePretrained(folder);
    await this.generationConfig.savePretrained(folder);
  }
}

/**
 * A causal language model: `forward` gives next-token logits and `generate` decodes.
 */
export abstract class PreTrainedModelForCausalLM extends PreTrainedModel {
  abstract override forward(input: CausalLMInput): CausalLMOutput;

  /**
   * Generates continuations of `inputIds` `[B, L]` (greedy by default; see
   * {@link GenerateOptions}). Returns the sequences `[B, L + new]` as int64.
   *
   * @example
   * const out = await model.generate(ids, { maxNewTokens: 20, doSample: true, topK: 40 });
   */
  generate(inputIds: Tensor, options: GenerateOptions & { returnDictInGenerate: true }): Promise<GenerateOutput>;
  generate(inputIds: Tensor, options?: GenerateOptions): Promise<Tensor>;
  generate(inputIds: Tensor, options: GenerateOptions = {}): Promise<Tensor | GenerateOutput> {
    return generate(this, inputIds, options);
  }
}
