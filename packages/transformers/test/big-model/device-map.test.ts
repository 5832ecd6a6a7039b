/**
 * `fromPretrained(dir, { deviceMap, maxMemory })`: generated GPT-2 and Llama checkpoints whose
 * weights are 3× a memory cap generate the same tokens as the fully loaded models, with the
 * blocks that do not fit left in the memory-mapped file. A child process measures anonymous
 * resident memory (RssAnon: what the process holds itself, not file pages the kernel can drop).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { computeModuleSizes } from "@hearth/accelerate";
import { manualSeed, tensor } from "@hearth/tensor";
import {
  AutoModelForCausalLM,
  GPT2Config,
  GPT2LMHeadModel,
  LlamaConfig,
  LlamaForCausalLM,
  type PreTrainedModelForCausalLM,
} from "../../src/index.ts";
import { HF_TINY } from "../golden.ts";

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function child(dir: string, map: unknown, cap: number) {
  const out = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      join(import.meta.dirname, "offload-child.ts"),
      dir,
      JSON.stringify(map),
      String(cap),
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

async function greedy(model: PreTrainedModelForCausalLM): Promise<number[][]> {
  const ids = tensor([[3, 14, 15, 92, 65]], { dtype: "int64" });
  return (await model.generate(ids, { maxNewTokens: 8, doSample: false })).tolistSync() as number[][];
}

test("GPT-2 3× the memory cap: deviceMap auto generates the full model's tokens, holding about the cap", {
  timeout: 120_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-devmap-"));
  try {
    manualSeed(21);
    const cfg = { vocab_size: 256, n_positions: 32, n_embd: 256, n_layer: 8, n_head: 4 };
    const model = new GPT2LMHeadModel(new GPT2Config(cfg)).eval();
    await model.savePretrained(dir);
    const total = computeModuleSizes(model).get("") as number;
    const cap = Math.floor(total / 3);
    const expected = await greedy(model);
    assert.deepEqual(
      await greedy((await AutoModelForCausalLM.fromPretrained(dir)) as PreTrainedModelForCausalLM),
      expected,
    );
    const off = child(dir, "auto", cap);
    const allDisk = child(dir, "auto", 1); // the process's own memory without any weights copied in
    const allCpu = child(dir, "auto", total * 2);
    t.diagnostic(
      `weights ${mib(total)}, cap ${mib(cap)}; RssAnon growth after loading (peak while generating): all on disk +${mib(allDisk.loadGrowth)} (+${mib(allDisk.growth)}), capped +${mib(off.loadGrowth)} (+${mib(off.growth)}), all in memory +${mib(allCpu.loadGrowth)} (+${mib(allCpu.growth)})`,
    );
    for (const run of [off, allDisk, allCpu]) assert.deepEqual(run.tokens, expected);
    const disk = Object.entries(off.deviceMap as Record<string, string>).filter(([, d]) => d === "disk");
    assert.ok(disk.length >= 4, `blocks left on disk: ${JSON.stringify(off.deviceMap)}`);
    // whole blocks: the map names transformer.h.N, never a part of a block
    for (const [k] of disk) assert.match(k, /^(transformer\.h\.\d+|transformer\.ln_f)$/);
    assert.ok(Object.values(allCpu.deviceMap).every((d) => d === "cpu"));
    // the measure can tell: loading copies in about the model when everything fits, about the
    // cap when it does not, and nothing when everything stays on disk
    assert.ok(allCpu.loadGrowth > 0.6 * total, `all in memory held only ${mib(allCpu.loadGrowth)}`);
    assert.ok(
      off.loadGrowth < cap + total / 10,
      `the capped load held ${mib(off.loadGrowth)} for a cap of ${mib(cap)}`,
    );
    assert.ok(allDisk.loadGrowth < total / 10, `the all-on-disk load held ${mib(allDisk.loadGrowth)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("Llama with an explicit device map (tied embeddings kept in memory) generates the full model's tokens", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-devmap-"));
  try {
    manualSeed(22);
    const config = new LlamaConfig({
      vocab_size: 128,
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 64,
      tie_word_embeddings: true,
    });
    const model = new LlamaForCausalLM(config).eval();
    await model.savePretrained(dir);
    const expected = await greedy(model);
    // the embedding is asked for "disk", but the tied head reads it outside its forward: it stays in memory
    const deviceMap = { "model.embed_tokens": "disk", "model.layers.0": "cpu", "model.layers.1": "disk", "": "disk" };
    const loaded = (await AutoModelForCausalLM.fromPretrained(dir, { deviceMap })) as PreTrainedModelForCausalLM;
    assert.ok(loaded instanceof LlamaForCausalLM);
    assert.equal(loaded.hfDeviceMap?.["model.embed_tokens"], "cpu");
    assert.equal(loaded.hfDeviceMap?.["model.layers.1"], "disk");
    assert.deepEqual(await greedy(loaded), expected);
    await assert.rejects(
      AutoModelForCausalLM.fromPretrained(dir, { deviceMap: { "model.layers": "cuda:0", "": "cpu" } }),
      { code: "HEARTH_ACCELERATE_DEVICE_MAP" },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("dtype with a device map: bfloat16 weights, half the bytes budgeted, the tokens of the bf16 full load", async () => {
  const dir = `${HF_TINY}models/gpt2`;
  const full = (await AutoModelForCausalLM.fromPretrained(dir, { dtype: "bfloat16" })) as PreTrainedModelForCausalLM;
  const total = computeModuleSizes(full).get("") as number;
  const mapped = (await AutoModelForCausalLM.fromPretrained(dir, {
    dtype: "bfloat16",
    deviceMap: "auto",
    maxMemory: { cpu: Math.floor(total / 2) },
  })) as PreTrainedModelForCausalLM;
  assert.equal(mapped.dtype, "bfloat16");
  assert.ok(Object.values(mapped.hfDeviceMap ?? {}).includes("disk"), JSON.stringify(mapped.hfDeviceMap));
  assert.deepEqual(await greedy(mapped), await greedy(full));
});
