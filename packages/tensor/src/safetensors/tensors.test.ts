import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bf16BitsToFloat, type DType, floatToBf16Bits } from "../dtype.ts";
import { fromBuffer, tensor } from "../ops/creation/tensor.ts";
import type { Tensor } from "../tensor.ts";
import { SafetensorsErrorCode as Code, SafetensorsError } from "./errors.ts";
import { deserialize, loadFile, safeOpen } from "./open.ts";
import { saveFile, serialize } from "./serialize.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-safetensors-tensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const gpt2 = new URL("../../../../fixtures/hf-tiny/models/gpt2/model.safetensors", import.meta.url).pathname;

const isCode = (code: string, message?: RegExp) => (e: unknown) =>
  e instanceof SafetensorsError && e.code === code && (!message || message.test(e.message));

describe("safetensors → Tensor", () => {
  test("F32 tensors view the file mapping; writes go to a private copy, never to the file", async () => {
    const file = await safeOpen(gpt2, { mmap: true });
    const raw = file.raw("transformer.wte.weight");
    const t = file.tensor("transformer.wte.weight");
    assert.equal(t.dtype, "float32");
    assert.deepEqual(t.shape, [1000, 64]);
    assert.equal(t.bytes().buffer, raw.data.buffer);
    assert.equal(t.bytes().byteOffset, raw.data.byteOffset);
    const before = readFileSync(gpt2);
    t.bytes().fill(0);
    assert.equal(t.dataSync()[0], 0);
    assert.ok(readFileSync(gpt2).equals(before));
  });

  test("every engine dtype round-trips through saveFile / loadFile as Tensors", async () => {
    const values: Record<DType, number[]> = {
      float32: [1.5, -2.25, 3e-8, 1e30],
      float16: [1, -0.5, 65504, 2 ** -24],
      bfloat16: [1, -3.140625, 2 ** 100, 0.5],
      int32: [-(2 ** 31), 2 ** 31 - 1, 0, 7],
      int64: [-(2 ** 53), 2 ** 53, 0, -1],
      uint8: [0, 255, 128, 1],
      int8: [-128, 127, 0, -1],
      bool: [1, 0, 0, 1],
    };
    const tensors = new Map<string, Tensor>();
    for (const [dtype, v] of Object.entries(values) as [DType, number[]][]) {
      const data = dtype === "int64" ? v.map(BigInt) : dtype === "bool" ? v.map(Boolean) : v;
      tensors.set(dtype, tensor([data.slice(0, 2), data.slice(2)], { dtype }));
    }
    const path = join(dir, "engine-dtypes.safetensors");
    await saveFile(tensors, path, { format: "pt" });
    const header = (await safeOpen(path)).info("bfloat16");
    assert.equal(header.dtype, "BF16");
    const loaded = await loadFile(path);
    for (const [dtype, original] of tensors) {
      const back = loaded.get(dtype) as Tensor;
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [2, 2]);
      assert.deepEqual(back.bytes(), original.bytes(), dtype);
    }
  });

  test("tensors misaligned by another writer's layout are copied into aligned memory", () => {
    const header =
      '{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const bytes = new Uint8Array(8 + header.length + 9);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    new DataView(bytes.buffer).setFloat32(8 + header.length + 1, 2.5, true);
    new DataView(bytes.buffer).setFloat32(8 + header.length + 5, -1, true);
    const f = deserialize(bytes).tensor("f");
    assert.deepEqual([...f.dataSync()], [2.5, -1]);
    assert.notEqual(f.bytes().buffer, bytes.buffer);
  });

  test("a non-contiguous tensor is written in row-major order", () => {
    const base = new Float32Array([0, 1, 2, 3, 4, 5]);
    const transposed = fromBuffer(base, "float32", [3, 2], { strides: [1, 3] }); // [[0,3],[1,4],[2,5]]
    const file = deserialize(serialize({ t: transposed }));
    assert.deepEqual([...file.tensor("t").dataSync()], [0, 3, 1, 4, 2, 5]);
  });

  test("dtype conversion on load: bf16 file → float32, float32 file → bfloat16 (round to nearest even)", () => {
    const floats = [1, -2.5, 0.1, Math.PI, -1e-3, 65504];
    const bits = new Uint16Array(floats.map(floatToBf16Bits));
    const file = deserialize(serialize({ w: { dtype: "BF16", shape: [2, 3], data: bits } }));
    const asBf16 = file.tensor("w");
    assert.equal(asBf16.dtype, "bfloat16");
    assert.equal(asBf16.bytes().buffer, file.raw("w").data.buffer, "same dtype: zero-copy");
    const asF32 = file.tensor("w", { dtype: "float32" });
    assert.equal(asF32.dtype, "float32");
    assert.deepEqual([...asF32.dataSync()], [...bits].map(bf16BitsToFloat));

    const f32 = deserialize(serialize({ w: { dtype: "F32", shape: [6], data: new Float32Array(floats) } }));
    const narrowed = f32.tensor("w", { dtype: "bfloat16" });
    assert.deepEqual([...new Uint16Array(narrowed.bytes().slice().buffer)], [...bits]);
  });

  test("file dtypes the engine lacks load as the narrowest dtype that holds them", () => {
    const file = deserialize(
      serialize({
        f64: { dtype: "F64", shape: [2], data: new Float64Array([0.1, -7]) },
        i16: { dtype: "I16", shape: [2], data: new Int16Array([-32768, 5]) },
        u16: { dtype: "U16", shape: [1], data: new Uint16Array([65535]) },
        u32: { dtype: "U32", shape: [1], data: new Uint32Array([4294967295]) },
        u64: { dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 63n - 1n]) },
        big: { dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 63n]) },
        e4m3: { dtype: "F8_E4M3", shape: [2], data: new Uint8Array([0x7e, 0x38]) },
        c64: { dtype: "C64", shape: [1], data: new Float32Array([1, 2]) },
      }),
    );
    const f64 = file.tensor("f64");
    assert.equal(f64.dtype, "float32");
    assert.deepEqual([...f64.dataSync()], [Math.fround(0.1), -7]);
    assert.deepEqual([...file.tensor("i16").dataSync()], [-32768, 5]);
    assert.equal(file.tensor("i16").dtype, "int32");
    assert.deepEqual([...file.tensor("u16").dataSync()], [65535]);
    assert.deepEqual([...file.tensor("u32").dataSync()], [4294967295n]);
    assert.deepEqual([...file.tensor("u64").dataSync()], [2n ** 63n - 1n]);
    assert.deepEqual([...file.tensor("e4m3").dataSync()], [448, 1]);
    assert.throws(() => file.tensor("big"), isCode(Code.BAD_CONVERSION, /'big'.*beyond int64/));
    assert.throws(() => file.tensor("c64"), isCode(Code.BAD_CONVERSION, /C64/));
    assert.throws(() => file.tensor("f64", { dtype: "int32" }), isCode(Code.BAD_CONVERSION, /refusing/));
    assert.deepEqual([...file.tensor("i16", { dtype: "float32" }).dataSync()], [-32768, 5]);
  });
});
