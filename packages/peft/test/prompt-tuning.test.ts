/** Prompt tuning on the hf-tiny GPT-2: virtual tokens in front, only they train, PEFT's files. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed, type Tensor, tensor } from "@hearth/tensor";
import { safeOpenSync } from "@hearth/tensor/safetensors";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { getPeftModel, PeftModel, PromptTuningConfig } from "../src/index.ts";
import { HF_TINY, maxDiff, trainOnSequence } from "./helpers.ts";

const ids = () => tensor([[5, 17, 42, 99, 123, 7]], { dtype: "int64" });
const load = () => AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);

test("prompt tuning: logits cover the virtual tokens; the real positions see them; disabled gives the base model", async () => {
  manualSeed(1);
  const base = await load();
  const plain = base.forward({ inputIds: ids() }).logits;
  const m = getPeftModel(base, new PromptTuningConfig({ numVirtualTokens: 4 }));
  assert.equal(m.getNbTrainableParameters().trainable, 4 * 64);
  const out = m.forward({ inputIds: ids() }).logits as Tensor;
  assert.deepEqual(out.shape, [1, 10, 1000]);
  assert.ok(maxDiff(out.narrow(1, 4, 6), plain) > 1e-3);
  assert.equal(
    maxDiff(
      m.disableAdapter(() => m.forward({ inputIds: ids() }).logits),
      plain,
    ),
    0,
  );
});

test("prompt tuning: TEXT init copies token embeddings; training moves only the prompt and lowers the loss", async () => {
  const base = await load();
  const wte = (base.stateDict()["transformer.wte.weight"] as Tensor).dataSync() as Float32Array;
  const m = getPeftModel(
    base,
    new PromptTuningConfig({ numVirtualTokens: 3, promptTuningInit: "TEXT", initTokenIds: [11, 12] }),
  );
  const prompt = m.namedParameters().find(([n]) => n.endsWith("prompt_embeddings"))?.[1] as Tensor;
  const p = prompt.dataSync() as Float32Array;
  assert.deepEqual(
    Array.from(p.subarray(128, 192)),
    Array.from(wte.subarray(11 * 64, 12 * 64)),
    "row 2 repeats token 11",
  );
  const frozen = (base.stateDict()["transformer.h.0.attn.c_attn.weight"] as Tensor).dataSync();
  const losses = trainOnSequence(m, [prompt], ids, { steps: 8, lr: 0.05 });
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `loss falls: ${losses}`);
  assert.deepEqual((base.stateDict()["transformer.h.0.attn.c_attn.weight"] as Tensor).dataSync(), frozen);
});

test("prompt tuning: PEFT's adapter files, reload, and generation without the virtual tokens", async () => {
  manualSeed(2);
  const m = getPeftModel(
    await load(),
    new PromptTuningConfig({ numVirtualTokens: 4, baseModelNameOrPath: "models/gpt2" }),
  );
  const dir = await mkdtemp(join(tmpdir(), "hearth-prompt-"));
  try {
    await m.savePretrained(dir);
    const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
    assert.deepEqual(Object.keys(config), [
      "auto_mapping",
      "base_model_name_or_path",
      "inference_mode",
      "num_attention_heads",
      "num_layers",
      "num_transformer_submodules",
      "num_virtual_tokens",
      "peft_type",
      "prompt_tuning_init",
      "prompt_tuning_init_text",
      "revision",
      "task_type",
      "token_dim",
      "tokenizer_kwargs",
      "tokenizer_name_or_path",
    ]);
    assert.equal(config.token_dim, 64);
    assert.equal(config.num_layers, 2);
    const f = safeOpenSync(join(dir, "adapter_model.safetensors"));
    assert.deepEqual(f.keys(), ["prompt_embeddings"]);
    assert.deepEqual(f.raw("prompt_embeddings").shape, [4, 64]);
    const again = await PeftModel.fromPretrained(await load(), dir);
    assert.equal(maxDiff(again.forward({ inputIds: ids() }).logits, m.forward({ inputIds: ids() }).logits), 0);
    const gen = await again.generate(ids(), { maxNewTokens: 5 });
    assert.deepEqual(gen.shape, [1, 11]);
    assert.deepEqual((gen.tolistSync() as number[][])[0]?.slice(0, 6), [5, 17, 42, 99, 123, 7]);
    // the first generated token is the argmax at the last position of the prompted forward
    const last = (again.forward({ inputIds: ids() }).logits as Tensor)
      .narrow(1, 9, 1)
      .reshape([-1])
      .dataSync() as Float32Array;
    assert.equal((gen.tolistSync() as number[][])[0]?.[6], last.indexOf(Math.max(...last)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
