/**
 * A 2 GiB checkpoint opens and hands out one tensor while the process's resident size grows by
 * about that tensor only: the file is mapped, not read. The file is generated sparse in a temp
 * folder (only the tensors the test reads hold written data) and removed afterwards.
 */
import assert from "node:assert/strict";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { native, residentBytes } from "../src/native/index.ts";
import { prepare, safeOpen, type TensorData, toFloat32 } from "../src/safetensors/index.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-large-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 4096;
const COLS = 4096;
const TENSOR_BYTES = ROWS * COLS * 4; // 64 MiB
const COUNT = 32; // 32 × 64 MiB = 2 GiB of data

test("a 2 GiB checkpoint: reading one tensor raises resident memory by that tensor, not the file", {
  skip: native ? false : "needs the native addon's file mapping (the js fallback reads whole files)",
}, async (t) => {
  const path = join(dir, "big.safetensors");
  // Lay out the header with one shared buffer standing in for every tensor's data.
  const shared = new Float32Array(ROWS * COLS);
  const tensors = new Map<string, TensorData>();
  for (let i = 0; i < COUNT; i++)
    tensors.set(`layers.${String(i).padStart(2, "0")}.weight`, { dtype: "F32", shape: [ROWS, COLS], data: shared });
  const { head, size } = prepare(tensors, { format: "pt" });
  assert.ok(size > 2 * 2 ** 30);
  const target = "layers.17.weight";
  for (let i = 0; i < shared.length; i++) shared[i] = (i % 1000) * 0.5;
  const fd = openSync(path, "w");
  try {
    writeSync(fd, head);
    ftruncateSync(fd, size);
    writeSync(fd, new Uint8Array(shared.buffer), 0, TENSOR_BYTES, head.byteLength + 17 * TENSOR_BYTES);
  } finally {
    closeSync(fd);
  }

  const before = residentBytes();
  const started = performance.now();
  const file = await safeOpen(path);
  const values = toFloat32("F32", file.raw(target).data);
  let sum = 0;
  for (let i = 0; i < values.length; i += 1024) sum += values[i] as number; // touch every page
  const elapsed = performance.now() - started;
  const grown = residentBytes() - before;
  t.diagnostic(
    `open + read one 64 MiB tensor of a ${(size / 2 ** 30).toFixed(2)} GiB file: ${elapsed.toFixed(1)} ms, resident +${(grown / 2 ** 20).toFixed(1)} MiB`,
  );

  assert.equal(file.keys().length, COUNT);
  assert.equal(values.length, ROWS * COLS);
  assert.equal(values[12345], (12345 % 1000) * 0.5);
  let expected = 0;
  for (let i = 0; i < values.length; i += 1024) expected += (i % 1000) * 0.5;
  assert.equal(sum, expected);
  assert.ok(
    grown < TENSOR_BYTES + 8 * 2 ** 20,
    `resident size grew by ${grown} bytes reading one ${TENSOR_BYTES}-byte tensor`,
  );

  // Control: touching two more tensors grows resident memory by about two more tensors, so the
  // measurement above does see the pages a read faults in.
  const more = residentBytes();
  for (const name of ["layers.03.weight", "layers.29.weight"]) {
    const other = toFloat32("F32", file.raw(name).data);
    for (let i = 0; i < other.length; i += 1024) sum += other[i] as number;
  }
  assert.ok(residentBytes() - more > 1.5 * TENSOR_BYTES, "touching two more tensors should fault their pages in");
});
