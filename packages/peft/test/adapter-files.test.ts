/**
 * An adapter made and saved by Hearth has PEFT's file layout: the same two files, the same
 * tensor names, shapes and dtypes as the adapters Python wrote (fixtures/hf-tiny/models/*-lora),
 * and an `adapter_config.json` with the same fields.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed } from "@hearth/tensor";
import { safeOpenSync } from "@hearth/tensor/safetensors";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { ErrorCodes, getPeftModel, LoraConfig, PeftModel } from "../src/index.ts";
import { HF_TINY } from "./helpers.ts";

function layout(file: string): Record<string, string> {
  const f = safeOpenSync(file);
  return Object.fromEntries(f.keys().map((k) => [k, `${f.raw(k).dtype} [${f.raw(k).shape.join(", ")}]`]));
}

const sha = async (p: string) =>
  createHash("sha256")
    .update(await readFile(p))
    .digest("hex");

for (const [name, targets] of [
  ["gpt2", ["attn.c_attn", "attn.c_proj"]],
  ["llama", ["k_proj", "v_proj", "o_proj", "q_proj"]],
] as const) {
  test(`${name}: a fresh Hearth adapter has the files, keys and config fields Python wrote`, async () => {
    manualSeed(1);
    const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
    const config = new LoraConfig({
      r: 4,
      loraAlpha: 8,
      targetModules: [...targets],
      baseModelNameOrPath: `models/${name}`,
    });
    const model = getPeftModel(base, config);
    const dir = await mkdtemp(join(tmpdir(), "hearth-peft-layout-"));
    try {
      await model.savePretrained(dir);
      const fixture = `${HF_TINY}models/${name}-lora`;
      assert.deepEqual((await readdir(dir)).sort(), (await readdir(fixture)).sort());
      assert.deepEqual(
        layout(join(dir, "adapter_model.safetensors")),
        layout(join(fixture, "adapter_model.safetensors")),
      );
      assert.deepEqual(safeOpenSync(join(dir, "adapter_model.safetensors")).metadata, { format: "pt" });
      const ours = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
      const theirs = JSON.parse(await readFile(join(fixture, "adapter_config.json"), "utf8"));
      assert.deepEqual(Object.keys(ours), Object.keys(theirs));
      assert.deepEqual(ours, theirs);
      // same text too (sorted keys, two-space indent, Python's number spelling)
      assert.equal(
        await readFile(join(dir, "adapter_config.json"), "utf8"),
        await readFile(join(fixture, "adapter_config.json"), "utf8"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: re-saving Python's adapter reproduces both files byte for byte`, async () => {
    const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
    const fixture = `${HF_TINY}models/${name}-lora`;
    const model = await PeftModel.fromPretrained(base, fixture);
    const dir = await mkdtemp(join(tmpdir(), "hearth-peft-resave-"));
    try {
      await model.savePretrained(dir);
      for (const f of ["adapter_model.safetensors", "adapter_config.json"]) {
        assert.equal(await sha(join(dir, f)), await sha(join(fixture, f)), f);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test("non-default adapters are saved into a subfolder named after them", async () => {
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/llama`);
  const model = getPeftModel(base, new LoraConfig({ r: 2, targetModules: ["q_proj"] }));
  model.addAdapter("other", new LoraConfig({ r: 3, targetModules: ["v_proj"] }));
  const dir = await mkdtemp(join(tmpdir(), "hearth-peft-multi-"));
  try {
    await model.savePretrained(dir);
    assert.deepEqual((await readdir(dir)).sort(), ["adapter_config.json", "adapter_model.safetensors", "other"]);
    const keys = Object.keys(layout(join(dir, "other", "adapter_model.safetensors")));
    assert.ok(
      keys.every((k) => /\.v_proj\.lora_[AB]\.weight$/.test(k)),
      keys.join(", "),
    );
    assert.ok(Object.keys(layout(join(dir, "adapter_model.safetensors"))).every((k) => k.includes(".q_proj.")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("loading errors are coded: missing folder files, keys that do not fit", async () => {
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
  await assert.rejects(PeftModel.fromPretrained(base, `${HF_TINY}models/gpt2`), { code: ErrorCodes.ADAPTER_FILE });
  const llama = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/llama`);
  await assert.rejects(PeftModel.fromPretrained(llama, `${HF_TINY}models/gpt2-lora`), {
    code: ErrorCodes.TARGET_NOT_FOUND,
  });
});
