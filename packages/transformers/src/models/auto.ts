/**
 * `AutoConfig`, `AutoModel`, `AutoModelForCausalLM`: pick the family from `config.json`'s
 * `model_type` (or, failing that, a class named in `architectures`) and load it.
 */
import { join } from "node:path";
import { readJsonObject } from "../configuration/json-io.ts";
import { CONFIG_NAME, type PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import type { FromPretrainedOptions, ModelClass, PreTrainedModel } from "../modeling/pretrained-model.ts";
import { type ResolveOptions, resolveModelDir } from "../modeling/resolve.ts";
import { MODEL_FAMILIES, type ModelFamily, type TaskName } from "./registry.ts";

function supported(task?: TaskName): string {
  return Object.values(MODEL_FAMILIES)
    .filter((f) => !task || f.tasks[task])
    .map((f) => f.modelType)
    .join(", ");
}

/** The family a raw config describes. */
export function familyOf(raw: Record<string, unknown>, where: string): ModelFamily {
  const type = raw.model_type;
  if (typeof type === "string" && MODEL_FAMILIES[type]) return MODEL_FAMILIES[type] as ModelFamily;
  const archs = Array.isArray(raw.architectures) ? (raw.architectures as string[]) : [];
  for (const family of Object.values(MODEL_FAMILIES)) {
    if (Object.values(family.tasks).some((cls) => archs.includes(cls.name))) return family;
  }
  throw fail(
    ErrorCodes.MODEL_UNSUPPORTED,
    `${where}: model_type ${JSON.stringify(type ?? null)} (architectures ${JSON.stringify(archs)}) is not supported; supported model types: ${supported()}`,
  );
}

/**
 * Loads the config class of whatever family `config.json` names.
 *
 * @example
 * const config = await AutoConfig.fromPretrained("fixtures/hf-tiny/models/llama"); // LlamaConfig
 */
export const AutoConfig = {
  async fromPretrained(pathOrRepoId: string, options: ResolveOptions = {}): Promise<PretrainedConfig> {
    const dir = await resolveModelDir(pathOrRepoId, options);
    const raw = await readJsonObject(join(dir, CONFIG_NAME), "AutoConfig.fromPretrained");
    return new (familyOf(raw, "AutoConfig.fromPretrained").config)(raw);
  },
  /** A fresh config of `modelType` with `values` over its defaults. */
  forModel(modelType: string, values: Record<string, unknown> = {}): PretrainedConfig {
    return new (familyOf({ model_type: modelType }, "AutoConfig.forModel").config)(values);
  },
};

function autoClass(task: TaskName, name: string) {
  const classFor = (config: PretrainedConfig): ModelClass => {
    const family = familyOf(config.toDict(), `${name}.fromPretrained`);
    const cls = family.tasks[task];
    if (!cls) {
      throw fail(
        ErrorCodes.MODEL_UNSUPPORTED,
        `${name}: model type '${family.modelType}' has no class for this task; types that have one: ${supported(task)}`,
      );
    }
    return cls;
  };
  return {
    /**
     * Loads the family's class for this task from a folder or repository id.
     *
     * @example
     * const model = await AutoModelForCausalLM.fromPretrained("fixtures/hf-tiny/models/llama");
     */
    async fromPretrained(pathOrRepoId: string, options: FromPretrainedOptions = {}): Promise<PreTrainedModel> {
      const dir = await resolveModelDir(pathOrRepoId, options);
      const config = options.config ?? (await AutoConfig.fromPretrained(dir));
      return (classFor(config) as unknown as typeof PreTrainedModel).fromPretrained.call(classFor(config), dir, {
        ...options,
        config,
      });
    },
    /** A randomly initialised model for `config`. */
    fromConfig(config: PretrainedConfig): PreTrainedModel {
      return new (classFor(config))(config);
    },
  };
}

/** The bare model (hidden states) of any supported family. */
export const AutoModel = autoClass("model", "AutoModel");

/** The causal language model of any supported family. */
export const AutoModelForCausalLM = autoClass("causalLM", "AutoModelForCausalLM") as {
  fromPretrained(pathOrRepoId: string, options?: FromPretrainedOptions): Promise<PreTrainedModelForCausalLMType>;
  fromConfig(config: PretrainedConfig): PreTrainedModelForCausalLMType;
};

import type { PreTrainedModelForCausalLM as PreTrainedModelForCausalLMType } from "../modeling/pretrained-model.ts";
