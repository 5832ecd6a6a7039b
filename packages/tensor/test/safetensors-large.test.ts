/**
 * A 2 GiB checkpoint opens and hands out one tensor while the process's resident size grows by
 * about that tensor only: the file is mapped, not read. The file is generated sparse in a temp
 * folder (only the tensors the test reads hold written data) and removed afterwards.
 */
import assert from "node:assert/strict";
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { mapFile, native, residentBytes } from "../src/native/index.ts";
import { prepare, type RawTensorLike, safeOpen, toFloat32 } from "../src/safetensors/index.ts";

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
  const tensors = new Map<string, RawTensorLike>();
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

  // Control: touching two more tensors (the last one ends past 2^31 bytes into the file) grows
  // resident memory by about two more tensors, so the measurement above does see page faults.
  const more = residentBytes();
  for (const name of ["layers.03.weight", "layers.31.weight"]) {
    const other = toFloat32("F32", file.raw(name).data);
    for (let i = 0; i < other.length; i += 1024) sum += other[i] as number;
  }
  assert.ok(residentBytes() - more > 1.5 * TENSOR_BYTES, "touching two more tensors should fault their pages in");
});

test("a file over 4 GiB (more than Node 20 can map) opens and reads tensor by tensor", async () => {
  const path = join(dir, "huge.safetensors");
  const GiB = 2 ** 30;
  const entries: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  for (let i = 0; i < 5; i++)
    entries[`block.${i}`] = { dtype: "U8", shape: [GiB], data_offsets: [i * GiB, (i + 1) * GiB] };
  entries.tail = { dtype: "F32", shape: [3], data_offsets: [5 * GiB, 5 * GiB + 12] };
  let json = JSON.stringify(entries);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(new TextEncoder().encode(json), 8);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, head);
    ftruncateSync(fd, head.byteLength + 5 * GiB + 12);
    writeSync(fd, new Uint8Array(new Float32Array([1.5, -2, 3]).buffer), 0, 12, head.byteLength + 5 * GiB);
  } finally {
    closeSync(fd);
  }
  // Mapping it whole used to abort the process (Node 20 caps external buffers at 4 GiB).
  if (native) assert.throws(() => mapFile(path), /maps at most 4 GiB/);
  for (const mmap of [true, false]) {
    const before = residentBytes();
    const file = await safeOpen(path, { mmap });
    // Mapped a tensor at a time where the addon can; read tensor by tensor otherwise.
    assert.equal(file.zeroCopy, mmap && native !== null);
    assert.deepEqual([...file.tensor("tail").dataSync()], [1.5, -2, 3]);
    assert.ok(residentBytes() - before < 64 * 2 ** 20, "only the header and the tensor asked for are read");
    // A 1 GiB tensor past 4 GiB maps without being read (copying it is what mmap: false does).
    if (file.zeroCopy) assert.equal(file.raw("block.4").data.byteLength, GiB);
    assert.equal(file.keys().length, 6);
    file.close();
  }
});

test("mapFdRange maps unaligned ranges of an open file and refuses ranges outside it", {
  skip: native ? false : "needs the native addon",
}, () => {
  const addon = native as unknown as { mapFdRange(fd: number, offset: number, length: number): ArrayBuffer };
  const path = join(dir, "range.bin");
  const bytes = new Uint8Array(10000).map((_, i) => i % 251);
  writeFileSync(path, bytes);
  const fd = openSync(path, "r");
  try {
    const window = new Uint8Array(addon.mapFdRange(fd, 4097, 5000));
    assert.deepEqual(window, bytes.subarray(4097, 9097));
    window[0] = 0; // private copy-on-write: the file is unchanged
    assert.equal(readFileSync(path)[4097], 4097 % 251);
    assert.equal(addon.mapFdRange(fd, 10000, 0).byteLength, 0);
    assert.throws(() => addon.mapFdRange(fd, 9000, 2000), /outside the file of 10000 bytes/);
    assert.throws(() => addon.mapFdRange(fd, -1, 2), /argument 'offset'/);
  } finally {
    closeSync(fd);
  }
});
