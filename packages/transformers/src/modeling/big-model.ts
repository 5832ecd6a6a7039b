/**
 * `fromPretrained(…, { deviceMap, maxMemory })`: models bigger than memory, through
 * `@hearth/accelerate`'s big-model loading. The model is built on the meta device (no memory),
 * a device map sends each module to "cpu" (copied into memory) or "disk" (left in the
 * memory-mapped safetensors file and paged in, zero-copy, for each forward call), as Python's
 * `from_pretrained(device_map="auto", max_memory=…)` does with accelerate.
 */
import {
  type DeviceMap,
  type DispatchResult,
  deviceFor,
  inferAutoDeviceMap,
  loadCheckpointAndDispatch,
} from "@hearth/accelerate";
import { type Module, ModuleList } from "@hearth/tensor";
import type { TensorInfo, TensorSource, ToTensorOptions } from "@hearth/tensor/safetensors";
import type { PreTrainedModel } from "./pretrained-model.ts";

/** The big-model options of `fromPretrained`. */
export interface BigModelOptions {
  /**
   * "auto" (fill `maxMemory` in order, the rest to "disk") or an explicit map from module names
   * ("" is the whole model, "transformer.h.3" one block) to "cpu" or "disk".
   */
  deviceMap?: "auto" | DeviceMap;
  /** Bytes each device may hold for weights, e.g. `{ cpu: "2GB" }` (default 90% of free memory). */
  maxMemory?: Record<string, number | string>;
}

/**
 * Classes a device map must not split: the class's `noSplitModules` (Python's
 * `_no_split_modules`), else the classes of the blocks its `ModuleList`s hold (the decoder or
 * encoder layers, whose residual stream must see all of a layer's weights at once).
 */
export function noSplitModuleClasses(model: Module): string[] {
  const declared = (model.constructor as { noSplitModules?: readonly string[] }).noSplitModules;
  if (declared) return [...declared];
  const names = new Set<string>();
  for (const [, m] of model.namedModules()) {
    if (m instanceof ModuleList) for (const [, child] of m.namedChildren()) names.add(child.constructor.name);
  }
  return [...names];
}

/** `source` seen under the model's parameter names (`byModelName`: model name → checkpoint key). */
function renamed(source: TensorSource, byModelName: Map<string, string>): TensorSource {
  const key = (name: string) => byModelName.get(name) ?? name;
  return {
    keys: () => [...byModelName.keys()].sort(),
    has: (name) => byModelName.has(name),
    info: (name): TensorInfo => source.info(key(name)),
    raw: (name) => source.raw(key(name)),
    tensor: (name, options?: ToTensorOptions) => source.tensor(key(name), options),
    metadata: source.metadata,
  };
}

/**
 * Loads `weights` into `model` (built on the meta device) following the device map. Tied
 * parameters stay with their source in memory: a module mapped to "disk" holds its weights
 * only during its own forward call, and the tied head reads them outside it.
 */
export async function dispatchPretrained(
  model: PreTrainedModel,
  weights: TensorSource,
  where: string,
  options: BigModelOptions,
): Promise<DispatchResult> {
  const { byModelName, unexpected } = model.matchCheckpoint(weights, where);
  const noSplit = noSplitModuleClasses(model);
  const map: DeviceMap =
    options.deviceMap === undefined || options.deviceMap === "auto"
      ? inferAutoDeviceMap(model, { maxMemory: options.maxMemory, noSplitModuleClasses: noSplit })
      : { ...options.deviceMap };
  for (const source of Object.values(model.tiedWeights())) {
    if (deviceFor(map, source) === "disk") map[source.slice(0, source.lastIndexOf("."))] = "cpu";
  }
  const result = await loadCheckpointAndDispatch(model, renamed(weights, byModelName), { deviceMap: map });
  model.loadingInfo = { unexpectedKeys: unexpected };
  return result;
}
