import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { tensor } from "@hearth/tensor";
import { safeOpenSync, saveFile } from "@hearth/tensor/safetensors";
import { HF_TINY } from "../../test/golden.ts";
import {
  AutoConfig,
  AutoModel,
  AutoModelForCausalLM,
  GPT2LMHeadModel,
  hubSnapshotResolver,
  LlamaForCausalLM,
  Qwen2Config,
  Qwen2ForCausalLM,
  setModelResolver,
} from "../index.ts";

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "hearth-models-"));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

for (const name of ["gpt2", "llama"]) {
  test(`${name}: savePretrained → fromPretrained is exact, with Python's file layout`, async () => {
    const src = `${HF_TINY}models/${name}`;
    const model = await AutoModelForCausalLM.fromPretrained(src);
    const out = await tmp();
    await model.savePretrained(out);
    assert.ok(
      (await readFile(`${out}/model.safetensors`)).equals(await readFile(`${src}/model.safetensors`)),
      "model.safetensors is byte-identical to the one Python wrote",
    );
    const original = safeOpenSync(`${src}/model.safetensors`);
    const saved = safeOpenSync(`${out}/model.safetensors`);
    assert.deepEqual(saved.keys(), original.keys(), "same tensor names (tied lm_head left out)");
    for (const k of original.keys()) {
      assert.deepEqual(Buffer.from(saved.raw(k).data), Buffer.from(original.raw(k).data), `${k} bytes`);
    }
    assert.deepEqual(saved.metadata, { format: "pt" });
    const reloaded = await AutoModelForCausalLM.fromPretrained(out);
    const ids = tensor([[3, 1, 4, 1, 5]], { dtype: "int64" });
    assert.deepEqual(
      reloaded.forward({ inputIds: ids }).logits.dataSync(),
      model.forward({ inputIds: ids }).logits.dataSync(),
    );
    const config = JSON.parse(await readFile(`${out}/config.json`, "utf8"));
    const originalConfig = JSON.parse(await readFile(`${src}/config.json`, "utf8"));
    assert.deepEqual(config, originalConfig, "config.json has the same keys and values as Python's");
    assert.deepEqual(
      JSON.parse(await readFile(`${out}/generation_config.json`, "utf8")),
      JSON.parse(await readFile(`${src}/generation_config.json`, "utf8")),
    );
  });
}

test("sharded save (maxShardSize) loads back through the index", async () => {
  const model = await GPT2LMHeadModel.fromPretrained(`${HF_TINY}models/gpt2`);
  const out = await tmp();
  await model.savePretrained(out, { maxShardSize: 100_000 });
  const index = JSON.parse(await readFile(`${out}/model.safetensors.index.json`, "utf8"));
  assert.ok(new Set(Object.values(index.weight_map)).size > 1);
  const back = await GPT2LMHeadModel.fromPretrained(out);
  const ids = tensor([[1, 2, 3]], { dtype: "int64" });
  assert.deepEqual(
    back.forward({ inputIds: ids }).logits.dataSync(),
    model.forward({ inputIds: ids }).logits.dataSync(),
  );
});

test("unknown config keys are kept and written back", async () => {
  const out = await tmp();
  const config = JSON.parse(await readFile(`${HF_TINY}models/llama/config.json`, "utf8"));
  config.my_extra_key = { nested: [1, 2] };
  await writeFile(`${out}/config.json`, JSON.stringify(config));
  await writeFile(`${out}/model.safetensors`, await readFile(`${HF_TINY}models/llama/model.safetensors`));
  const c = await AutoConfig.fromPretrained(out);
  assert.equal(c.constructor.name, "LlamaConfig");
  const model = await AutoModelForCausalLM.fromPretrained(out);
  const saved = await tmp();
  await model.savePretrained(saved);
  assert.deepEqual(JSON.parse(await readFile(`${saved}/config.json`, "utf8")).my_extra_key, { nested: [1, 2] });
});

