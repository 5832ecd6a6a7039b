/**
 * Phase timings of transfers, published on the `node:diagnostics_channel` channel
 * {@link TIMING_CHANNEL} so a benchmark (bench/hub.ts) or an application can see where the time
 * of a download or an upload goes without the library printing anything. Nothing is measured
 * or allocated while no one subscribes.
 *
 * @example
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe("hearth:hub:timing", (m) => console.log(m)); // { phase: "sha256", ms: 812.3, bytes: 1073741824, ... }
 */
import { channel } from "node:diagnostics_channel";

export const TIMING_CHANNEL = "hearth:hub:timing";

/**
 * One finished phase. Phases: `sha256` (hashing a local file before an upload), `preupload`,
 * `lfs-batch`, `lfs-put` (one object's PUT, or all parts of a multipart one), `lfs-verify`,
 * `commit` (the NDJSON call), `download-body` (first request to last body byte of one file),
 * `download-hash-tail` (from the last body byte until the sha256 is known),
 * `download-hash-thread-cpu` (CPU milliseconds of the sha256 worker thread for one file, not
 * wall-clock time) and `download-hash-thread-queued` (milliseconds that thread was ready but
 * waited for a core); these two on Linux only.
 */
export interface TimingMessage {
  phase: string;
  /** Wall-clock milliseconds. */
  ms: number;
  /** Bytes the phase moved or hashed, where that means something. */
  bytes?: number;
  /** Repo path of the file, where there is one. */
  path?: string;
}

const timing = channel(TIMING_CHANNEL);

/** True when someone listens: callers skip the clock reads otherwise. */
export function timingWanted(): boolean {
  return timing.hasSubscribers;
}

export function publishTiming(msg: TimingMessage): void {
  if (timing.hasSubscribers) timing.publish(msg);
}

/** Runs `fn` and publishes how long it took under `phase`. */
export async function timed<T>(phase: string, fn: () => Promise<T>, extra?: Omit<TimingMessage, "phase" | "ms">) {
  if (!timing.hasSubscribers) return fn();
  const t0 = performance.now();
  const out = await fn();
  publishTiming({ phase, ms: performance.now() - t0, ...extra });
  return out;
}
