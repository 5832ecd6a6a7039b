/**
 * `AutoImageProcessor` / `AutoFeatureExtractor` / `AutoProcessor`: pick the processor class named by
 * `preprocessor_config.json` (`image_processor_type` or `feature_extractor_type`) among those
 * the model families register, falling back to the family of `config.json`'s `model_type`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJsonObject } from "../configuration/json-io.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { type ResolveOptions, resolveModelDir } from "../modeling/resolve.ts";
import { MODEL_FAMILIES, type ProcessorClass } from "../models/registry.ts";
import { AutoTokenizer } from "../tokenizers/auto.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { PREPROCESSOR_CONFIG_NAME, readPreprocessorConfig } from "./image-processor.ts";

function registered(): Map<string, ProcessorClass> {
  const out = new Map<string, ProcessorClass>();
  for (const family of Object.values(MODEL_FAMILIES)) {
    for (const [name, cls] of Object.entries(family.processors ?? {})) out.set(name, cls);
  }
  return out;
}

/** The processor class and config for the folder `dir`. */
async function pick(dir: string, where: string): Promise<{ cls: ProcessorClass; config: Record<string, unknown> }> {
  const config = await readPreprocessorConfig(dir, where);
  const all = registered();
  const type = (config.image_processor_type ?? config.feature_extractor_type) as string | undefined;
  // Python also accepts the "Fast" variants' names.
  const cls = type ? (all.get(type) ?? all.get(type.replace(/Fast$/, ""))) : undefined;
  if (cls) return { cls, config };
  const modelConfig = join(dir, "config.json");
  if (!type && existsSync(modelConfig)) {
    const raw = await readJsonObject(modelConfig, where);
    const family = MODEL_FAMILIES[raw.model_type as string];
    const only = Object.values(family?.processors ?? {});
    if (only.length === 1) return { cls: only[0] as ProcessorClass, config };
  }
  throw fail(
    ErrorCodes.PROCESSOR_CONFIG_INVALID,
    `${where}: ${join(dir, "preprocessor_config.json")} names processor ${JSON.stringify(type ?? null)}; supported: ${[...all.keys()].join(", ")}`,
  );
}

/**
 * Loads the image processor a model folder (or hub repository) describes.
 *
 * @example
 * const processor = await AutoImageProcessor.fromPretrained("path/to/vit");
 * const { pixelValues } = await processor.call("cat.png");
 */
export const AutoImageProcessor = {
  // biome-ignore lint/suspicious/noExplicitAny: the class is chosen at run time
  async fromPretrained(pathOrRepoId: string, options: ResolveOptions = {}): Promise<any> {
    const dir = await resolveModelDir(pathOrRepoId, options);
    const { cls, config } = await pick(dir, "AutoImageProcessor.fromPretrained");
    return new cls(config);
  },
};

/**
 * Loads the feature extractor (audio) a model folder describes.
 *
 * @example
 * const fe = await AutoFeatureExtractor.fromPretrained("path/to/whisper");
 */
export const AutoFeatureExtractor = {
  // biome-ignore lint/suspicious/noExplicitAny: the class is chosen at run time
  async fromPretrained(pathOrRepoId: string, options: ResolveOptions = {}): Promise<any> {
    const dir = await resolveModelDir(pathOrRepoId, options);
    const { cls, config } = await pick(dir, "AutoFeatureExtractor.fromPretrained");
    return new cls(config);
  },
};

/**
 * A feature extractor or image processor together with the tokenizer (Python's
 * `WhisperProcessor` and kin): `call` prepares model inputs, `batchDecode` turns outputs to text.
 */
export class Processor {
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: the processor class is chosen at run time
    readonly featureExtractor: any,
    readonly tokenizer: PreTrainedTokenizer,
  ) {}

  /** Runs the feature extractor / image processor on `input`. */
  // biome-ignore lint/suspicious/noExplicitAny: forwards to the chosen processor
  call(input: any, options?: any): Promise<any> {
    return this.featureExtractor.call(input, options);
  }

  /** Decodes generated ids with the tokenizer. */
  batchDecode(ids: number[][], options: { skipSpecialTokens?: boolean } = {}): string[] {
    return this.tokenizer.batchDecode(ids, options);
  }
}

/**
 * Python's `AutoProcessor`: a {@link Processor} when the folder has both a preprocessor config and
 * a tokenizer, else whichever of the two it has.
 *
 * @example
 * const processor = await AutoProcessor.fromPretrained("path/to/whisper-tiny");
 * const { inputFeatures } = await processor.call("speech.wav");
 */
export const AutoProcessor = {
  // biome-ignore lint/suspicious/noExplicitAny: the class is chosen at run time
  async fromPretrained(pathOrRepoId: string, options: ResolveOptions = {}): Promise<any> {
    const dir = await resolveModelDir(pathOrRepoId, options);
    const hasPre = existsSync(join(dir, PREPROCESSOR_CONFIG_NAME));
    let tokenizer: PreTrainedTokenizer | null = null;
    try {
      tokenizer = await AutoTokenizer.fromPretrained(dir);
    } catch (error) {
      if (!hasPre) throw error;
    }
    if (!hasPre) return tokenizer;
    const { cls, config } = await pick(dir, "AutoProcessor.fromPretrained");
    const pre = new cls(config);
    return tokenizer ? new Processor(pre, tokenizer) : pre;
  },
};
