/**
 * Python's weight initialisation for models built from a config (`post_init` → `_init_weights`).
 * A family registers its rule (what `_init_weights(module)` does in its `PreTrainedModel`); each
 * model class calls `postInit()` at the end of its constructor, which applies the rule to every
 * module of the tree, so `new GPT2LMHeadModel(config)` and `AutoModelForCausalLM.fromConfig(config)`
 * start from Python's distributions. Every module is initialised once (Python's
 * `_is_hf_initialized`): a task head skips the base model that already initialised itself, and
 * modules registered after construction (PEFT's adapters and copies) are never touched. Nothing is drawn when weights are about to be loaded (the
 * `withoutInit` and meta paths of `fromPretrained`). Families without a rule keep the engine's
 * PyTorch-default layer initialisation.
 */
import {
  copy_,
  Embedding,
  getBackend,
  LayerNorm,
  Linear,
  type Module,
  noGrad,
  ones,
  RMSNorm,
  randn,
  type Tensor,
  zeros,
} from "@hearth/tensor";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import { Conv1D } from "./layers.ts";

/** Initialises one module (its own parameters, not its children's); `name` is its dotted path. */
export type InitRule = (module: Module, name: string, config: PretrainedConfig) => void;

const rules = new Map<string, InitRule>();
const initialized = new WeakSet<Module>();

/** Registers the `_init_weights` of `modelType` (and of families whose config class extends its). */
export function registerInitRule(modelType: string, rule: InitRule): void {
  rules.set(modelType, rule);
}

/** The rule for `config`: its model type's, else that of the nearest config class it extends. */
export function initRuleFor(config: PretrainedConfig): InitRule | undefined {
  for (let c = config.constructor as { modelType?: string } | null; c; c = Object.getPrototypeOf(c)) {
    const rule = c.modelType ? rules.get(c.modelType) : undefined;
    if (rule) return rule;
  }
  return undefined;
}

const isMeta = (t: Tensor) => t.storage.device === "meta";

/** Initialises every module of `root`'s tree not initialised before (Python's `post_init`). */
export function initModuleTree(root: Module, config: PretrainedConfig): void {
  const rule = initRuleFor(config);
  // weights about to be loaded: random init switched off, or built on the meta device
  const skip = !rule || getBackend().name.endsWith(":no-init") || root.parameters().some(isMeta);
  noGrad(() => {
    for (const [name, m] of root.namedModules()) {
      if (initialized.has(m)) continue;
      if (!skip) rule(m, name, config);
      initialized.add(m);
    }
  });
}

/**
 * Copies `source` into `t` and releases it now: left to the collector, a model's worth of
 * temporaries (as large as its weights) stays allocated until a collection comes.
 */
function assign(t: Tensor, source: Tensor): void {
  copy_(t, source);
  source.dispose();
}

/** `t` ← N(0, std²) in place. */
export function normal_(t: Tensor, std: number): void {
  assign(t, randn([...t.shape], { std, dtype: t.dtype }));
}

/** `t` ← `value` everywhere, in place. */
export function fill_(t: Tensor, value: 0 | 1): void {
  assign(t, value === 0 ? zeros([...t.shape], { dtype: t.dtype }) : ones([...t.shape], { dtype: t.dtype }));
}

/**
 * The `_init_weights` most families share (BERT, GPT-2, Llama): Linear/Conv1D weights and
 * embeddings from N(0, initializer_range²), biases zero, the padding embedding row zero,
 * LayerNorm/RMSNorm weights one and biases zero. `std` overrides the standard deviation.
 */
export function standardInit(
  m: Module,
  config: PretrainedConfig,
  opts: { std?: number; paddingIdx?: number | null } = {},
): void {
  const std = opts.std ?? (config.get("initializer_range") as number | undefined) ?? 0.02;
  if (m instanceof Linear || m instanceof Conv1D) {
    normal_(m.weight, std);
    if (m.bias) fill_(m.bias, 0);
  } else if (m instanceof Embedding) {
    normal_(m.weight, std);
    const pad = opts.paddingIdx;
    if (pad !== null && pad !== undefined && pad >= 0 && pad < (m.weight.shape[0] as number)) {
      fill_(m.weight.narrow(0, pad, 1), 0);
    }
  } else if (m instanceof LayerNorm || m instanceof RMSNorm) {
    if (m.weight) fill_(m.weight, 1);
    const bias = (m as { bias?: Tensor | null }).bias;
    if (bias) fill_(bias, 0);
  }
}