test("an unsupported architecture is an error listing the supported types", async () => {
  // BERT is a supported family but has no causal-LM class.
  await assert.rejects(AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/bert`), (e: Error & { code?: string }) => {
    assert.equal(e.code, "HEARTH_MODEL_UNSUPPORTED");
    assert.match(e.message, /model type 'bert' has no class for this task/);
    assert.match(e.message, /gpt2, llama, mistral, qwen2/);
    return true;
  });
});

test("a missing weight names the parameter", async () => {
  const out = await tmp();
  await writeFile(`${out}/config.json`, await readFile(`${HF_TINY}models/llama/config.json`));
  const file = safeOpenSync(`${HF_TINY}models/llama/model.safetensors`);
  const tensors = new Map(
    file
      .keys()
      .filter((k) => k !== "model.layers.1.mlp.up_proj.weight")
      .map((k) => [k, file.raw(k)]),
  );
  await saveFile(tensors, `${out}/model.safetensors`);
  await assert.rejects(LlamaForCausalLM.fromPretrained(out), (e: Error & { code?: string }) => {
    assert.equal(e.code, "HEARTH_MODEL_MISSING_WEIGHT");
    assert.match(e.message, /model\.layers\.1\.mlp\.up_proj\.weight/);
    return true;
  });
});

test("a shape mismatch names the parameter and both shapes", async () => {
  const out = await tmp();
  const config = JSON.parse(await readFile(`${HF_TINY}models/gpt2/config.json`, "utf8"));
  config.n_positions = 32;
  await writeFile(`${out}/config.json`, JSON.stringify(config));
  await writeFile(`${out}/model.safetensors`, await readFile(`${HF_TINY}models/gpt2/model.safetensors`));
  await assert.rejects(GPT2LMHeadModel.fromPretrained(out), (e: Error & { code?: string }) => {
    assert.equal(e.code, "HEARTH_MODEL_SHAPE_MISMATCH");
    assert.match(e.message, /'transformer\.wpe\.weight'/);
    assert.match(e.message, /\[32, 64\]/);
    assert.match(e.message, /\[64, 64\]/);
    return true;
  });
});

test("a repository id goes through the installed resolver; without one the error says so", async () => {
  setModelResolver(null);
  await assert.rejects(AutoModel.fromPretrained("some-org/some-model"), /hub resolver was removed/);
  setModelResolver(async (repoId) => {
    assert.equal(repoId, "hf-tiny/gpt2");
    return `${HF_TINY}models/gpt2`;
  });
  try {
    const m = await AutoModel.fromPretrained("hf-tiny/gpt2");
    assert.equal(m.constructor.name, "GPT2Model");
  } finally {
    setModelResolver(hubSnapshotResolver);
  }
});

test("dtype: bfloat16 loads every float parameter as bfloat16 and still runs", async () => {
  const m = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/llama`, { dtype: "bfloat16" });
  assert.ok(m.parameters().every((p) => p.dtype === "bfloat16"));
  const out = m.forward({ inputIds: tensor([[5, 17, 42]], { dtype: "int64" }) });
  assert.deepEqual(out.logits.shape, [1, 3, 1000]);
});

test("qwen2: qkv biases, save and reload", async () => {
  const config = new Qwen2Config({
    vocab_size: 64,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  });
  const m = new Qwen2ForCausalLM(config);
  const sd = m.stateDict();
  assert.ok(sd["model.layers.0.self_attn.q_proj.bias"]);
  assert.ok(!sd["model.layers.0.self_attn.o_proj.bias"]);
  const out = await tmp();
  await m.savePretrained(out);
  const back = await AutoModelForCausalLM.fromPretrained(out);
  assert.equal(back.constructor.name, "Qwen2ForCausalLM");
  const ids = tensor([[1, 2, 3]], { dtype: "int64" });
  assert.deepEqual(
    back.forward({ inputIds: ids }).logits.dataSync(),
    m.eval().forward({ inputIds: ids }).logits.dataSync(),
  );
});

test("withoutInit builds modules without drawing random numbers, then restores the backend", async () => {
  const { getBackend, randn } = await import("@hearth/tensor");
  const { withoutInit } = await import("./no-init.ts");
  const before = getBackend().name;
  const t = withoutInit(() => randn([4]));
  assert.deepEqual([...(t.dataSync() as Float32Array)], [0, 0, 0, 0]);
  assert.equal(getBackend().name, before);
  assert.ok((randn([4]).dataSync() as Float32Array).some((x) => x !== 0));
});
