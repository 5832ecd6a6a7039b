/**
 * Checkpoints into models: `loadModel` and `saveModel`, as the Python `safetensors.torch`
 * functions of those names. A target is a name → Tensor map or anything with `stateDict()` (an
 * `nn.Module`). Names that do not pair up are reported as PyTorch's `load_state_dict` reports them.
 */
import type { Tensor } from "../tensor.ts";
import { SafetensorsErrorCode as Code, fail } from "./errors.ts";
import { compareNames, type TensorSource } from "./open.ts";
import { saveFile } from "./serialize.ts";
import { openCheckpoint } from "./sharded.ts";
import { toTensor } from "./tensors.ts";

type TensorDict = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** The parts of `nn.Module` that loading uses (its public API). */
export interface ModuleLike {
  stateDict(): TensorDict;
  namedModules?(): Iterable<[string, ModuleLike]>;
  namedParameters?(prefix?: string, recurse?: boolean): [string, Tensor][];
  registerParameter?(name: string, t: Tensor): Tensor;
  registerBuffer?(name: string, t: Tensor, persistent?: boolean): Tensor;
}

/** Tensors by name, or a module whose `stateDict()` gives them. */
export type StateDictTarget = Map<string, Tensor> | Record<string, Tensor> | ModuleLike;

/** Options for {@link loadModel}. */
export interface LoadModelOptions {
  /** Throw when the checkpoint lacks a target name or holds names the target lacks (default true). */
  strict?: boolean;
  /**
   * Replace the target's tensors with the checkpoint's instead of copying into them (PyTorch's
   * `assign=True`): where the file already has the target's dtype the new tensors view the
   * mapping, so loading costs page faults, not copies. On a module, the registered tensor and a
   * field of the same name holding it (`this.weight`) are both replaced. Tied tensors come apart;
   * re-tie them after.
   */
  assign?: boolean;
}

/** Names that did not pair up, as PyTorch's `load_state_dict` returns them. */
export interface LoadModelResult {
  /** Target names the checkpoint does not hold. */
  missingKeys: string[];
  /** Checkpoint names the target does not have. */
  unexpectedKeys: string[];
}

function isModule(target: StateDictTarget): target is ModuleLike {
  return typeof (target as { stateDict?: unknown }).stateDict === "function";
}

function lookup(dict: TensorDict, name: string): Tensor | undefined {
  return dict instanceof Map ? dict.get(name) : (dict as Record<string, Tensor>)[name];
}

function entriesOf(dict: TensorDict): [string, Tensor][] {
  return dict instanceof Map ? [...dict.entries()] : Object.entries(dict as Record<string, Tensor>);
}

/**
 * Loads a checkpoint (a path, a folder, or an open {@link TensorSource}) into `target`: copies
 * into its tensors in place (like `param.copy_()`), or with `assign` replaces them, converting
 * dtypes on the fly (a bfloat16 file into float32 parameters). Shapes must match. With `strict`
 * (the default) any missing or unexpected name is an error listing them all. Every check runs
 * before the first write, so a failed load leaves `target` untouched.
 *
 * @example
 * const { missingKeys, unexpectedKeys } = await loadModel(model, "gpt2/", { strict: false });
 */
