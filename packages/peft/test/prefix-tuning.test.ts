/** Prefix tuning on the hf-tiny GPT-2: learned keys/values in every layer, gradients reach them, PEFT's files. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed, type Tensor, tensor } from "@hearth/tensor";
import { safeOpenSync } from "@hearth/tensor/safetensors";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { ErrorCodes, getPeftModel, PeftModel, PrefixTuningConfig } from "../src/index.ts";
import { HF_TINY, maxDiff, trainOnSequence } from "./helpers.ts";

const ids = () => tensor([[5, 17, 42, 99, 123, 7]], { dtype: "int64" });
const load = (name = "gpt2") => AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);

test("prefix tuning: every layer attends to the prefix; disabled gives the base model; GQA is refused", async () => {
  manualSeed(1);
  const base = await load();
  const plain = base.forward({ inputIds: ids() }).logits;
  const m = getPeftModel(base, new PrefixTuningConfig({ numVirtualTokens: 5 }));
  assert.equal(m.getNbTrainableParameters().trainable, 5 * 2 * 2 * 64);
  const out = m.forward({ inputIds: ids() }).logits as Tensor;
  assert.deepEqual(out.shape, [1, 6, 1000]);
  assert.ok(maxDiff(out, plain) > 1e-3);
  assert.equal(
    maxDiff(
      m.disableAdapter(() => m.forward({ inputIds: ids() }).logits),
      plain,
    ),
    0,
  );
  assert.throws(() => getPeftModel(undefined as never, new PrefixTuningConfig({ numVirtualTokens: 0 })), {
    code: ErrorCodes.CONFIG_INVALID,
  });
  await assert.rejects(async () => getPeftModel(await load("llama"), new PrefixTuningConfig({ numVirtualTokens: 2 })), {
    code: ErrorCodes.UNSUPPORTED_MODEL,
  });
});

test("prefix tuning: gradients reach the prefix and training lowers the loss; the base stays frozen", async () => {
  manualSeed(2);
  const base = await load();
  const m = getPeftModel(base, new PrefixTuningConfig({ numVirtualTokens: 4 }));
  const prefix = m.parameters().filter((p) => p.requiresGrad);
  assert.equal(prefix.length, 1);
  const frozen = (base.stateDict()["transformer.h.1.attn.c_attn.weight"] as Tensor).dataSync();
  const losses = trainOnSequence(m, prefix, ids, { steps: 8, lr: 0.05 });
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `loss falls: ${losses}`);
  assert.deepEqual((base.stateDict()["transformer.h.1.attn.c_attn.weight"] as Tensor).dataSync(), frozen);
});

test("prefix tuning: PEFT's files, reload, and generation with and without the KV cache agree", async () => {
  manualSeed(3);
  const m = getPeftModel(
    await load(),
    new PrefixTuningConfig({ numVirtualTokens: 3, baseModelNameOrPath: "models/gpt2" }),
  );
  const dir = await mkdtemp(join(tmpdir(), "hearth-prefix-"));
  try {
    await m.savePretrained(dir);
    const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
    assert.equal(config.peft_type, "PREFIX_TUNING");
    assert.deepEqual(
      [
        config.num_virtual_tokens,
        config.num_layers,
        config.num_attention_heads,
        config.token_dim,
        config.prefix_projection,
      ],
      [3, 2, 4, 64, false],
    );
    const f = safeOpenSync(join(dir, "adapter_model.safetensors"));
    assert.deepEqual(f.keys(), ["prompt_embeddings"]);
    assert.deepEqual(f.raw("prompt_embeddings").shape, [3, 256]);
    const again = await PeftModel.fromPretrained(await load(), dir);
    assert.equal(maxDiff(again.forward({ inputIds: ids() }).logits, m.forward({ inputIds: ids() }).logits), 0);
    const cached = await again.generate(ids(), { maxNewTokens: 6 });
    const uncached = await again.generate(ids(), { maxNewTokens: 6, useCache: false });
    assert.deepEqual(cached.tolistSync(), uncached.tolistSync());
    const positions = tensor([[0, 1, 2, 3, 4, 5]], { dtype: "int64" });
    const last = (again.forward({ inputIds: ids(), positionIds: positions }).logits as Tensor)
      .narrow(1, 5, 1)
      .reshape([-1])
      .dataSync() as Float32Array;
    assert.equal((cached.tolistSync() as number[][])[0]?.[6], last.indexOf(Math.max(...last)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
