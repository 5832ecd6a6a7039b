/**
 * `PeftModel`: a base model with adapters. `getPeftModel` wraps the targeted layers (LoRA) or
 * the input embedding (prompt tuning), freezes everything else, and `savePretrained` /
 * `PeftModel.fromPretrained` read and write PEFT's `adapter_config.json` +
 * `adapter_model.safetensors`. Parameter names are PEFT's (`base_model.model.…`), so the saved
 * keys are the ones Python's peft writes and loads.
 */
import { Embedding, Module, noGrad, randn, type Tensor, tensor } from "@hearth/tensor";
import { generate, type KVCache, type PreTrainedModel, type PreTrainedModelForCausalLM } from "@hearth/transformers";
import { LoraConfig, matchesTarget, patternValue } from "./config/lora-config.ts";
import { PrefixTuningConfig } from "./config/prefix-tuning-config.ts";
import type { PromptTuningConfig } from "./config/prompt-tuning-config.ts";
import { ErrorCodes, fail } from "./errors.ts";
import { AdapterDict } from "./lora/adapter-dict.ts";
import { type AdapterSpec, LoraLayer, loraLayerFor } from "./lora/layers.ts";
import { ModulesToSaveWrapper } from "./lora/modules-to-save.ts";
import { PrefixCache, PrefixEncoder } from "./prefix/prefix-encoder.ts";
import { PromptTuningEmbedding } from "./prompt/prompt-embedding.ts";
import { type LoadAdapterOptions, loadAdapterFiles, saveAdapterFiles } from "./save/adapter-files.ts";
import { getModule, replaceModule } from "./tree.ts";

/** Any adapter configuration. */
export type PeftConfig = LoraConfig | PromptTuningConfig | PrefixTuningConfig;

/** Holds the base model under `model`, as PEFT's `LoraModel` does (`base_model.model.…`). */
class AdapterHost extends Module {
  constructor(readonly model: PreTrainedModel) {
    super();
    this.registerModule("model", model);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: forwards whatever the base model takes
type AnyInput = any;

/**
 * A model with one or more named adapters.
 *
 * @example
 * const base = await GPT2LMHeadModel.fromPretrained("fixtures/hf-tiny/models/gpt2");
 * const model = getPeftModel(base, new LoraConfig({ r: 4, targetModules: ["c_attn"] }));
 * model.printTrainableParameters();
 * await model.savePretrained("out/adapter");
 */
export class PeftModel extends Module {
  readonly base_model: AdapterHost;
  readonly peftConfig = new Map<string, PeftConfig>();
  /** The adapter `forward` uses and `savePretrained` writes first. */
  activeAdapter: string;
  #promptEmbedding: PromptTuningEmbedding | null = null;

  constructor(model: PreTrainedModel, config: PeftConfig, adapterName = "default") {
    super();
    this.base_model = this.registerModule("base_model", new AdapterHost(model));
    this.activeAdapter = adapterName;
    this.addAdapter(adapterName, config);
    this.train(model.training);
  }

  /** The wrapped base model (with adapter layers inside). */
  get model(): PreTrainedModel {
    return this.base_model.model;
  }

  /** The config of the active adapter. */
  get config(): PeftConfig {
    return this.peftConfig.get(this.activeAdapter) as PeftConfig;
  }

  /**
   * Adds adapter `name` with `config` (its layers start trainable; the active adapter does not
   * change unless it is the first).
   */
  addAdapter(name: string, config: PeftConfig): void {
    if (this.peftConfig.has(name)) {
      throw fail(ErrorCodes.ADAPTER_NAME, `addAdapter: an adapter named '${name}' exists already`);
    }
    const kinds = new Set([...this.peftConfig.values()].map((c) => c.peftType));
    if (kinds.size && !kinds.has(config.peftType)) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `addAdapter: cannot mix ${[...kinds].join(", ")} and ${config.peftType} adapters in one model`,
      );
    }
    if (config.peftType !== "LORA" && this.peftConfig.size) {
      throw fail(ErrorCodes.ADAPTER_NAME, `addAdapter: Hearth supports one ${config.peftType} adapter per model`);
    }
    config.baseModelNameOrPath ??= nameOrPath(this.model);
    if (config instanceof LoraConfig) this.#injectLora(name, config);
    else if (config instanceof PrefixTuningConfig) this.#injectPrefix(name, config);
    else this.#injectPrompt(config);
    this.peftConfig.set(name, config);
    if (this.peftConfig.size === 1) this.setAdapter(name);
    else this.#markTrainable();
  }

