import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bf16BitsToFloat } from "../dtype.ts";
import { Linear, ReLU, Sequential } from "../nn/index.ts";
import { zeros } from "../ops/creation/fill.ts";
import { randn } from "../ops/creation/random.ts";
import { narrow } from "../ops/movement/slice.ts";
import { manualSeed } from "../random/generator.ts";
import type { Tensor } from "../tensor.ts";
import { SafetensorsErrorCode as Code, SafetensorsError } from "./errors.ts";
import { safeOpen } from "./open.ts";
import { saveFile } from "./serialize.ts";
import { saveSharded } from "./sharded.ts";
import { loadModel, saveModel } from "./state-dict.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-safetensors-state-dict-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const gpt2 = new URL("../../../../fixtures/hf-tiny/models/gpt2/model.safetensors", import.meta.url).pathname;

const isCode = (code: string, message?: RegExp) => (e: unknown) =>
  e instanceof SafetensorsError && e.code === code && (!message || message.test(e.message));

describe("loadModel: checkpoint → existing tensors", () => {
  async function gpt2Params(): Promise<Map<string, Tensor>> {
    const file = await safeOpen(gpt2);
    return new Map(file.keys().map((k) => [k, zeros(file.info(k).shape)]));
  }

  test("fills every tensor of a matching target, copying (the target keeps its own memory)", async () => {
    const params = await gpt2Params();
    const file = await safeOpen(gpt2);
    assert.deepEqual(await loadModel(params, file), { missingKeys: [], unexpectedKeys: [] });
    for (const [name, t] of params) {
      assert.deepEqual(t.bytes(), file.raw(name).data, name);
      assert.notEqual(t.bytes().buffer, file.raw(name).data.buffer);
    }
  });

  test("reports missing and unexpected keys by name; strict refuses and writes nothing", async () => {
    const params = await gpt2Params();
    params.delete("transformer.h.1.mlp.c_fc.bias");
    params.set("lm_head.weight", zeros([1000, 64]));
    const file = await safeOpen(gpt2);
    await assert.rejects(
      loadModel(params, file),
      isCode(
        Code.STATE_DICT_MISMATCH,
        /missing keys: 'lm_head\.weight'[\s\S]*unexpected keys: 'transformer\.h\.1\.mlp\.c_fc\.bias'/,
      ),
    );
    assert.equal((params.get("transformer.wte.weight") as Tensor).dataSync()[5], 0, "nothing was written");
    const result = await loadModel(params, gpt2, { strict: false });
    assert.deepEqual(result, { missingKeys: ["lm_head.weight"], unexpectedKeys: ["transformer.h.1.mlp.c_fc.bias"] });
    assert.notEqual((params.get("transformer.wte.weight") as Tensor).dataSync()[5], 0);
  });

  test("a shape mismatch is an error even when not strict", async () => {
    const params = await gpt2Params();
    params.set("transformer.wpe.weight", zeros([32, 64]));
    await assert.rejects(
      loadModel({ stateDict: () => params }, gpt2, { strict: false }),
      isCode(
        Code.STATE_DICT_MISMATCH,
        /size mismatch for 'transformer\.wpe\.weight': the checkpoint has \[64, 64\], the target \[32, 64\]/,
      ),
    );
  });

  test("a bfloat16 sharded checkpoint loads into float32 parameters", async () => {
    const source = await safeOpen(gpt2);
    const bf16 = new Map<string, Tensor>();
    for (const name of source.keys()) bf16.set(name, source.tensor(name, { dtype: "bfloat16" }));
    const folder = join(dir, "bf16");
    mkdirSync(folder);
    const saved = await saveSharded(bf16, folder, { maxShardSize: "200KB" });
    assert.ok(saved.files.length > 1);
    const params = await gpt2Params();
    await loadModel(params, folder);
    for (const [name, t] of params) {
      const expected = [...new Uint16Array((bf16.get(name) as Tensor).bytes().slice().buffer)].map(bf16BitsToFloat);
      assert.deepEqual([...t.dataSync()], expected, name);
    }
  });

  test("saveModel writes a module's stateDict() in the reference layout", async () => {
    const params = await gpt2Params();
    await loadModel(params, gpt2);
    const path = join(dir, "saved-model.safetensors");
    await saveModel({ stateDict: () => params }, path, { format: "pt" });
    assert.ok(readFileSync(path).equals(readFileSync(gpt2)), "identical to the file transformers wrote");
  });

  test("assign replaces the target's tensors with views of the file instead of copying", async () => {
    const params = await gpt2Params();
    const file = await safeOpen(gpt2, { mmap: true });
    await loadModel(params, file, { assign: true });
    for (const [name, t] of params) {
      assert.equal(t.bytes().buffer, file.raw(name).data.buffer, `${name} views the mapping`);
      assert.deepEqual(t.bytes(), file.raw(name).data);
    }
    const record: Record<string, Tensor> = { "transformer.wpe.weight": zeros([64, 64], { dtype: "bfloat16" }) };
    await loadModel(record, file, { assign: true, strict: false });
    const wpe = record["transformer.wpe.weight"] as Tensor;
    assert.equal(wpe.dtype, "bfloat16", "assign keeps the target's dtype, converting");
    assert.notEqual(wpe.bytes().buffer, file.raw("transformer.wpe.weight").data.buffer);
  });

  test("an nn.Module: copy into it, or assign views of the file to its parameters and fields", async () => {
    manualSeed(1);
    const build = () => new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const trained = build();
    const path = join(dir, "mlp.safetensors");
    await saveModel(trained, path, { format: "pt" });
    const file = await safeOpen(path, { mmap: true });
    assert.deepEqual(file.keys(), ["0.bias", "0.weight", "2.bias", "2.weight"]);
    const x = randn([5, 4]);
    const expected = trained.forward(x).dataSync();

    const copied = build();
    assert.deepEqual(await loadModel(copied, path), { missingKeys: [], unexpectedKeys: [] });
    assert.deepEqual(copied.forward(x).dataSync(), expected);

    const assigned = build();
    await loadModel(assigned, file, { assign: true });
    assert.deepEqual(assigned.forward(x).dataSync(), expected);
    for (const [name, p] of assigned.namedParameters()) {
      assert.equal(p.bytes().buffer, file.raw(name).data.buffer, `${name} views the mapping`);
      assert.ok(p.requiresGrad, name);
    }

    const partial = new Map([["0.weight", file.raw("0.weight")]]);
    const smaller = join(dir, "partial.safetensors");
    await saveFile(partial, smaller);
    await assert.rejects(
      loadModel(build(), smaller),
      isCode(Code.STATE_DICT_MISMATCH, /missing keys: '0\.bias', '2\.weight', '2\.bias'/),
    );
  });

  test("tied tensors: saved once with the other name in the metadata, loaded through one name", async () => {
    const wte = zeros([1000, 64]);
    const params = await gpt2Params();
    params.set("transformer.wte.weight", wte);
    params.set("lm_head.weight", wte); // GPT-2's tied head: one tensor, two names
    // The file (as transformers writes it) has no lm_head.weight: not missing, since it is tied.
    assert.deepEqual(await loadModel(params, gpt2), { missingKeys: [], unexpectedKeys: [] });
    const file = await safeOpen(gpt2);
    assert.deepEqual(wte.bytes(), file.raw("transformer.wte.weight").data);

    const path = join(dir, "tied.safetensors");
    // saveFile refuses shared tensors (as Python's save_file); saveModel keeps one name.
    await assert.rejects(
      saveFile(params, path),
      isCode(Code.BAD_INPUT, /'transformer\.wte\.weight', 'lm_head\.weight' share memory/),
    );
    await saveModel(params, path, { format: "pt" });
    const saved = await safeOpen(path);
    // safetensors.torch.save_model keeps the first name in code-point order.
    assert.ok(saved.has("lm_head.weight") && !saved.has("transformer.wte.weight"));
    assert.deepEqual(saved.metadata, { format: "pt", "transformer.wte.weight": "lm_head.weight" });

    const assigned = await gpt2Params();
    const head = zeros([1000, 64]);
    assigned.set("transformer.wte.weight", head);
    assigned.set("lm_head.weight", head);
    await loadModel(assigned, await safeOpen(gpt2, { mmap: true }), { assign: true });
    assert.equal(assigned.get("lm_head.weight"), assigned.get("transformer.wte.weight"), "assign keeps the tie");
    assert.notEqual(assigned.get("lm_head.weight"), head);

    // A file holding both names reports the second as unexpected, as load_model does.
    const both = join(dir, "both.safetensors");
    await saveFile(
      new Map([
        ["lm_head.weight", file.raw("transformer.wte.weight")],
        ...[...params].filter(([n]) => n !== "lm_head.weight").map(([n]) => [n, file.raw(n)] as const),
      ]),
      both,
    );
    assert.deepEqual(await loadModel(params, both, { strict: false }), {
      missingKeys: [],
      unexpectedKeys: ["transformer.wte.weight"],
    });
  });

  test("tensors sharing memory where none covers all of it cannot be saved", async () => {
    const whole = zeros([6]);
    const halves = new Map([
      ["left", narrow(whole, 0, 0, 3)],
      ["right", narrow(whole, 0, 3, 3)],
    ]);
    await assert.rejects(
      saveModel(halves, join(dir, "halves.safetensors")),
      isCode(Code.BAD_INPUT, /'left', 'right' share memory/),
    );
  });
});
