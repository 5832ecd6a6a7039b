/**
 * Tokenizer encode throughput on tinyshakespeare (1.1 MB): Hearth's GPT-2 (vocab.json + merges.txt)
 * and Llama 3 (tokenizer.json) beside js-tiktoken on GPT-2's ranks, single-threaded and batched
 * over worker threads. Reads ../shared/data directly; installs the peer into bench/.peers on demand.
 *
 *   npm run bench -- tokenizers [--workers N] [--repeat R]
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { AutoTokenizer } from "../packages/transformers/src/index.ts";

const ROOT = resolve(import.meta.dirname, "..");
const DATA = resolve(ROOT, "../shared/data");
const PEERS = join(ROOT, "bench/.peers");
const PEER_SPEC = "js-tiktoken@1.0.21";

type Subject = "hearth-gpt2" | "hearth-llama3" | "js-tiktoken-gpt2";
type Encoder = (text: string) => number[];

async function load(subject: Subject): Promise<Encoder> {
  if (subject === "hearth-gpt2") {
    const tok = await AutoTokenizer.fromPretrained(join(DATA, "tokenizers/gpt2"), {
      fileNames: { "vocab.json": "encoder.json", "merges.txt": "vocab.bpe" },
    });
    return (t) => tok.encode(t, { addSpecialTokens: false });
  }
  if (subject === "hearth-llama3") {
    const tok = await AutoTokenizer.fromPretrained(join(DATA, "tokenizers/llama3-bpe"));
    return (t) => tok.encode(t, { addSpecialTokens: false });
  }
  const require = createRequire(join(PEERS, "package.json"));
  const { Tiktoken } = require("js-tiktoken/lite");
  const ranks = require("js-tiktoken/ranks/gpt2");
  const enc = new Tiktoken(ranks.default ?? ranks);
  return (t) => enc.encode(t);
}

// ---- worker side: load, then encode the chunks it is sent, report the count --------------
if (!isMainThread) {
  const { subject } = workerData as { subject: Subject };
  const encode = await load(subject);
  parentPort?.on("message", (chunks: string[] | null) => {
    if (chunks === null) {
      process.exit(0);
    }
    let n = 0;
    for (const c of chunks) n += encode(c).length;
    parentPort?.postMessage(n);
  });
  parentPort?.postMessage("ready");
} else {
  await main();
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Split at line ends into chunks of about `size` characters (the "documents" of a batch). */
function chunk(text: string, size: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let j = Math.min(text.length, i + size);
    const nl = text.indexOf("\n", j);
    j = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** A pool of workers holding one subject's tokenizer; `round()` encodes all chunks once and returns ms. */
async function startPool(subject: Subject, chunks: string[], workers: number) {
  const pool = await Promise.all(
    Array.from({ length: workers }, async () => {
      // Workers do not inherit tsx's loader: register it, then import this file.
      const api = pathToFileURL(
        createRequire(import.meta.url)
          .resolve("tsx/esm/api")
          .replace(/\.cjs$/, ".mjs"),
      ).href;
      const self = JSON.stringify(import.meta.url);
      const boot = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${self}, ${self}));`;
      const w = new Worker(boot, { eval: true, workerData: { subject } });
      await new Promise<void>((ok, bad) => {
        w.once("message", () => ok());
        w.once("error", bad);
      });
      return w;
    }),
  );
  const shares = pool.map((_, k) => chunks.filter((_, i) => i % workers === k));
  return {
    async round(): Promise<number> {
      const t0 = performance.now();
      await Promise.all(
        pool.map(
          (w, k) =>
            new Promise((ok) => {
              w.once("message", ok);
              w.postMessage(shares[k]);
            }),
        ),
      );
      return performance.now() - t0;
    },
    close(): void {
      for (const w of pool) w.postMessage(null);
    },
  };
}

async function main(): Promise<void> {
  const corpus = join(DATA, "datasets/text/tinyshakespeare.txt");
  if (!existsSync(corpus)) {
    console.log(`tokenizers bench skipped: ${corpus} is absent (it comes from ../shared/data, beside the repository)`);
    return;
  }
  if (!existsSync(join(PEERS, "node_modules/js-tiktoken"))) {
    console.log(`installing the peer: npm install --prefix bench/.peers ${PEER_SPEC}`);
    execFileSync("npm", ["install", "--prefix", PEERS, "--no-audit", "--no-fund", "--no-save", PEER_SPEC], {
      stdio: "inherit",
    });
  }
  const text = readFileSync(corpus, "utf8");
  const mb = Buffer.byteLength(text) / 1e6;
  const repeat = arg("repeat", 5);
  const workers = arg("workers", Math.max(2, availableParallelism()));
  const subjects: Subject[] = ["hearth-gpt2", "js-tiktoken-gpt2", "hearth-llama3"];
  const encoders = new Map<Subject, Encoder>();
  for (const s of subjects) encoders.set(s, await load(s));

  // Validate before timing: Hearth's GPT-2 ids must equal the peer's.
  const ours = (encoders.get("hearth-gpt2") as Encoder)(text);
  const peer = (encoders.get("js-tiktoken-gpt2") as Encoder)(text);
  if (ours.length !== peer.length || ours.some((id, i) => id !== peer[i])) {
    throw new Error("hearth-gpt2 and js-tiktoken disagree on tinyshakespeare; not timing");
  }
  console.log(`tinyshakespeare: ${mb.toFixed(2)} MB, ${ours.length} GPT-2 tokens (identical to js-tiktoken)`);
  console.log(
    `node ${process.version}, ${availableParallelism()} CPUs, ${workers} workers, median of ${repeat}; shared machine: figures are noisy`,
  );

  // Subjects take turns within each repetition, so a change in machine load hits them alike.
  const cold = new Map<Subject, number>();
  for (const s of subjects) {
    const fresh = await load(s); // first pass on a new instance: no word cache yet
    const c0 = performance.now();
    fresh(text);
    cold.set(s, mb / ((performance.now() - c0) / 1000));
  }
  const singleTimes = new Map<Subject, number[]>(subjects.map((s) => [s, []]));
  for (let r = 0; r < repeat; r++) {
    for (const s of subjects) {
      const enc = encoders.get(s) as Encoder;
      const t0 = performance.now();
      enc(text);
      singleTimes.get(s)?.push(performance.now() - t0);
    }
  }
  const single = new Map(subjects.map((s) => [s, mb / (median(singleTimes.get(s) as number[]) / 1000)]));
  const chunks = chunk(text, 16_384);
  const pools = new Map<Subject, Awaited<ReturnType<typeof startPool>>>();
  for (const s of subjects) pools.set(s, await startPool(s, chunks, workers));
  const multiTimes = new Map<Subject, number[]>(subjects.map((s) => [s, []]));
  for (let r = 0; r < repeat + 1; r++) {
    for (const s of subjects) {
      const ms = await (pools.get(s) as Awaited<ReturnType<typeof startPool>>).round();
      if (r > 0) multiTimes.get(s)?.push(ms); // round 0 warms the workers' caches
    }
  }
  for (const p of pools.values()) p.close();
  const multi = new Map(subjects.map((s) => [s, mb / (median(multiTimes.get(s) as number[]) / 1000)]));

  const row = (a: string, f: string, b: string, c: string, d: string, e: string) =>
    console.log(
      `${a.padEnd(18)} ${f.padStart(16)} ${b.padStart(14)} ${c.padStart(16)} ${d.padStart(8)} ${e.padStart(26)}`,
    );
  row(
    "subject",
    "first pass MB/s",
    "1 thread MB/s",
    `${workers} workers MB/s`,
    "scaling",
    "vs js-tiktoken (1 / N thr)",
  );
  const p1 = single.get("js-tiktoken-gpt2") as number;
  const pN = multi.get("js-tiktoken-gpt2") as number;
  for (const s of subjects) {
    const a = single.get(s) as number;
    const b = multi.get(s) as number;
    row(
      s,
      (cold.get(s) as number).toFixed(2),
      a.toFixed(2),
      b.toFixed(2),
      `${(b / a).toFixed(2)}x`,
      `${(a / p1).toFixed(2)}x / ${(b / pN).toFixed(2)}x`,
    );
  }
}
