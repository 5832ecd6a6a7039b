/**
 * `GenerationConfig`: the decoding defaults of `generation_config.json`, with camelCase fields
 * (`maxNewTokens`, `doSample`, …) mapped to and from the file's snake_case keys. Keys Hearth does
 * not use are kept in `extra` and written back unchanged.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readJsonObject, toPythonJson, writeTextAtomic } from "../configuration/json-io.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";

/** The file name Python's transformers uses. */
export const GENERATION_CONFIG_NAME = "generation_config.json";

/** Every decoding option Hearth understands, camelCase. Each has Python's default. */
export interface GenerationOptions {
  /** Total length cap (prompt + new tokens); `maxNewTokens` wins when both are set. */
  maxLength: number;
  maxNewTokens: number | null;
  minLength: number;
  minNewTokens: number | null;
  /** Beam search: `true` stops a batch entry at `numBeams` finished hypotheses; `"never"` runs to the end. */
  earlyStopping: boolean | "never";
  doSample: boolean;
  numBeams: number;
  numReturnSequences: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number | null;
  repetitionPenalty: number;
  lengthPenalty: number;
  noRepeatNgramSize: number;
  badWordsIds: number[][] | null;
  /** Strings that end generation once the decoded continuation contains one (needs a tokenizer). */
  stopStrings: string[] | string | null;
  useCache: boolean;
  padTokenId: number | null;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  outputScores: boolean;
  returnDictInGenerate: boolean;
}

const DEFAULTS: GenerationOptions = {
  maxLength: 20,
  maxNewTokens: null,
  minLength: 0,
  minNewTokens: null,
  earlyStopping: false,
  doSample: false,
  numBeams: 1,
  numReturnSequences: 1,
  temperature: 1.0,
  topK: 50,
  topP: 1.0,
  minP: null,
  repetitionPenalty: 1.0,
  lengthPenalty: 1.0,
  noRepeatNgramSize: 0,
  badWordsIds: null,
  stopStrings: null,
  useCache: true,
  padTokenId: null,
  bosTokenId: null,
  eosTokenId: null,
  outputScores: false,
  returnDictInGenerate: false,
};

const toSnake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const toCamel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const KNOWN = new Set(Object.keys(DEFAULTS));

/**
 * Decoding defaults of a model. `generate()` merges its options over these.
 *
 * @example
 * const gc = await GenerationConfig.fromPretrained("fixtures/hf-tiny/models/gpt2");
 * gc.maxNewTokens = 32;
 */
export class GenerationConfig implements GenerationOptions {
  declare maxLength: number;
  declare maxNewTokens: number | null;
  declare minLength: number;
  declare minNewTokens: number | null;
  declare earlyStopping: boolean | "never";
  declare doSample: boolean;
  declare numBeams: number;
  declare numReturnSequences: number;
  declare temperature: number;
  declare topK: number;
  declare topP: number;
  declare minP: number | null;
  declare repetitionPenalty: number;
  declare lengthPenalty: number;
  declare noRepeatNgramSize: number;
  declare badWordsIds: number[][] | null;
  declare stopStrings: string[] | string | null;
  declare useCache: boolean;
  declare padTokenId: number | null;
  declare bosTokenId: number | null;
  declare eosTokenId: number | number[] | null;
  declare outputScores: boolean;
  declare returnDictInGenerate: boolean;
  /** Keys of the file that Hearth does not interpret, kept verbatim. */
  extra: Record<string, unknown> = {};

  constructor(options: Partial<GenerationOptions> = {}) {
    Object.assign(this, DEFAULTS, options);
  }

  /** From the snake_case keys of `generation_config.json`. */
  static fromDict(dict: Record<string, unknown>): GenerationConfig {
    const gc = new GenerationConfig();
    for (const [key, value] of Object.entries(dict)) {
      const camel = toCamel(key);
      if (KNOWN.has(camel) && toSnake(camel) === key) (gc as unknown as Record<string, unknown>)[camel] = value;
      else gc.extra[key] = value;
    }
    return gc;
  }

  /** The decoding defaults a model config implies (Python's `GenerationConfig.from_model_config`). */
  static fromModelConfig(config: PretrainedConfig): GenerationConfig {
    const gc = new GenerationConfig({
      bosTokenId: config.bos_token_id ?? null,
      eosTokenId: config.eos_token_id ?? null,
      padTokenId: config.pad_token_id ?? null,
    });
    gc.extra._from_model_config = true;
    return gc;
  }

  /** Reads `generation_config.json` from a folder. */
  static async fromPretrained(folder: string): Promise<GenerationConfig> {
    return GenerationConfig.fromDict(
      await readJsonObject(join(folder, GENERATION_CONFIG_NAME), "GenerationConfig.fromPretrained"),
    );
  }

  /** A copy with `options` applied; unknown option names are an error (catches typos). */
  update(options: Partial<GenerationOptions>): GenerationConfig {
    const gc = GenerationConfig.fromDict(this.toDict());
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined) continue;
      if (!KNOWN.has(key)) {
        throw fail(
          ErrorCodes.GENERATION_BAD_OPTION,
          `generate: unknown option '${key}'; known options are ${[...KNOWN].sort().join(", ")}`,
        );
      }
      (gc as unknown as Record<string, unknown>)[key] = value;
    }
    return gc;
  }

  /** The EOS ids as a list (empty when none is set). */
  eosTokenIds(): number[] {
    const e = this.eosTokenId;
    return e === null || e === undefined ? [] : Array.isArray(e) ? [...e] : [e];
  }

  /** snake_case keys as in the file: every non-default known key plus `extra`. */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of KNOWN) {
      const value = (this as unknown as Record<string, unknown>)[key];
      const def = (DEFAULTS as unknown as Record<string, unknown>)[key];
      if (JSON.stringify(value) !== JSON.stringify(def)) out[toSnake(key)] = structuredClone(value);
    }
    return { ...out, ...structuredClone(this.extra) };
  }

  /** Writes `generation_config.json` into `folder`, atomically. */
  async savePretrained(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    await writeTextAtomic(join(folder, GENERATION_CONFIG_NAME), toPythonJson(this.toDict()));
  }
}
