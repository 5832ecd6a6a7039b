/**
 * The backend registry and the active backend. Kernels are looked up by primitive name in the
 * active backend's table; a missing kernel is an error (`HEARTH_TENSOR_NO_KERNEL`), never a
 * silent fallback.
 */
import { HearthTensorError } from "../errors.ts";
import type { Backend, KernelRecord } from "./types.ts";

interface Registered {
  backend: Backend;
  table: Map<string, KernelRecord>;
  priority: number;
}

const registry = new Map<string, Registered>();
let active: Registered | null = null;

/**
 * Registers a backend. The registered backend with the highest `priority` becomes active unless
 * `setBackend` chose one explicitly.
 *
 * @example
 * registerBackend({ name: "cpu", device: "cpu", allocator, kernels, synchronize() {} }, 10);
 */
export function registerBackend(backend: Backend, priority = 0): void {
  const table = new Map<string, KernelRecord>();
  for (const record of backend.kernels) {
    if (table.has(record.op)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_BACKEND",
        `registerBackend: backend '${backend.name}' lists two kernels for op '${record.op}'`,
      );
    }
    table.set(record.op, record);
  }
  const entry = { backend, table, priority };
  registry.set(backend.name, entry);
  if (!explicit && (active === null || priority >= active.priority)) active = entry;
}

let explicit = false;

/** Makes the named backend active for all following ops. */
export function setBackend(name: string): void {
  const entry = registry.get(name);
  if (!entry) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_BACKEND",
      `setBackend: argument 'name' must be one of ${[...registry.keys()].join(", ")}, got '${name}'`,
    );
  }
  active = entry;
  explicit = true;
}

/** Runs `fn` with the named backend active, then restores the previous one. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = active;
  const prevExplicit = explicit;
  setBackend(name);
  try {
    return fn();
  } finally {
    active = prev;
    explicit = prevExplicit;
  }
}

/** The active backend. */
export function getBackend(): Backend {
  if (!active) throw new HearthTensorError("HEARTH_TENSOR_BACKEND", "getBackend: no backend is registered");
  return active.backend;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** The active backend's kernel record for `op`, or a `HEARTH_TENSOR_NO_KERNEL` error. */
export function getKernel(op: string): KernelRecord {
  const entry = active;
  if (!entry) throw new HearthTensorError("HEARTH_TENSOR_BACKEND", "getKernel: no backend is registered");
  const record = entry.table.get(op);
  if (!record) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_NO_KERNEL",
      `${op}: backend '${entry.backend.name}' has no kernel for primitive '${op}'`,
    );
  }
  return record;
}
