/**
 * Building a model without memory and loading it across devices with disk offload.
 *
 * - {@link initEmptyWeights} builds a model whose tensors are on the "meta" device.
 * - {@link loadCheckpointAndDispatch} puts each weight where the device map says: "cpu" weights
 *   are copied into memory; "disk" weights stay in the memory-mapped safetensors file, and the
 *   module holding them gets a forward hook that pages them in as zero-copy views of the mapping
 *   for the call and drops them afterwards (file-backed pages the kernel can evict; nothing
 *   is copied into the process's own memory).
 */
import {
  clone,
  type Module,
  noGrad,
  onMetaDevice,
  openCheckpoint,
  setWeightPacking,
  type Tensor,
} from "@hearth/tensor";
import type { TensorSource } from "@hearth/tensor/safetensors";
import { AccelerateError } from "../errors.ts";
import {
  type DeviceMap,
  deviceFor,
  type InferDeviceMapOptions,
  inferAutoDeviceMap,
  namedWeights,
} from "./device-map.ts";

/**
 * Runs `build` with every tensor created on the "meta" device: shapes and dtypes only, no
 * memory. Load weights with {@link loadCheckpointAndDispatch}.
 *
 * @example
 * const model = initEmptyWeights(() => new GPT({ layers: 48, width: 4096 })); // allocates nothing
 */
export function initEmptyWeights<T>(build: () => T): T {
  return onMetaDevice(build);
}

/** Where a tensor is referenced: module fields, parameter and buffer slots. */
interface Slot {
  module: Module;
  key: string;
  kind: "field" | "parameter" | "buffer";
}

function findSlots(model: Module, targets: Set<Tensor>): Map<Tensor, Slot[]> {
  const out = new Map<Tensor, Slot[]>();
  const add = (t: Tensor, s: Slot) => {
    if (!targets.has(t)) return;
    const list = out.get(t) ?? [];
    list.push(s);
    out.set(t, list);
  };
  for (const [, m] of model.namedModules()) {
    for (const [n, t] of m.namedParameters("", false)) add(t, { module: m, key: n, kind: "parameter" });
    for (const [k, v] of Object.entries(m))
      if (targets.has(v as Tensor)) add(v as Tensor, { module: m, key: k, kind: "field" });
  }
  for (const [, m] of model.namedModules()) {
    const own = new Set(m.namedParameters("", false).map(([, t]) => t));
    for (const [n, t] of m.namedBuffers()) {
      if (!n.includes(".") && !own.has(t)) add(t, { module: m, key: n, kind: "buffer" });
    }
  }
  return out;
}

function fill(slots: Slot[], t: Tensor): void {
  for (const s of slots) {
    if (s.kind === "field") (s.module as unknown as Record<string, Tensor>)[s.key] = t;
    else if (s.kind === "parameter") s.module.registerParameter(s.key, t);
    else s.module.registerBuffer(s.key, t);
  }
}

/** Options of {@link loadCheckpointAndDispatch}. */
export interface DispatchOptions extends InferDeviceMapOptions {
  /** "auto" (default: infer from `maxMemory`) or an explicit map. */
  deviceMap?: "auto" | DeviceMap;
}

/** What was placed where. */
export interface DispatchResult {
  deviceMap: DeviceMap;
  /** Bytes of weights copied into memory. */
  residentBytes: number;
  /** Bytes of weights left in the mapped file and paged in per forward. */
  offloadedBytes: number;
}

/**
 * Loads `checkpoint` (a safetensors file, a sharded index or a folder) into `model` (typically
 * built with {@link initEmptyWeights}) following the device map. Disk-offloaded modules page
 * their weights in from the mapped file on each forward call. Inference only: offloaded weights
 * are read-only views.
 *
 * @example
 * const model = initEmptyWeights(() => new Net(config));
 * await loadCheckpointAndDispatch(model, "model.safetensors", { maxMemory: { cpu: "1GB" } });
 * const y = model.forward(x);
 */
export async function loadCheckpointAndDispatch(
  model: Module,
  checkpoint: string | TensorSource,
  opts: DispatchOptions = {},
): Promise<DispatchResult> {
  const deviceMap =
    opts.deviceMap === undefined || opts.deviceMap === "auto" ? inferAutoDeviceMap(model, opts) : opts.deviceMap;
  const source = typeof checkpoint === "string" ? await openCheckpoint(checkpoint) : checkpoint;
  const weights = namedWeights(model);
  const slots = findSlots(model, new Set(weights.map(([, t]) => t)));
  const offloaded = new Map<string, [string, Tensor][]>(); // disk module name → its weights
  let residentBytes = 0;
  let offloadedBytes = 0;
  for (const [name, t] of weights) {
    if (!source.has(name)) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_CHECKPOINT",
        `loadCheckpointAndDispatch: the checkpoint has no '${name}'`,
      );
    }
    const info = source.info(name);
    if (info.shape.length !== t.ndim || info.shape.some((s, i) => s !== t.shape[i])) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_CHECKPOINT",
        `loadCheckpointAndDispatch: '${name}' is [${info.shape}] in the checkpoint, the model expects [${t.shape}]`,
      );
    }
    const device = deviceFor(deviceMap, name);
    const bytes = t.size * (t.dtype === "float32" || t.dtype === "int32" ? 4 : t.dtype === "int64" ? 8 : 2);
    if (device === "disk") {
      // the module that holds the tensor itself pages it in (Python hooks every offloaded
      // submodule too): a container such as a ModuleList may never have its forward called
      const owner = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "";
      const list = offloaded.get(owner) ?? [];
      list.push([name, t]);
      offloaded.set(owner, list);
      offloadedBytes += bytes;
    } else if (device === "cpu") {
      const real = noGrad(() => clone(source.tensor(name, { dtype: t.dtype })));
      fill(slots.get(t) ?? [], real);
      residentBytes += bytes;
    } else {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DEVICE_MAP",
        `loadCheckpointAndDispatch: device '${device}' for '${name}' is not supported yet (use "cpu" or "disk")`,
      );
    }
  }
  const modules = new Map(model.namedModules());
  for (const [owner, list] of offloaded) {
    const m = modules.get(owner);
    if (!m) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DEVICE_MAP",
        `loadCheckpointAndDispatch: the offloaded weights under '${owner}' are not held by a module`,
      );
    }
    pageInOnForward(m, list, slots, source);
  }
  return { deviceMap, residentBytes, offloadedBytes };
}

/**
 * Hooks `m.forward` to swap in views of the mapped file for the call, and meta tensors after.
 * The call runs without the cpu backend's weight packings and transposed copies: made of a view
 * that lives for one call, each would be an anonymous copy of an offloaded weight, made again on
 * every call and held until collected (a model 3x its cap grew by 5x its offloaded bytes).
 */
function pageInOnForward(m: Module, list: [string, Tensor][], slots: Map<Tensor, Slot[]>, source: TensorSource): void {
  const forward = m.forward.bind(m);
  // biome-ignore lint/suspicious/noExplicitAny: forwards keep their own signatures
  m.forward = (...args: any[]) => {
    for (const [name, t] of list) fill(slots.get(t) ?? [], source.tensor(name, { dtype: t.dtype }));
    const packing = setWeightPacking(false);
    try {
      return forward(...args);
    } finally {
      setWeightPacking(packing);
      for (const [, t] of list) fill(slots.get(t) ?? [], t);
    }
  };
}
