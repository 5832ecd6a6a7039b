/**
 * Worker-thread entry of `map`/`filter` with `numProc > 1`. A worker stays in a pool between
 * calls; for each job it rebuilds the user function from its source, processes its shard of
 * rows, and reports progress, the kept rows (filter), or an error.
 */
import { parentPort as maybePort } from "node:worker_threads";
import { functionFromSource, processShard, type ShardJob } from "./map.ts";

if (!maybePort) throw new Error("map-worker.ts runs only as a worker thread");
const parentPort = maybePort;

parentPort.on("message", async (job: ShardJob) => {
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
});
parentPort.postMessage({ ready: true });
