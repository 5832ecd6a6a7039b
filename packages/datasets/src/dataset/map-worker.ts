/**
 * Worker-thread entry of `map`/`filter` with `numProc > 1`: rebuilds the user function from its
 * source, processes its shard of rows, and reports progress, the kept rows (filter), or an error.
 */
import { parentPort as maybePort, workerData } from "node:worker_threads";
import { functionFromSource, processShard, type ShardJob } from "./map.ts";

const job = workerData as ShardJob;
if (!maybePort) throw new Error("map-worker.ts runs only as a worker thread");
const parentPort = maybePort;
try {
  const fn = functionFromSource(job.fnSource);
  let pending = 0;
  const { kept } = await processShard(job, fn, (n) => {
    pending += n;
    if (pending >= 10000) {
      parentPort.postMessage({ progress: pending });
      pending = 0;
    }
  });
  if (pending) parentPort.postMessage({ progress: pending });
  parentPort.postMessage({ done: true, kept });
} catch (error) {
  const e = error as { code?: string; message?: string };
  parentPort.postMessage({
    error: { code: e.code ?? "HEARTH_DATASETS_WORKER_FAILED", message: e.message ?? String(error) },
  });
}
