/**
 * Device maps for models bigger than memory: how many bytes each module's weights take, and
 * which device (or "disk") each module goes to given a memory budget per device.
 */
import { freemem } from "node:os";
import { DTYPE_BYTES, type Module, type Tensor } from "@hearth/tensor";
import { AccelerateError } from "../errors.ts";

/** Module (or tensor) name → "cpu", another device name, or "disk". "" names the whole model. */
export type DeviceMap = Record<string, string>;

/** Options of {@link inferAutoDeviceMap}. */
export interface InferDeviceMapOptions {
  /**
   * Bytes each device may hold, in the order devices are filled (e.g. `{ "cuda:0": 8e9, cpu:
   * 16e9 }`). What fits nowhere goes to "disk". Default: `{ cpu: 90% of free memory }`.
   * Numbers or strings like "512MB", "2GiB".
   */
  maxMemory?: Record<string, number | string>;
  /** Module class names never split across devices (a transformer block). */
  noSplitModuleClasses?: string[];
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30 };

/** Parses `1e6`, "512MB", "2GiB" into bytes. */
export function parseBytes(v: number | string): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  const m = /^\s*([0-9.]+)\s*([a-zA-Z]*)\s*$/.exec(String(v));
  const unit = UNITS[(m?.[2] || "B").toUpperCase()];
  const n = Number(m?.[1]);
  if (!m || unit === undefined || !Number.isFinite(n)) {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_DEVICE_MAP",
      `parseBytes: expected a byte count like 1e9, "512MB" or "2GiB", got '${v}'`,
    );
  }
  return n * unit;
}

const bytesOf = (t: Tensor) => t.size * DTYPE_BYTES[t.dtype];

/** The weights (parameters and persistent buffers) by dotted name, each shared tensor once. */
export function namedWeights(model: Module): [string, Tensor][] {
  const seen = new Set<Tensor>();
  const out: [string, Tensor][] = [];
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (seen.has(t)) continue;
    seen.add(t);
    out.push([name, t]);
  }
  return out;
}

/** Bytes of weights under each module name ("" is the whole model). */
export function computeModuleSizes(model: Module): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [name, t] of namedWeights(model)) {
    const parts = name.split(".");
    for (let i = 0; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join(".");
      sizes.set(prefix, (sizes.get(prefix) ?? 0) + bytesOf(t));
    }
    sizes.set(name, bytesOf(t));
  }
  return sizes;
}

/**
 * Fills devices in the order of `maxMemory` with the model's modules in registration order,
 * splitting a module that does not fit into its children (unless its class is listed in
 * `noSplitModuleClasses`); what fits nowhere goes to "disk".
 *
 * @example
 * const map = inferAutoDeviceMap(model, { maxMemory: { cpu: "200MB" }, noSplitModuleClasses: ["Block"] });
 * // { "wte": "cpu", "h.0": "cpu", …, "h.9": "disk", "ln_f": "disk" }
 */
export function inferAutoDeviceMap(model: Module, opts: InferDeviceMapOptions = {}): DeviceMap {
  const budgets = Object.entries(opts.maxMemory ?? { cpu: Math.floor(freemem() * 0.9) }).map(
    ([d, v]) => [d, parseBytes(v)] as [string, number],
  );
  if (budgets.some(([d]) => d === "disk")) {
    throw new AccelerateError("HEARTH_ACCELERATE_DEVICE_MAP", "inferAutoDeviceMap: maxMemory must not name 'disk'");
  }
  budgets.push(["disk", Number.POSITIVE_INFINITY]);
  const noSplit = new Set(opts.noSplitModuleClasses ?? []);
  const sizes = computeModuleSizes(model);
  const modules = new Map(model.namedModules());
  const weights = new Map(namedWeights(model));
  // units: a module, or a tensor held directly by a module that had to be split
  const children = (prefix: string, m: Module): string[] => {
    const own = [...weights.keys()].filter(
      (n) => n.startsWith(prefix ? `${prefix}.` : "") && !n.slice(prefix ? prefix.length + 1 : 0).includes("."),
    );
    const kids = [...m.namedChildren()]
      .map(([n]) => (prefix ? `${prefix}.${n}` : n))
      .filter((n) => (sizes.get(n) ?? 0) > 0);
    return [...own, ...kids];
  };
  const queue = children("", model);
  const map: DeviceMap = {};
  let dev = 0;
  let left = (budgets[0] as [string, number])[1];
  while (queue.length > 0) {
    const unit = queue[0] as string;
    const size = sizes.get(unit) ?? 0;
    if (size <= left) {
      map[unit] = (budgets[dev] as [string, number])[0];
      left -= size;
      queue.shift();
      continue;
    }
    const m = modules.get(unit);
    if (m && !noSplit.has(m.constructor.name) && [...m.namedChildren()].length > 0) {
      queue.splice(0, 1, ...children(unit, m));
      continue;
    }
    dev++;
    left = (budgets[dev] as [string, number])[1];
  }
  return map;
}

/** The device `name` (a tensor or module) gets under `map`: its longest mapped prefix. */
export function deviceFor(map: DeviceMap, name: string): string {
  let best: string | undefined;
  let bestLen = -1;
  for (const [key, device] of Object.entries(map)) {
    const covers = key === "" || name === key || name.startsWith(`${key}.`);
    if (covers && key.length > bestLen) {
      best = device;
      bestLen = key.length;
    }
  }
  if (best === undefined) {
    throw new AccelerateError("HEARTH_ACCELERATE_DEVICE_MAP", `deviceMap: no entry covers '${name}'`);
  }
  return best;
}