export async function loadModel(
  target: StateDictTarget,
  checkpoint: string | TensorSource,
  options: LoadModelOptions = {},
): Promise<LoadModelResult> {
  const source = typeof checkpoint === "string" ? await openCheckpoint(checkpoint) : checkpoint;
  const entries = entriesOf(isModule(target) ? target.stateDict() : target);
  const strict = options.strict ?? true;
  const assign = options.assign ?? false;

  const targetNames = new Set(entries.map(([name]) => name));
  let missingKeys = entries.map(([name]) => name).filter((name) => !source.has(name));
  const unexpectedKeys = source.keys().filter((name) => !targetNames.has(name));
  // Tied tensors (one storage under several names) load through one name, preferring a name the
  // file has; the others are neither missing nor loaded twice (as safetensors.torch.load_model).
  const tied = sharedNames(entries, new Set(source.keys()));
  const followers = new Set([...tied.values()].flat());
  for (const name of followers) {
    if (missingKeys.includes(name)) missingKeys = missingKeys.filter((k) => k !== name);
    else unexpectedKeys.push(name);
  }
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.map((k) => `'${k}'`).join(", ")}`);
  if (strict && unexpectedKeys.length > 0) {
    problems.push(`unexpected keys: ${unexpectedKeys.map((k) => `'${k}'`).join(", ")}`);
  }
  const pairs: [string, Tensor][] = [];
  for (const [name, t] of entries) {
    if (!source.has(name) || followers.has(name)) continue;
    const stored = source.info(name).shape;
    if (stored.length !== t.shape.length || stored.some((d, i) => d !== t.shape[i])) {
      problems.push(
        `size mismatch for '${name}': the checkpoint has [${stored.join(", ")}], the target [${t.shape.join(", ")}]`,
      );
    } else if (!assign && !t.isContiguous()) {
      problems.push(`'${name}' in the target is a non-contiguous view; load into its base tensor`);
    } else {
      pairs.push([name, t]);
    }
  }
  const setter = assign ? assigner(target, problems) : null;
  if (problems.length > 0) {
    fail(Code.STATE_DICT_MISMATCH, `loadModel: error(s) loading the checkpoint:\n  ${problems.join("\n  ")}`);
  }
  for (const [name, t] of pairs) {
    const loaded = toTensor(source.raw(name), { dtype: t.dtype }, name);
    if (setter) {
      if (t.requiresGrad) loaded.requiresGrad_();
      setter(name, loaded);
      for (const follower of tied.get(name) ?? []) setter(follower, loaded);
    } else {
      t.bytes().set(loaded.bytes());
      loaded.dispose();
    }
  }
  return { missingKeys, unexpectedKeys };
}

/** How to replace a named tensor of `target`; records a problem when it cannot be done. */
function assigner(target: StateDictTarget, problems: string[]): ((name: string, t: Tensor) => void) | null {
  if (target instanceof Map) return (name, t) => target.set(name, t);
  if (!isModule(target)) return (name, t) => ((target as Record<string, Tensor>)[name] = t);
  const { namedModules, namedParameters, registerParameter, registerBuffer } = target;
  if (!namedModules || !namedParameters || !registerParameter || !registerBuffer) {
    problems.push("assign needs a module with namedModules, namedParameters, registerParameter and registerBuffer");
    return null;
  }
  const modules = new Map<string, ModuleLike>(target.namedModules?.() ?? []);
  return (name, t) => {
    const dot = name.lastIndexOf(".");
    const owner = modules.get(dot < 0 ? "" : name.slice(0, dot)) as ModuleLike;
    const leaf = name.slice(dot + 1);
    const isParameter = (owner.namedParameters?.("", false) ?? []).some(([n]) => n === leaf);
    const fields = owner as unknown as Record<string, unknown>;
    const previous = isParameter
      ? owner.namedParameters?.("", false).find(([n]) => n === leaf)?.[1]
      : lookup(owner.stateDict(), leaf);
    if (isParameter) owner.registerParameter?.(leaf, t);
    else owner.registerBuffer?.(leaf, t, true);
    // Modules keep their tensors in fields too (`this.weight = this.registerParameter(...)`).
    if (previous !== undefined && fields[leaf] === previous) fields[leaf] = t;
  };
}

/**
 * Names whose tensors share one storage (tied weights), as `kept name → the other names`. The
 * kept name is the first (code-point order) of the names in `preferred`, else of all the names,
 * among those whose tensor covers the whole storage, as safetensors' `_remove_duplicate_names`.
 */
export function sharedNames(
  entries: [string, Tensor][],
  preferred: ReadonlySet<string> = new Set(),
): Map<string, string[]> {
  const byStorage = new Map<unknown, [string, Tensor][]>();
  for (const entry of entries) {
    const group = byStorage.get(entry[1].storage);
    if (group) group.push(entry);
    else byStorage.set(entry[1].storage, [entry]);
  }
  const out = new Map<string, string[]>();
  for (const group of byStorage.values()) {
    if (group.length < 2) continue;
    const names = group.map(([name]) => name).sort(compareNames);
    const complete = group
      .filter(([, t]) => t.offset === 0 && t.isContiguous() && t.size === t.storage.length)
      .map(([name]) => name)
      .sort(compareNames);
    if (complete.length === 0) {
      fail(
        Code.BAD_INPUT,
        `safetensors: tensors ${names.map((n) => `'${n}'`).join(", ")} share memory but none covers all of it; save a contiguous copy of one`,
      );
    }
    const keep = complete.find((name) => preferred.has(name)) ?? (complete[0] as string);
    out.set(
      keep,
      names.filter((name) => name !== keep),
    );
  }
  return out;
}

/**
 * Saves `target`'s tensors (its `stateDict()`, or the map itself) to one safetensors file, as
 * the Python `safetensors.torch.save_model`: of tensors sharing storage (tied weights) one is
 * written and each other name is recorded in the metadata as `name → kept name`.
 *
 * @example
 * await saveModel(model, "model.safetensors", { format: "pt" });
 */
export async function saveModel(
  target: StateDictTarget,
  path: string,
  metadata?: Readonly<Record<string, string>> | null,
): Promise<void> {
  const entries = entriesOf(isModule(target) ? target.stateDict() : target);
  let meta = metadata ? { ...metadata } : null;
  const dropped = new Set<string>();
  for (const [keep, others] of sharedNames(entries)) {
    for (const name of others) {
      meta ??= {};
      if (!(name in meta)) meta[name] = keep;
      dropped.add(name);
    }
  }
  await saveFile(new Map(entries.filter(([name]) => !dropped.has(name))), path, meta);
}