  #injectLora(name: string, config: LoraConfig): void {
    const model = this.model;
    if (config.taskType === "SEQ_CLS") {
      config.modulesToSave = [...new Set([...(config.modulesToSave ?? []), "classifier", "score"])];
    }
    const targets = config.targetModules ?? defaultTargets(model);
    const matched: [string, Module][] = [];
    const toSave: string[] = [];
    for (const [n, m] of model.namedModules()) {
      if (n === "" || /(^|\.)(lora_\w+|base_layer|original_module|modules_to_save)(\.|$)/.test(n)) continue;
      if (config.modulesToSave?.some((s) => n === s || n.endsWith(`.${s}`))) {
        toSave.push(n);
        continue;
      }
      if (matchesTarget(n, targets)) matched.push([n, m]);
    }
    if (!matched.length) {
      throw fail(
        ErrorCodes.TARGET_NOT_FOUND,
        `getPeftModel: targetModules ${JSON.stringify(targets)} matched no module of ${model.constructor.name}`,
      );
    }
    for (const [n, m] of matched) {
      let layer = m instanceof LoraLayer ? m : loraLayerFor(m);
      if (!layer) {
        throw fail(
          ErrorCodes.TARGET_NOT_FOUND,
          `getPeftModel: target '${n}' is a ${m.constructor.name}; LoRA wraps Linear, Conv1D and Embedding`,
        );
      }
      if (layer !== m) replaceModule(model, n, layer);
      const spec: AdapterSpec = {
        r: patternValue(n, config.rankPattern, config.r),
        alpha: patternValue(n, config.alphaPattern, config.loraAlpha),
        dropout: config.loraDropout,
        useRslora: config.useRslora,
        useDora: config.useDora,
        init: config.initLoraWeights,
      };
      layer.updateLayer(name, spec);
      layer = layer as LoraLayer;
    }
    // PEFT sets fan_in_fan_out for Conv1D targets and records it
    if (
      matched.some(
        ([, m]) => m.constructor.name === "Conv1D" || (m as LoraLayer).base_layer?.constructor.name === "Conv1D",
      )
    ) {
      config.fanInFanOut = true;
    }
    for (const n of toSave) {
      const m = getModule(model, n) as Module;
      const wrapper = m instanceof ModulesToSaveWrapper ? m : new ModulesToSaveWrapper(m);
      if (wrapper !== m) replaceModule(model, n, wrapper);
      wrapper.updateLayer(name);
    }
  }

  #injectPrompt(config: PromptTuningConfig): void {
    const model = this.model;
    const cfg = model.config as unknown as Record<string, unknown>;
    const vocab = cfg.vocab_size as number | undefined;
    const found = [...model.namedModules()].find(
      ([, m]) => m instanceof Embedding && (vocab === undefined || m.weight.shape[0] === vocab),
    );
    if (!found) {
      throw fail(
        ErrorCodes.UNSUPPORTED_MODEL,
        `getPeftModel: ${model.constructor.name} has no input Embedding of vocab_size ${vocab}; prompt tuning needs one`,
      );
    }
    const [name, emb] = found as [string, Embedding];
    const E = emb.weight.shape[1] as number;
    const n = config.numVirtualTokens;
    let prompt: Tensor;
    if (config.promptTuningInit === "TEXT") {
      const ids = config.initTokenIds as number[];
      const rows = Array.from({ length: n }, (_, i) => ids[i % ids.length] as number);
      prompt = noGrad(() =>
        emb
          .forward(tensor([rows], { dtype: "int64" }))
          .reshape([n, E])
          .contiguous(),
      );
    } else {
      prompt = randn([n, E]);
    }
    const wrapper = new PromptTuningEmbedding(emb, prompt.detach());
    replaceModule(model, name, wrapper);
    this.#promptEmbedding = wrapper;
    config.tokenDim = E;
    config.numLayers = (cfg.num_hidden_layers ?? cfg.n_layer ?? null) as number | null;
    config.numAttentionHeads = (cfg.num_attention_heads ?? cfg.n_head ?? null) as number | null;
  }

  #prefix: { encoder: PrefixEncoder; layers: number; heads: number } | null = null;

  #injectPrefix(name: string, config: PrefixTuningConfig): void {
    const cfg = this.model.config as unknown as Record<string, unknown>;
    const layers = (cfg.num_hidden_layers ?? cfg.n_layer) as number | undefined;
    const heads = (cfg.num_attention_heads ?? cfg.n_head) as number | undefined;
    const hidden = (cfg.hidden_size ?? cfg.n_embd) as number | undefined;
    const kvHeads = (cfg.num_key_value_heads ?? heads) as number | undefined;
    if (!layers || !heads || !hidden) {
      throw fail(
        ErrorCodes.UNSUPPORTED_MODEL,
        `getPeftModel: prefix tuning needs the layer count, heads and hidden size in ${this.model.constructor.name}'s config`,
      );
    }
    if (kvHeads !== heads) {
      throw fail(
        ErrorCodes.UNSUPPORTED_MODEL,
        `getPeftModel: prefix tuning of grouped-query attention (${heads} heads, ${kvHeads} key/value heads) is not supported (PEFT 0.10 sizes prefixes by the query heads)`,
      );
    }
    config.tokenDim = hidden;
    config.numLayers = layers;
    config.numAttentionHeads = heads;
    config.encoderHiddenSize = hidden;
    const dict = this.registerModule("prompt_encoder", new AdapterDict<PrefixEncoder>());
    const encoder = new PrefixEncoder(config.numVirtualTokens, layers * 2 * hidden);
    dict.setModule(name, encoder);
    this.#prefix = { encoder, layers, heads };
  }

  /** LoRA layers of the model. */
  loraLayers(): LoraLayer[] {
    return [...this.model.namedModules()].map(([, m]) => m).filter((m): m is LoraLayer => m instanceof LoraLayer);
  }

  #wrappers(): ModulesToSaveWrapper[] {
    return [...this.model.namedModules()]
      .map(([, m]) => m)
      .filter((m): m is ModulesToSaveWrapper => m instanceof ModulesToSaveWrapper);
  }

  /** Makes `name` the adapter `forward` applies and the one trained. */
  setAdapter(name: string): void {
    if (!this.peftConfig.has(name) && !(this.peftConfig.size === 0)) {
      throw fail(
        ErrorCodes.ADAPTER_NAME,
        `setAdapter: no adapter named '${name}'; have ${[...this.peftConfig.keys()].join(", ")}`,
      );
    }
    this.activeAdapter = name;
    for (const l of this.loraLayers()) l.activeAdapters = l.adapterNames().includes(name) ? [name] : [];
    for (const w of this.#wrappers()) w.activeAdapter = w.modules_to_save.has(name) ? name : null;
    this.#markTrainable();
  }

  /** Removes adapter `name` and its layers' weights. */
  deleteAdapter(name: string): void {
    if (!this.peftConfig.has(name)) {
      throw fail(ErrorCodes.ADAPTER_NAME, `deleteAdapter: no adapter named '${name}'`);
    }
    if (this.peftConfig.size === 1) {
      throw fail(ErrorCodes.ADAPTER_NAME, `deleteAdapter: '${name}' is the only adapter; use unload() instead`);
    }
    for (const l of this.loraLayers()) l.deleteAdapter(name);
    for (const w of this.#wrappers()) w.modules_to_save.delete(name);
    this.peftConfig.delete(name);
    if (this.activeAdapter === name) this.setAdapter([...this.peftConfig.keys()][0] as string);
  }

  /** Freezes everything but the active adapter's weights (and its biases / saved modules). */
  #markTrainable(): void {
    const config = this.config;
    const a = this.activeAdapter;
    const isAdapterParam = (n: string) => {
      if (config.peftType === "PROMPT_TUNING") return n.endsWith("prompt_embeddings");
      if (config.peftType === "PREFIX_TUNING") return n.startsWith(`prompt_encoder.${a}.`);
      const own = new RegExp(`\\.(lora_\\w+)\\.${escapeRe(a)}(\\.|$)|\\.modules_to_save\\.${escapeRe(a)}\\.`);
      if (own.test(n)) return true;
      if (config instanceof LoraConfig && /(^|\.)bias$/.test(n) && !n.includes(".modules_to_save.")) {
        if (config.bias === "all") return true;
        if (config.bias === "lora_only") return n.endsWith(".base_layer.bias");
      }
      return false;
    };
    for (const [n, p] of this.namedParameters()) {
      const want = isAdapterParam(n);
      if (p.requiresGrad !== want) p.requiresGrad_(want);
      if (!want && p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * Runs `fn` with every adapter switched off (the base model alone), then switches them back
   * on, also when `fn` throws or its promise rejects. Returns what `fn` returns.
   *
   * @example
   * const baseLogits = model.disableAdapter(() => model.forward({ inputIds }).logits);
   */
  disableAdapter<T>(fn: () => T): T {
    const layers = this.loraLayers();
    const wrappers = this.#wrappers();
    const prompt = this.#promptEmbedding;
    const before = layers.map((l) => l.disabled);
    const restore = () => {
      layers.forEach((l, i) => {
        l.disabled = before[i] as boolean;
      });
      for (const w of wrappers) w.disabled = false;
      this.#promptDisabled = false;
    };
    for (const l of layers) l.disabled = true;
    for (const w of wrappers) w.disabled = true;
    if (prompt || this.#prefix) this.#promptDisabled = true;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      restore();
      throw error;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  #promptDisabled = false;

  /** The number of trainable parameters and of all parameters. */
  getNbTrainableParameters(): { trainable: number; all: number } {
    let trainable = 0;
    let all = 0;
    for (const [, p] of this.namedParameters()) {
      all += p.size;
      if (p.requiresGrad) trainable += p.size;
    }
    return { trainable, all };
  }

  /** Prints (and returns) `trainable params: … || all params: … || trainable%: …`, as PEFT. */
  printTrainableParameters(): string {
    const { trainable, all } = this.getNbTrainableParameters();
    const fmt = (n: number) => n.toLocaleString("en-US");
    const line = `trainable params: ${fmt(trainable)} || all params: ${fmt(all)} || trainable%: ${((100 * trainable) / all).toFixed(4)}`;
    console.log(line);
    return line;
  }

  /**
   * Folds the active adapter into the base weights and returns the base model without any
   * adapter layers (PEFT's `merge_and_unload`).
   */
  mergeAndUnload(options: { adapterNames?: string[] } = {}): PreTrainedModel {
    return this.#unload(true, options.adapterNames);
  }

  /** Returns the base model with the adapter layers removed and the original weights. */
  unload(): PreTrainedModel {
    return this.#unload(false);
  }

  #unload(merge: boolean, names?: string[]): PreTrainedModel {
    const model = this.model;
    for (const [n, m] of [...model.namedModules()]) {
      if (m instanceof LoraLayer) {
        if (merge) m.merge(names ?? [this.activeAdapter]);
        else m.unmerge();
        replaceModule(model, n, m.base_layer);
      } else if (m instanceof ModulesToSaveWrapper) {
        replaceModule(model, n, merge ? m.current() : m.original_module);
      } else if (m instanceof PromptTuningEmbedding) {
        replaceModule(model, n, m.base);
      }
    }
    for (const p of model.parameters()) if (!p.requiresGrad) p.requiresGrad_(true);
    return model;
  }

  /** Folds the active adapter into the base weights, keeping the layers (undo with `unmergeAdapter`). */
  mergeAdapter(): void {
    for (const l of this.loraLayers()) l.merge([this.activeAdapter]);
  }

  /** Undoes `mergeAdapter`. */
  unmergeAdapter(): void {
    for (const l of this.loraLayers()) l.unmerge();
  }

  /** Puts the virtual tokens in front of ids, mask and labels (prompt tuning). */
  #withPrompt(input: AnyInput): AnyInput {
    const prefix = this.#prefix;
    if (prefix && !this.#promptDisabled) {
      const [B, T] = input.inputIds.shape as [number, number];
      const n = prefix.encoder.embedding.weight.shape[0] as number;
      const inner = (input.pastKeyValues ?? null) as KVCache | null;
      const past = inner?.getSeqLength() ?? 0;
      const mask =
        input.attentionMask ??
        tensor(
          Array.from({ length: B }, () => new Array(past + T).fill(1)),
          { dtype: "int64" },
        );
      return {
        ...input,
        attentionMask: catCols(onesLikeCols(mask, B, n, 1), mask),
        pastKeyValues: new PrefixCache(prefix.encoder.pastKeyValues(B, prefix.layers, prefix.heads), inner),
      };
    }
    const prompt = this.#promptEmbedding;
    if (!prompt || this.#promptDisabled) return input;
    const n = prompt.prompt_embeddings.shape[0] as number;
    const [B] = input.inputIds.shape as [number, number];
    const virtual = tensor(
      Array.from({ length: B }, () => Array.from({ length: n }, (_, k) => prompt.vocabSize + k)),
      { dtype: input.inputIds.dtype },
    );
    const out = { ...input, inputIds: catCols(virtual, input.inputIds) };
    if (input.attentionMask)
      out.attentionMask = catCols(onesLikeCols(input.attentionMask, B, n, 1), input.attentionMask);
    if (input.labels) out.labels = catCols(onesLikeCols(input.labels, B, n, -100), input.labels);
    if (input.positionIds) {
      throw fail(
        ErrorCodes.UNSUPPORTED_MODEL,
        `PeftModel.forward: prompt tuning computes positions itself; do not pass 'positionIds'`,
      );
    }
    return out;
  }

  /** The base model's `forward` with the adapters applied. */
  forward(input: AnyInput): AnyInput {
    return this.model.forward(this.#withPrompt(input));
  }

  /**
   * Generates with the adapter (causal LMs). With prompt tuning the virtual tokens are added in
   * front and left out of the returned sequences.
   */
  async generate(inputIds: Tensor, options: Record<string, unknown> = {}): Promise<Tensor> {
    const model = this.model as PreTrainedModelForCausalLM;
    if (typeof model.generate !== "function") {
      throw fail(ErrorCodes.UNSUPPORTED_MODEL, `PeftModel.generate: ${model.constructor.name} is not a causal LM`);
    }
    if (this.#prefix && !this.#promptDisabled) {
      // generate drives a proxy whose forward adds the prefix to every step
      const proxy = { generationConfig: model.generationConfig, forward: (input: AnyInput) => this.forward(input) };
      return generate(proxy, inputIds, options) as Promise<Tensor>;
    }
    const prompt = this.#promptEmbedding;
    if (!prompt || this.#promptDisabled) return model.generate(inputIds, options);
    const n = prompt.prompt_embeddings.shape[0] as number;
    const withPrompt = this.#withPrompt({ inputIds, attentionMask: options.attentionMask ?? null });
    const out = await model.generate(withPrompt.inputIds, {
      ...options,
      ...(withPrompt.attentionMask ? { attentionMask: withPrompt.attentionMask } : {}),
    });
    return out.narrow(1, n, (out.shape[1] as number) - n).contiguous();
  }

  /**
   * Writes `adapter_config.json` and `adapter_model.safetensors` of each adapter (or those
   * named) into `folder` (adapters other than "default" into `folder/<name>`), as PEFT does.
   */
  async savePretrained(folder: string, options: { selectedAdapters?: string[] } = {}): Promise<void> {
    for (const name of options.selectedAdapters ?? [...this.peftConfig.keys()]) {
      const config = this.peftConfig.get(name);
      if (!config) throw fail(ErrorCodes.ADAPTER_NAME, `savePretrained: no adapter named '${name}'`);
      const dir = name === "default" ? folder : `${folder}/${name}`;
      await saveAdapterFiles(dir, config, this.adapterStateDict(name));
    }
  }

  /** The adapter's tensors under the names PEFT saves (`base_model.model.….lora_A.weight`). */
  adapterStateDict(name = this.activeAdapter): Record<string, Tensor> {
    const config = this.peftConfig.get(name);
    if (!config) throw fail(ErrorCodes.ADAPTER_NAME, `adapterStateDict: no adapter named '${name}'`);
    const out: Record<string, Tensor> = {};
    for (const [internal, saved] of this.#savedNames(name)) out[saved] = this.stateDict()[internal] as Tensor;
    return out;
  }

  /** Internal parameter name → saved key, for adapter `name` (PEFT's `get_peft_model_state_dict`). */
  #savedNames(name: string): Map<string, string> {
    const config = this.peftConfig.get(name) as PeftConfig;
    const out = new Map<string, string>();
    const sd = this.stateDict();
    if (config.peftType === "PREFIX_TUNING") {
      out.set(`prompt_encoder.${name}.embedding.weight`, "prompt_embeddings");
      return out;
    }
    if (config.peftType === "PROMPT_TUNING") {
      const key = Object.keys(sd).find((k) => k.endsWith(".prompt_embeddings"));
      if (key) out.set(key, "prompt_embeddings");
      return out;
    }
    const a = escapeRe(name);
    const lora = new RegExp(`\\.lora_\\w+\\.${a}(\\.|$)`);
    const saveMod = new RegExp(`\\.modules_to_save\\.${a}\\.`);
    for (const k of Object.keys(sd)) {
      let keep = lora.test(k) || saveMod.test(k);
      if (!keep && !k.includes(".modules_to_save.") && !k.includes(".lora_")) {
        if ((config as LoraConfig).bias === "all" && /\.bias$/.test(k)) keep = true;
        if ((config as LoraConfig).bias === "lora_only" && /\.base_layer\.bias$/.test(k)) keep = true;
      }
      if (!keep) continue;
      out.set(k, k.replace("modules_to_save.", "").split(`.${name}`).join(""));
    }
    return out;
  }

  /** Loads saved adapter tensors (PEFT's keys) into adapter `name`; unknown or missing keys throw. */
  loadAdapterState(state: Record<string, Tensor>, name = this.activeAdapter, where = "the adapter"): void {
    const names = this.#savedNames(name);
    const bySaved = new Map([...names].map(([i, s]) => [s, i]));
    const unexpected = Object.keys(state).filter((k) => !bySaved.has(k));
    const missing = [...bySaved.keys()].filter((k) => !(k in state));
    if (unexpected.length || missing.length) {
      throw fail(
        ErrorCodes.ADAPTER_FILE,
        `loadAdapter: ${where} does not fit the model: ${unexpected.length ? `unexpected keys ${unexpected.slice(0, 6).join(", ")}` : ""}${unexpected.length && missing.length ? "; " : ""}${missing.length ? `missing keys ${missing.slice(0, 6).join(", ")}` : ""}`,
      );
    }
    const own: Record<string, Tensor> = {};
    for (const [saved, t] of Object.entries(state)) own[bySaved.get(saved) as string] = t;
    this.loadStateDict(own, { strict: false });
  }

  /** Loads another saved adapter into this model under `name`. */
  async loadAdapter(dirOrRepo: string, name: string, options: LoadAdapterOptions = {}): Promise<void> {
    const { config, state, where } = await loadAdapterFiles(dirOrRepo, options);
    this.addAdapter(name, config);
    this.loadAdapterState(state, name, where);
    if (!options.isTrainable) this.#freezeAll();
  }

  #freezeAll(): void {
    for (const p of this.parameters()) if (p.requiresGrad) p.requiresGrad_(false);
  }

  /**
   * Loads an adapter saved by PEFT or Hearth onto `model` (a folder, or a hub repo through the
   * installed resolver). Frozen unless `isTrainable`.
   *
   * @example
   * const model = await PeftModel.fromPretrained(base, "fixtures/hf-tiny/models/gpt2-lora");
   */
  static async fromPretrained(
    model: PreTrainedModel,
    dirOrRepo: string,
    options: LoadAdapterOptions & { adapterName?: string } = {},
  ): Promise<PeftModel> {
    const { config, state, where } = await loadAdapterFiles(dirOrRepo, options);
    config.inferenceMode = !options.isTrainable;
    const peft = new PeftModel(model, config, options.adapterName ?? "default");
    peft.loadAdapterState(state, peft.activeAdapter, where);
    if (!options.isTrainable) {
      peft.#freezeAll();
      peft.eval();
    }
    return peft;
  }
}

/** Wraps `model` with a new adapter (PEFT's `get_peft_model`). */
export function getPeftModel(model: PreTrainedModel, config: PeftConfig, adapterName = "default"): PeftModel {
  return new PeftModel(model, config, adapterName);
}

/** PEFT's default LoRA targets for the families Hearth implements. */
function defaultTargets(model: PreTrainedModel): string[] {
  const type = model.config.model_type as string | undefined;
  const table: Record<string, string[]> = {
    gpt2: ["c_attn"],
    llama: ["q_proj", "v_proj"],
    mistral: ["q_proj", "v_proj"],
    qwen2: ["q_proj", "v_proj"],
    bert: ["query", "value"],
  };
  const t = type ? table[type] : undefined;
  if (!t) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      `getPeftModel: 'targetModules' is required for model_type ${JSON.stringify(type)} (no default known)`,
    );
  }
  return t;
}

function nameOrPath(model: PreTrainedModel): string | null {
  const c = model.config as unknown as Record<string, unknown>;
  const v = c._name_or_path ?? c.name_or_path;
  return typeof v === "string" && v !== "" ? v : null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function catCols(a: Tensor, b: Tensor): Tensor {
  const la = a.tolistSync() as number[][];
  const lb = b.tolistSync() as number[][];
  return tensor(
    la.map((row, i) => [...row, ...(lb[i] as number[])]),
    { dtype: b.dtype },
  );
}

function onesLikeCols(t: Tensor, B: number, n: number, value: number): Tensor {
  return tensor(
    Array.from({ length: B }, () => new Array(n).fill(value)),
    { dtype: t.dtype },
  );
}
