/**
 * Runs the test hub as its own process (used by bench/hub.ts so the client and the server do
 * not share an event loop). Prints `{"url": ...}` on stdout once listening.
 * Env: HUB_LFS_DIR (storage folder), HUB_TOKEN (a write token for user "bench"),
 * HUB_MULTIPART_THRESHOLD (bytes above which LFS uploads are offered multipart).
 */
import { startTestHub } from "./index.ts";

const hub = await startTestHub({
  lfsDir: process.env.HUB_LFS_DIR,
  lfsThreshold: 10 * 1024 * 1024,
  multipartThreshold: Number(process.env.HUB_MULTIPART_THRESHOLD ?? 64 * 1024 * 1024),
});
hub.addUser(process.env.HUB_TOKEN ?? "hf_bench", { name: "bench" });
process.stdout.write(`${JSON.stringify({ url: hub.url })}\n`);
process.on("SIGTERM", () => hub.close().then(() => process.exit(0)));
