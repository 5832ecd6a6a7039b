/**
 * Devices: where a prepared model computes. A device names the tensor backend that runs its
 * kernels; `webgpu` and `cuda` plug in later by registering a {@link DeviceProvider} (and their
 * backend in `@hearth/tensor`), with no change to the Accelerator.
 */
import { getBackend, listBackends, setBackend } from "@hearth/tensor";
import { AccelerateError } from "../errors.ts";

/** A device the Accelerator can run on. */
export interface Device {
  /** "cpu", "cuda:0", "webgpu", … */
  readonly name: string;
  /** The `@hearth/tensor` backend whose kernels run on it ("cpu" native, "js" reference, …). */
  readonly backend: string;
  /** Whether the low-precision dtype has real kernels here (not just float32 emulation). */
  supportsNativeLowPrecision(dtype: "bfloat16" | "float16"): boolean;
  /** Bytes available for weights and activations, when known. */
  memoryBytes?(): number | undefined;
}

/** Something that can offer devices of one kind (cpu, cuda, webgpu). */
export interface DeviceProvider {
  /** The kind: the part before ":" in a device name. */
  readonly kind: string;
  /** Higher wins for `device: "auto"` (cuda 30, webgpu 20, cpu 10). */
  readonly priority: number;
  /** The devices available now; [] when the hardware or its backend is missing. Must not throw. */
  available(): Device[];
}

const providers = new Map<string, DeviceProvider>();

/** Registers (or replaces) a device provider. */
export function registerDeviceProvider(provider: DeviceProvider): void {
  providers.set(provider.kind, provider);
}

/** The CPU: the native `cpu` backend where the addon loaded, else the `js` reference backend. */
const cpuProvider: DeviceProvider = {
  kind: "cpu",
  priority: 10,
  available() {
    const backends = listBackends();
    const backend = backends.includes("cpu") ? "cpu" : "js";
    return [
      {
        name: "cpu",
        backend,
        // the native backend has float32-accumulating half GEMMs; js computes half in float32
        supportsNativeLowPrecision: () => backend === "cpu",
      },
    ];
  },
};
registerDeviceProvider(cpuProvider);

/** Every available device, best first. */
export function availableDevices(): Device[] {
  const sorted = [...providers.values()].sort((a, b) => b.priority - a.priority);
  const out: Device[] = [];
  for (const p of sorted) {
    try {
      out.push(...p.available());
    } catch {
      // a provider whose probe fails simply offers nothing ("auto" must never fail here)
    }
  }
  return out;
}

/**
 * Resolves a device request: "auto" picks the best available device and falls back to the CPU;
 * "cpu", "cuda", "cuda:1", "webgpu" must be available or a `HEARTH_ACCELERATE_DEVICE` error
 * says what is.
 *
 * @example
 * resolveDevice("auto").name; // "cpu" on a machine without accelerators
 */
export function resolveDevice(request: string | Device = "auto"): Device {
  if (typeof request !== "string") return request;
  const devices = availableDevices();
  if (request === "auto") {
    const best = devices[0] ?? cpuProvider.available()[0];
    return best as Device;
  }
  const exact = devices.find((d) => d.name === request);
  if (exact) return exact;
  const byKind = devices.find((d) => d.name.split(":")[0] === request);
  if (byKind) return byKind;
  throw new AccelerateError(
    "HEARTH_ACCELERATE_DEVICE",
    `resolveDevice: device '${request}' is not available; available: ${devices.map((d) => d.name).join(", ") || "none"}`,
  );
}

/** Makes `device`'s backend the active tensor backend (a no-op when it already is). */
export function activateDevice(device: Device): void {
  if (getBackend().name !== device.backend) setBackend(device.backend);
}
