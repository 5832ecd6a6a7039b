/**
 * safetensors loading: a generated GPT-2-small-sized checkpoint (124M float32 parameters, ~475 MiB,
 * GPT-2's tensor names and shapes) in a temp folder.
 *
 *   time to first tensor   open the file and have one tensor's values readable (every page touched)
 *   time to fully loaded   every tensor's values readable (every page of every tensor touched)
 *
 * Ours maps the file (`safeOpen`) and views the mapping; the peer is the naive reader everyone
 * writes first: `fs.readFile` the whole file, `JSON.parse` the header, view the buffer. Both run in
 * this process on the same file, page cache warm (the file was just written); medians of 5 runs.
 *
 * Run: npm run bench -- safetensors
 */

import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { nativeLoadError } from "../packages/tensor/src/native/index.ts";
import { safeOpen, saveFile, type TensorData, toFloat32 } from "../packages/tensor/src/safetensors/index.ts";

const RUNS = 5;

// Collect between runs so that unmapping the previous run's mapping is not timed.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function gpt2Small(): Map<string, TensorData> {
  const shapes: [string, number[]][] = [
    ["wte.weight", [50257, 768]],
    ["wpe.weight", [1024, 768]],
  ];
  for (let l = 0; l < 12; l++) {
    const p = `h.${l}.`;
    shapes.push(
      [`${p}ln_1.weight`, [768]],
      [`${p}ln_1.bias`, [768]],
      [`${p}attn.c_attn.weight`, [768, 2304]],
      [`${p}attn.c_attn.bias`, [2304]],
      [`${p}attn.c_proj.weight`, [768, 768]],
      [`${p}attn.c_proj.bias`, [768]],
      [`${p}ln_2.weight`, [768]],
      [`${p}ln_2.bias`, [768]],
      [`${p}mlp.c_fc.weight`, [768, 3072]],
      [`${p}mlp.c_fc.bias`, [3072]],
      [`${p}mlp.c_proj.weight`, [3072, 768]],
      [`${p}mlp.c_proj.bias`, [768]],
    );
  }
  shapes.push(["ln_f.weight", [768]], ["ln_f.bias", [768]]);
  return new Map(
    shapes.map(([name, shape], k) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = ((i * 7 + k) % 101) / 101 - 0.5;
      return [name, { dtype: "F32", shape, data }];
    }),
  );
}

/** Reads one float per 4 KiB page, so every page of the tensor is faulted in / read. */
function touch(values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i += 1024) s += values[i] as number;
  return s + (values[values.length - 1] ?? 0);
}

async function oursFirst(path: string, name: string): Promise<number> {
  const file = await safeOpen(path);
  const raw = file.raw(name);
  return touch(toFloat32(raw.dtype, raw.data));
}

async function oursAll(path: string): Promise<number> {
  const file = await safeOpen(path);
  let s = 0;
  for (const name of file.keys()) {
    const raw = file.raw(name);
    s += touch(toFloat32(raw.dtype, raw.data));
  }
  return s;
}

/** The naive reader: whole file into memory, parse, view (copying a tensor only if misaligned). */
async function naive(path: string, only?: string): Promise<number> {
  const buf = await readFile(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  let s = 0;
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__" || (only && name !== only)) continue;
    const begin = buf.byteOffset + 8 + n + info.data_offsets[0];
    const bytes = info.data_offsets[1] - info.data_offsets[0];
    const values =
      begin % 4 === 0
        ? new Float32Array(buf.buffer, begin, bytes / 4)
        : new Float32Array(buf.buffer.slice(begin, begin + bytes));
    s += touch(values);
  }
  return s;
}

async function median(fn: () => Promise<number>): Promise<{ ms: number; check: number }> {
  const times: number[] = [];
  let check = 0;
  for (let i = 0; i < RUNS; i++) {
    gc();
    const t0 = performance.now();
    check = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, check };
}

const dir = mkdtempSync(join(tmpdir(), "hearth-bench-safetensors-"));
try {
  const tensors = gpt2Small();
  let params = 0;
  for (const t of tensors.values()) params += t.data.byteLength / 4;
  const path = join(dir, "model.safetensors");
  await saveFile(tensors, path, { format: "pt" });
  tensors.clear();
  const file = await safeOpen(path);
  const first = file.keysInFileOrder()[0] as string;
  console.log(
    `checkpoint: GPT-2 small shapes, ${(params / 1e6).toFixed(1)}M float32 params, ${(file.dataBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(
    `backend: ${nativeLoadError ? `js fallback (${nativeLoadError})` : "native mapping"}; page cache warm; median of ${RUNS}; 2 shared CPU cores, numbers are noisy`,
  );

  const rows: [string, { ms: number; check: number }, { ms: number; check: number }][] = [
    [
      `time to first tensor (${first})`,
      await median(() => oursFirst(path, first)),
      await median(() => naive(path, first)),
    ],
    ["time to fully loaded (all tensors)", await median(() => oursAll(path)), await median(() => naive(path))],
  ];
  console.log("| measure | hearth safeOpen (mmap) | naive readFile + JSON.parse | speed-up |");
  console.log("| --- | --- | --- | --- |");
  for (const [what, ours, peer] of rows) {
    if (Math.abs(ours.check - peer.check) > 1e-6 * Math.abs(peer.check) + 1e-6)
      throw new Error(`${what}: results differ (${ours.check} vs ${peer.check})`);
    console.log(
      `| ${what} | ${ours.ms.toFixed(2)} ms | ${peer.ms.toFixed(2)} ms | ${(peer.ms / ours.ms).toFixed(1)}x |`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
