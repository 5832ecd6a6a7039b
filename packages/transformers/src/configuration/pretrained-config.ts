/**
 * `PretrainedConfig`: the contents of `config.json`, with Hugging Face's snake_case keys
 * unchanged. Family configs (`GPT2Config`, `LlamaConfig`, …) declare their typed fields and
 * defaults; every key of the file, known or not, is kept and written back by `savePretrained`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readJsonObject, toPythonJson, writeTextAtomic } from "./json-io.ts";

/** Keys every config has (Python's `PretrainedConfig.__init__` defaults that models read). */
const COMMON_DEFAULTS: Record<string, unknown> = {
  output_hidden_states: false,
  output_attentions: false,
  tie_word_embeddings: true,
  is_encoder_decoder: false,
  bos_token_id: null,
  eos_token_id: null,
  pad_token_id: null,
};

/** The file name Python's transformers uses. */
export const CONFIG_NAME = "config.json";

/** A config class: what the registry and `fromPretrained` construct. */
export interface ConfigClass<C extends PretrainedConfig = PretrainedConfig> {
  new (values?: Record<string, unknown>): C;
  /** The `model_type` this class describes ("" for the generic base). */
  readonly modelType: string;
  /** Family defaults, as Python's `__init__` keyword defaults. */
  readonly defaults: Record<string, unknown>;
  /** Reads `config.json` from a folder. */
  fromPretrained(folderOrFile: string): Promise<C>;
}

/**
 * A model configuration. Fields use the JSON keys as on disk (`config.n_embd`,
 * `config.rope_theta`); unknown keys stay on the object and survive a save.
 *
 * @example
 * const config = await PretrainedConfig.fromPretrained("fixtures/hf-tiny/models/gpt2");
 * console.log(config.model_type, config.get("n_embd"));
 */
export class PretrainedConfig {
  static readonly modelType: string = "";
  static readonly defaults: Record<string, unknown> = {};

  declare model_type: string;
  declare architectures?: string[] | null;
  declare output_hidden_states: boolean;
  declare output_attentions: boolean;
  declare use_cache: boolean;
  declare tie_word_embeddings: boolean;
  declare is_encoder_decoder: boolean;
  declare bos_token_id: number | null;
  declare eos_token_id: number | number[] | null;
  declare pad_token_id: number | null;
  declare torch_dtype?: string | null;

  constructor(values: Record<string, unknown> = {}) {
    const ctor = this.constructor as ConfigClass;
    Object.assign(this, COMMON_DEFAULTS, structuredClone(ctor.defaults), structuredClone(values));
    if (ctor.modelType) this.model_type = ctor.modelType;
    else if (this.model_type === undefined) this.model_type = "";
  }

  /** The value of any key (for keys the typed fields do not declare). */
  get(key: string): unknown {
    return (this as unknown as Record<string, unknown>)[key];
  }

  /** Sets any key; it is written back by `savePretrained`. */
  set(key: string, value: unknown): void {
    (this as unknown as Record<string, unknown>)[key] = value;
  }

  /** Every key as on disk (a deep copy). */
  toDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) if (v !== undefined) out[k] = structuredClone(v);
    return out;
  }

  /**
   * The keys Python's `to_diff_dict` writes: everything except the base-class keys that still
   * hold their base default — unless the family's default differs (Llama's
   * `tie_word_embeddings: false`), so that a `true` there survives the round trip.
   */
  toDiffDict(): Record<string, unknown> {
    const out = this.toDict();
    const family = (this.constructor as ConfigClass).defaults;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const [k, v] of Object.entries(COMMON_DEFAULTS)) {
      if (same(out[k], v) && (!(k in family) || same(out[k], family[k]))) delete out[k];
    }
    return out;
  }

  /** The JSON Python writes (sorted keys, two-space indent). */
  toJsonString(): string {
    return toPythonJson(this.toDiffDict());
  }

  /** A copy with `overrides` applied. */
  clone(overrides: Record<string, unknown> = {}): this {
    const ctor = this.constructor as new (v: Record<string, unknown>) => this;
    return new ctor({ ...this.toDict(), ...overrides });
  }

  /**
   * Reads `config.json` from a local folder (or a path to the file itself).
   *
   * @example
   * const config = await GPT2Config.fromPretrained("path/to/gpt2");
   */
  static async fromPretrained<T extends PretrainedConfig>(
    this: new (
      values?: Record<string, unknown>,
    ) => T,
    folderOrFile: string,
  ): Promise<T> {
    const file = folderOrFile.endsWith(".json") ? folderOrFile : join(folderOrFile, CONFIG_NAME);
    return new this(await readJsonObject(file, "PretrainedConfig.fromPretrained"));
  }

  /** Writes `config.json` into `folder` (created if needed), atomically. */
  async savePretrained(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    await writeTextAtomic(join(folder, CONFIG_NAME), this.toJsonString());
  }
}
