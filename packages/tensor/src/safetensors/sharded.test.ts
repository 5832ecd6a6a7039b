import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SafetensorsErrorCode as Code, SafetensorsError, type SafetensorsErrorCodeValue } from "./errors.ts";
import { safeOpen } from "./open.ts";
import type { TensorData } from "./serialize.ts";
import { openCheckpoint, openSharded, parseSize, pythonJson, saveSharded } from "./sharded.ts";

const root = mkdtempSync(join(tmpdir(), "hearth-sharded-"));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const folder = () => {
  const dir = join(root, `ckpt-${counter++}`);
  mkdirSync(dir);
  return dir;
};

/** Five tensors of 400, 400, 200, 400 and 8 bytes, in state-dict order: 3 shards at 600 bytes. */
function stateDict(): Map<string, TensorData> {
  const t = (n: number, start: number): TensorData => ({
    dtype: "F32",
    shape: [n],
    data: Float32Array.from({ length: n }, (_, i) => start + i),
  });
  return new Map([
    ["model.embed.weight", t(100, 0)],
    ["model.layers.0.weight", t(100, 1000)],
    ["model.layers.0.bias", t(50, 2000)],
    ["model.layers.1.weight", t(100, 3000)],
    ["lm_head.bias", { dtype: "BF16", shape: [4], data: new Uint16Array([0x3f80, 0x4000, 0xc000, 0]) }],
  ]);
}

async function rejects(promise: Promise<unknown>, code: SafetensorsErrorCodeValue, message: RegExp) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

