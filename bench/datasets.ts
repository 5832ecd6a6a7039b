/**
 * `npm run bench -- datasets [--rows N] [--runs R]`: rows/s of @hearth/datasets beside DuckDB doing
 * the same work in the same process, on ../shared/data/datasets/columnar/flights-3m.parquet (3M
 * rows: date, delay, distance, origin, destination) or, without ../shared, a generated Parquet file.
 *
 * Peer (not a package dependency): `npm install --prefix bench/.peers @duckdb/node-api`.
 * Without it, only our figures print. DuckDB runs with `SET threads = 1` except where a row says
 * otherwise, so both sides use the same number of cores. Figures are the median of `--runs`
 * (default 3) runs; on a shared machine they are noisy.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Dataset, IterableDataset, loadDataset, toParquet } from "@hearth/datasets";

interface DuckChunk {
  rowCount: number;
}
interface DuckConnection {
  run(sql: string): Promise<unknown>;
  stream(sql: string): Promise<{ fetchChunk(): Promise<DuckChunk | null> }>;
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = flag("runs", 3);

async function duckdb(): Promise<DuckConnection | null> {
  const path = resolve(import.meta.dirname, ".peers", "node_modules", "@duckdb", "node-api", "lib", "index.js");
  if (!existsSync(path)) {
    console.log(
      "DuckDB peer not installed: npm install --prefix bench/.peers @duckdb/node-api (printing our figures only)",
    );
    return null;
  }
  const mod = (await import(path)) as {
    DuckDBInstance: { create(p: string): Promise<{ connect(): Promise<DuckConnection> }> };
  };
  const instance = await mod.DuckDBInstance.create(":memory:");
  return instance.connect();
}

async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function drain(db: DuckConnection, sql: string): Promise<number> {
  const result = await db.stream(sql);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return rows;
    rows += chunk.rowCount;
  }
}

const work = mkdtempSync(join(tmpdir(), "hearth-bench-datasets-"));
try {
  const shared = resolve(
    import.meta.dirname,
    "..",
    "..",
    "shared",
    "data",
    "datasets",
    "columnar",
    "flights-3m.parquet",
  );
  let file = shared;
  if (!existsSync(shared) || args.includes("--rows")) {
    const n = flag("rows", 1_000_000);
    const delay = Array.from({ length: n }, (_, i) => ((i * 7919) % 200) - 50);
    const distance = Array.from({ length: n }, (_, i) => (i * 104729) % 3000);
    const origin = Array.from({ length: n }, (_, i) => ["ATL", "LAX", "ORD", "JFK"][i % 4]);
    file = join(work, "generated.parquet");
    toParquet(Dataset.fromDict({ delay, distance, origin }, { cacheDir: work }), file);
  }
  const db = await duckdb();
  const cacheDir = join(work, "cache");
  let ds = await loadDataset(file, { split: "train", cacheDir });
  const n = ds.numRows;
  console.log(`input: ${file} (${n.toLocaleString("en")} rows), median of ${runs} runs, node ${process.version}`);
  console.log("op                                   | hearth rows/s | duckdb rows/s | hearth/duckdb");
  const row = (op: string, ours: number, peer: number | null) => {
    const r = (s: number | null) => (s === null ? "-" : Math.round(n / s).toLocaleString("en"));
    console.log(
      `${op.padEnd(37)}| ${r(ours).padStart(13)} | ${r(peer).padStart(13)} | ${peer === null ? "-" : (peer / ours).toFixed(2)}`,
    );
  };
  const q = (p: string) => `'${p.replace(/'/g, "''")}'`;
  if (db) await db.run("SET threads = 1");

  // 1. Parquet → Arrow: we convert to an Arrow cache file; DuckDB materialises a table.
  const load = await median(async () => {
    ds = await loadDataset(file, { split: "train", cacheDir, downloadMode: "force_redownload" });
  });
  const loadPeer = db
    ? await median(() => db.run(`CREATE OR REPLACE TABLE t AS SELECT * FROM read_parquet(${q(file)})`))
    : null;
  row("load Parquet -> Arrow", load, loadPeer);

  // 2. Scan + projection of two numeric columns.
  const scan = await median(() => {
    let s = 0;
    for (const b of ds.withFormat("typed", ["delay", "distance"]).iter({ batchSize: 65536 })) {
      const d = (b as Record<string, ArrayLike<number>>).delay;
      for (let i = 0; i < d.length; i++) s += d[i] ?? 0;
    }
    return s;
  });
  const scanPeer = db ? await median(() => drain(db, "SELECT delay, distance FROM t")) : null;
  row("scan + projection (delay, distance)", scan, scanPeer);

  // 3. Batched map adding a column, written to a new Arrow file / table.
  const mapFn = (b: { delay: ArrayLike<number> }) => ({ d2: Array.from(b.delay, (x) => (x ?? 0) * 2) });
  const map1 = await median(() => ds.map(mapFn, { batched: true, batchSize: 10000, loadFromCacheFile: false }));
  const mapPeer1 = db
    ? await median(() => db.run("CREATE OR REPLACE TABLE m AS SELECT *, delay * 2 AS d2 FROM t"))
    : null;
  row("map batched, 1 worker", map1, mapPeer1);
  const map2 = await median(() =>
    ds.map(mapFn, { batched: true, batchSize: 10000, numProc: 2, loadFromCacheFile: false }),
  );
  if (db) await db.run("SET threads = 2");
  const mapPeer2 = db
    ? await median(() => db.run("CREATE OR REPLACE TABLE m AS SELECT *, delay * 2 AS d2 FROM t"))
    : null;
  if (db) await db.run("SET threads = 1");
  row("map batched, 2 workers (duckdb 2 thr)", map2, mapPeer2);

  // 4. Filter: we build an index mapping; DuckDB selects the matching row ids.
  const filter = await median(() =>
    ds.filter((b: { delay: ArrayLike<number> }) => Array.from(b.delay, (x) => (x ?? 0) > 0), {
      batched: true,
      batchSize: 10000,
      inputColumns: ["delay"],
      loadFromCacheFile: false,
    }),
  );
  const filterPeer = db
    ? await median(() => db.run("CREATE OR REPLACE TABLE f AS SELECT rowid FROM t WHERE delay > 0"))
    : null;
  row("filter delay > 0", filter, filterPeer);

  // 5. Streaming iteration straight from the Parquet file, row group by row group.
  const stream = await median(async () => {
    let k = 0;
    for await (const _ of IterableDataset.fromFiles("parquet", [file])) k++;
    return k;
  });
  const streamPeer = db ? await median(() => drain(db, `SELECT * FROM read_parquet(${q(file)})`)) : null;
  row("streaming iteration (Parquet)", stream, streamPeer);
} finally {
  rmSync(work, { recursive: true, force: true });
}
