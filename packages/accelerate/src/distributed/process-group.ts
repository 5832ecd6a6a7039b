/**
 * The process group this process belongs to, read from the environment `hearth launch` sets.
 * Outside a launch it is a group of one.
 */
import { AccelerateError } from "../errors.ts";
import { ShmTransport } from "./shm-transport.ts";
import { LocalTransport, type Transport } from "./transport.ts";

let shared: Transport | null = null;

/**
 * The transport for this process: a {@link ShmTransport} under `hearth launch`, a
 * {@link LocalTransport} otherwise. Created once per process. `HEARTH_SHM_IO` ("mapped" or
 * "files") overrides how the shared buffers are reached (default: mapped when the native addon
 * is loaded).
 */
export function defaultTransport(): Transport {
  if (shared) return shared;
  const world = Number(process.env.HEARTH_WORLD_SIZE ?? "1");
  const rank = Number(process.env.HEARTH_RANK ?? "0");
  if (!Number.isInteger(world) || world < 1 || !Number.isInteger(rank) || rank < 0 || rank >= world) {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_DISTRIBUTED",
      `defaultTransport: HEARTH_RANK=${process.env.HEARTH_RANK} and HEARTH_WORLD_SIZE=${process.env.HEARTH_WORLD_SIZE} do not describe a process group`,
    );
  }
  const dir = process.env.HEARTH_SHM_DIR;
  if (world > 1 && !dir) {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_DISTRIBUTED",
      "defaultTransport: HEARTH_SHM_DIR is not set; use `hearth launch`",
    );
  }
  const io = process.env.HEARTH_SHM_IO;
  if (io !== undefined && io !== "mapped" && io !== "files") {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_DISTRIBUTED",
      `defaultTransport: HEARTH_SHM_IO must be "mapped" or "files", got '${io}'`,
    );
  }
  shared = world === 1 ? new LocalTransport() : new ShmTransport(rank, world, dir as string, io);
  return shared;
}