describe("sharded checkpoints", () => {
  test("parseSize reads transformers' size strings", () => {
    assert.equal(parseSize("5GB"), 5e9);
    assert.equal(parseSize("5GiB"), 5 * 2 ** 30);
    assert.equal(parseSize("500MB"), 5e8);
    assert.equal(parseSize("1.5KiB"), 1536);
    assert.equal(parseSize("8Gb"), 1e9);
    assert.equal(parseSize(1234), 1234);
    assert.throws(
      () => parseSize("lots"),
      (e: unknown) => e instanceof SafetensorsError && e.code === Code.BAD_INPUT,
    );
    assert.throws(
      () => parseSize(0),
      (e: unknown) => e instanceof SafetensorsError && e.code === Code.BAD_INPUT,
    );
  });

  test("splits in state-dict order when the next tensor would pass the maximum, names shards like transformers", async () => {
    const dir = folder();
    const saved = await saveSharded(stateDict(), dir, { maxShardSize: 600 });
    assert.deepEqual(saved.files, [
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
    ]);
    assert.deepEqual(saved.index?.weight_map, {
      "model.embed.weight": "model-00001-of-00003.safetensors",
      "model.layers.0.weight": "model-00002-of-00003.safetensors",
      "model.layers.0.bias": "model-00002-of-00003.safetensors",
      "model.layers.1.weight": "model-00003-of-00003.safetensors",
      "lm_head.bias": "model-00003-of-00003.safetensors",
    });
    assert.equal(saved.index?.metadata.total_size, 1408);
    // json.dumps(index, indent=2, sort_keys=True) + "\n"
    assert.equal(
      readFileSync(join(dir, "model.safetensors.index.json"), "utf8"),
      `{
  "metadata": {
    "total_size": 1408
  },
  "weight_map": {
    "lm_head.bias": "model-00003-of-00003.safetensors",
    "model.embed.weight": "model-00001-of-00003.safetensors",
    "model.layers.0.bias": "model-00002-of-00003.safetensors",
    "model.layers.0.weight": "model-00002-of-00003.safetensors",
    "model.layers.1.weight": "model-00003-of-00003.safetensors"
  }
}
`,
    );
    const shard = await safeOpen(join(dir, "model-00002-of-00003.safetensors"));
    assert.deepEqual(shard.metadata, { format: "pt" });
    assert.deepEqual(shard.keys(), ["model.layers.0.bias", "model.layers.0.weight"]);
  });

  test("round trip: every tensor reads back from the sharded checkpoint with its bytes", async () => {
    const dir = folder();
    const tensors = stateDict();
    await saveSharded(tensors, dir, { maxShardSize: "1KB" });
    const ckpt = await openCheckpoint(dir);
    assert.deepEqual(ckpt.keys(), [...tensors.keys()].sort());
    assert.deepEqual(ckpt.metadata, { total_size: 1408 });
    for (const [name, t] of tensors) {
      const raw = ckpt.raw(name);
      assert.equal(raw.dtype, t.dtype);
      assert.deepEqual(raw.shape, t.shape);
      assert.deepEqual(raw.data, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    await rejects(
      Promise.resolve().then(() => ckpt.raw("nope")),
      Code.TENSOR_NOT_FOUND,
      /'nope'/,
    );
  });

  test("a tensor larger than the maximum gets a shard of its own; everything in one shard means no index", async () => {
    const dir = folder();
    const saved = await saveSharded(stateDict(), dir, { maxShardSize: 100 });
    assert.equal(saved.files.length, 5);
    const single = folder();
    const one = await saveSharded(stateDict(), single);
    assert.deepEqual(one, { files: ["model.safetensors"], index: null });
    assert.deepEqual(readdirSync(single), ["model.safetensors"]);
    assert.equal((await openCheckpoint(single)).keys().length, 5);
  });

  test("saving again with fewer shards removes the stale shards, and leaves other files alone", async () => {
    const dir = folder();
    await saveSharded(stateDict(), dir, { maxShardSize: 100 });
    writeFileSync(join(dir, "model-notes.txt"), "keep me");
    writeFileSync(join(dir, "other-00001-of-00002.safetensors"), "not ours");
    await saveSharded(stateDict(), dir, { maxShardSize: 1000 });
    assert.deepEqual(readdirSync(dir).sort(), [
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model-notes.txt",
      "model.safetensors.index.json",
      "other-00001-of-00002.safetensors",
    ]);
  });

  test("an index that names a missing shard says which shard and which tensors", async () => {
    const dir = folder();
    await saveSharded(stateDict(), dir, { maxShardSize: 600 });
    rmSync(join(dir, "model-00002-of-00003.safetensors"));
    await rejects(
      openSharded(join(dir, "model.safetensors.index.json")),
      Code.SHARD_MISSING,
      /model-00002-of-00003\.safetensors \(holding 2 tensors, e\.g\. 'model\.layers\.0\.bias', 'model\.layers\.0\.weight'\)/,
    );
    assert.ok(!existsSync(join(dir, "model.safetensors")));
    await rejects(openCheckpoint(dir), Code.SHARD_MISSING, /incomplete/);
  });

  test("malformed indexes: not JSON, no weight_map, paths outside the folder, a shard lacking its tensor", async () => {
    const dir = folder();
    const index = join(dir, "model.safetensors.index.json");
    writeFileSync(index, "{not json");
    await rejects(openSharded(index), Code.BAD_INDEX, /not valid JSON/);
    writeFileSync(index, JSON.stringify({ metadata: {} }));
    await rejects(openSharded(index), Code.BAD_INDEX, /weight_map/);
    writeFileSync(index, JSON.stringify({ weight_map: { a: "../../etc/passwd" } }));
    await rejects(openSharded(index), Code.BAD_INDEX, /inside the checkpoint folder/);
    writeFileSync(index, JSON.stringify({ weight_map: { a: 7 } }));
    await rejects(openSharded(index), Code.BAD_INDEX, /'a' to 7/);

    await saveSharded(stateDict(), dir, { maxShardSize: 600 });
    const good = JSON.parse(readFileSync(index, "utf8"));
    good.weight_map["model.embed.weight"] = "model-00003-of-00003.safetensors";
    writeFileSync(index, JSON.stringify(good));
    const ckpt = await openSharded(index);
    await rejects(
      Promise.resolve().then(() => ckpt.raw("model.embed.weight")),
      Code.SHARD_MISMATCH,
      /'model\.embed\.weight' in model-00003-of-00003\.safetensors/,
    );
  });

  test("pythonJson escapes non-ASCII as json.dumps does", () => {
    assert.equal(
      pythonJson({ ü: "\u{1F600}", a: [1, "x"], e: {} }, 0),
      '{\n  "a": [\n    1,\n    "x"\n  ],\n  "e": {},\n  "\\u00fc": "\\ud83d\\ude00"\n}',
    );
  });
});
