import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { writeColumnsFile } from "../src/dataset/storage.ts";
import { Dataset, Value } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

// 10 million rows by default (about 30 s on one core); HEARTH_DATASETS_BIG_ROWS overrides it.
const ROWS = Number(process.env.HEARTH_DATASETS_BIG_ROWS ?? 10_000_000);
const { dir, cleanup } = tempDir("hearth-ds-big-");
after(cleanup);

// A full collection before each reading, so the figures are memory the pipeline holds, not
// garbage the collector has not reached yet.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Anonymous resident memory (what the process allocated), and file-backed resident pages (mapped files). */
function rss(): { anon: number; file: number } {
  gc();
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { anon: kb("RssAnon"), file: kb("RssFile") };
}

test(`${ROWS.toLocaleString("en")} generated rows: map + filter + shuffle + select in bounded memory, then from cache`, async (t) => {
  const source = join(dir, "source.arrow");
  const features = { id: Value("int32"), x: Value("float32") };
  writeColumnsFile(source, features, "big-source", function* () {
    for (let s = 0; s < ROWS; s += 1 << 20) {
      const n = Math.min(1 << 20, ROWS - s);
      const id = new Int32Array(n);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        id[i] = s + i;
        x[i] = (s + i) % 1000;
      }
      yield { columns: { id, x }, length: n };
    }
  });
  const dataBytes = statSync(source).size;

  // Opening maps the file: no rows are read, and a random row costs a page fault or two.
  const before = rss();
  const opened = Dataset.fromArrowFiles([source]);
  assert.equal(opened.numRows, ROWS);
  const mid = Math.floor(ROWS / 2) + 7;
  assert.deepEqual(opened.get(mid), { id: mid, x: mid % 1000 });
  const after = rss();
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  t.diagnostic(
    `open + one row of a ${mb(dataBytes)} file: anonymous RSS +${mb(after.anon - before.anon)}, file pages +${mb(after.file - before.file)}`,
  );
  assert.ok(after.file - before.file < dataBytes / 10, "opening does not read the file");
  let calls = 0;
  const samples: number[] = [];
  const sample = () => samples.push(rss().anon);
  const pipeline = async () => {
    const ds = Dataset.fromArrowFiles([source]);
    sample();
    const mapped = await ds.map(
      (b: { x: Float32Array }) => {
        calls++;
        if (calls % 16 === 0) sample(); // in flight, not only between steps
        return { y: b.x.map((v) => v * 2) };
      },
      { batched: true, batchSize: 65536 },
    );
    sample();
    const kept = await mapped.filter((b: { id: Int32Array }) => b.id.map((i) => (i % 3 === 0 ? 1 : 0)), {
      batched: true,
      batchSize: 65536,
      inputColumns: ["id"],
    });
    sample();
    const out = kept.shuffle({ seed: 0 }).select({ start: 0, end: 1000 });
    sample();
    return out;
  };

  const base = rss();
  const first = await pipeline();
  const callsFirst = calls;
  assert.ok(callsFirst > 0);

  assert.equal(first.numRows, 1000);
  const rows = first.toList() as { id: number; x: number; y: number }[];
  for (const r of rows) {
    assert.equal(r.id % 3, 0);
    assert.equal(r.x, r.id % 1000);
    assert.equal(r.y, r.x * 2);
  }
  assert.ok(new Set(rows.map((r) => r.id)).size === 1000);
  assert.notDeepEqual(
    rows.slice(0, 5).map((r) => r.id),
    [0, 3, 6, 9, 12],
    "shuffled",
  );
  sample();
  // The pipeline streams the source and the map output through; the memory it allocates (anonymous
  // RSS after a collection: index mappings of 4 bytes per kept row, batch buffers, and what the C
  // allocator keeps after frees) stays far below that data. Mapped file pages (RssFile) are page cache, reported for context.
  const processed = dataBytes + statSync(first.cacheFiles[0].filename).size;
  const grown = Math.max(...samples) - base.anon;
  t.diagnostic(`samples (MB over base): ${samples.map((x) => Math.round((x - base.anon) / 1e6)).join(" ")}`);
  t.diagnostic(
    `data ${mb(processed)}; anonymous RSS grew ${mb(grown)}; mapped file pages ${mb(rss().file - base.file)}`,
  );
  assert.ok(grown < processed / 2, `anonymous resident memory grew ${mb(grown)} for ${mb(processed)} of data`);

  const second = await pipeline();
  assert.equal(calls, callsFirst, "the second run reads every step from its cache file");
  assert.deepEqual(second.cacheFiles, first.cacheFiles);
  assert.deepEqual(second.column("id"), first.column("id"));
});
