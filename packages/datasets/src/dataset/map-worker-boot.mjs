// Entry of map/filter worker threads. Loader hooks registered in the main thread (tsx) do not
// reach worker threads on Node 20, so register tsx here before loading the TypeScript worker.
try {
  const { register } = await import("tsx/esm/api");
  register();
} catch {
  // No tsx: the runtime loads .ts itself (Node ≥ 23 type stripping) or the import below reports why.
}
await import("./map-worker.ts");
