/** LoRA layers and the PeftModel API on the hf-tiny GPT-2 and Llama. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Linear, manualSeed, matmul, mul, randn, sum, type Tensor, tensor, transpose } from "@hearth/tensor";
import { AutoModelForCausalLM, Conv1D, type PreTrainedModelForCausalLM } from "@hearth/transformers";
import { ErrorCodes, getPeftModel, LoraConfig, LoraEmbedding, LoraLinear, PeftModel } from "../src/index.ts";
import { HF_TINY, maxDiff, trainOnSequence } from "./helpers.ts";

const ids = () => tensor([[5, 17, 42, 99, 123, 7, 256, 511]], { dtype: "int64" });
const load = (name: string) => AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
const logits = (m: { forward(x: unknown): { logits: import("@hearth/tensor").Tensor } }) =>
  m.forward({ inputIds: ids() }).logits;

for (const [name, targets, variant] of [
  ["llama", ["q_proj", "v_proj", "down_proj", "embed_tokens"], { useRslora: true }],
  ["llama", ["q_proj", "o_proj"], { useDora: true }],
  ["gpt2", ["c_attn", "c_fc"], { useDora: true }],
  ["gpt2", ["c_attn", "mlp.c_proj"], {}],
] as const) {
  test(`${name} ${JSON.stringify(variant)}: mergeAndUnload gives the same logits as the adapter layers`, async () => {
    manualSeed(5);
    const m = getPeftModel(
      await load(name),
      new LoraConfig({ r: 4, loraAlpha: 16, targetModules: [...targets], initLoraWeights: false, ...variant }),
    );
    const base = m.disableAdapter(() => logits(m));
    const withAdapter = logits(m);
    assert.ok(maxDiff(base, withAdapter) > 1e-2, "the adapter changes the output");
    const merged = m.mergeAndUnload();
    assert.ok(maxDiff(logits(merged), withAdapter) < 1e-4, `merged vs adapter ${maxDiff(logits(merged), withAdapter)}`);
    assert.ok(!merged.namedParameters().some(([n]) => n.includes("lora_")));
  });
}

test("targets by regex, scaling (plain and rsLoRA), Conv1D gets fanInFanOut, trainable counts", async () => {
  const m = getPeftModel(
    await load("llama"),
    new LoraConfig({ r: 4, loraAlpha: 8, targetModules: String.raw`.*\.0\.self_attn\.(q|v)_proj` }),
  );
  const wrapped = [...m.model.namedModules()].filter(([, x]) => x instanceof LoraLinear).map(([n]) => n);
  assert.deepEqual(wrapped, ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"]);
  assert.equal((m.loraLayers()[0] as LoraLinear).scaling.get("default"), 2);
  // q: 64 → 64, v: 64 → 32 (GQA)
  assert.equal(m.getNbTrainableParameters().trainable, 4 * (64 + 64) + 4 * (64 + 32));
  assert.match(
    m.printTrainableParameters(),
    /^trainable params: 896 \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/,
  );
  const rs = getPeftModel(
    await load("llama"),
    new LoraConfig({ r: 16, loraAlpha: 8, targetModules: ["q_proj"], useRslora: true }),
  );
  assert.equal((rs.loraLayers()[0] as LoraLinear).scaling.get("default"), 2);
  const g = getPeftModel(await load("gpt2"), new LoraConfig({ targetModules: ["c_attn"] }));
  assert.equal((g.config as LoraConfig).fanInFanOut, true);
  const e = getPeftModel(await load("llama"), new LoraConfig({ targetModules: ["embed_tokens"] }));
  assert.ok(e.loraLayers()[0] instanceof LoraEmbedding);
});

test("default init leaves the output unchanged; a training step moves only the adapter weights", async () => {
  manualSeed(2);
  const base = await load("gpt2");
  const before = logits(base);
  const m = getPeftModel(base, new LoraConfig({ r: 4, targetModules: ["c_attn", "c_proj"], loraDropout: 0.1 }));
  assert.equal(maxDiff(logits(m), before), 0, "B starts at zero");
  const snapshot = new Map(m.namedParameters().map(([n, p]) => [n, (p.dataSync() as Float32Array).slice()]));
  const trainable = m.parameters().filter((p) => p.requiresGrad);
  trainOnSequence(m, trainable, ids, { steps: 3, lr: 1e-2 });
  for (const [n, p] of m.namedParameters()) {
    const changed = maxDiff(p, tensor(snapshot.get(n) as Float32Array, { shape: [...p.shape] })) > 0;
    if (n.includes(".lora_B.") || n.includes(".lora_A.")) assert.ok(changed, `${n} trained`);
    else assert.ok(!changed, `${n} frozen`);
  }
});

test("several adapters: setAdapter switches, disableAdapter is scoped (also on throw), deleteAdapter, unload restores", async () => {
  manualSeed(4);
  const base = await load("llama");
  const original = logits(base);
  const m = getPeftModel(base, new LoraConfig({ r: 2, targetModules: ["q_proj"], initLoraWeights: false }));
  m.addAdapter("second", new LoraConfig({ r: 3, targetModules: ["v_proj", "q_proj"], initLoraWeights: false }));
  const first = logits(m);
  m.setAdapter("second");
  const second = logits(m);
  assert.ok(maxDiff(first, second) > 1e-3);
  assert.ok(
    m
      .namedParameters()
      .filter(([, p]) => p.requiresGrad)
      .every(([n]) => n.includes(".second")),
    "only the active adapter trains",
  );
  assert.throws(
    () =>
      m.disableAdapter(() => {
        assert.equal(maxDiff(logits(m), original), 0);
        throw new Error("inside");
      }),
    /inside/,
  );
  assert.equal(maxDiff(logits(m), second), 0, "re-enabled after the throw");
  await m.disableAdapter(async () => {
    await Promise.resolve();
    assert.equal(maxDiff(logits(m), original), 0);
  });
  assert.throws(() => m.setAdapter("nope"), { code: ErrorCodes.ADAPTER_NAME });
  assert.throws(() => m.addAdapter("second", new LoraConfig({ targetModules: ["q_proj"] })), {
    code: ErrorCodes.ADAPTER_NAME,
  });
  m.deleteAdapter("second");
  assert.equal(m.activeAdapter, "default");
  assert.equal(maxDiff(logits(m), first), 0);
  assert.throws(() => m.deleteAdapter("default"), { code: ErrorCodes.ADAPTER_NAME });
  const restored = m.unload();
  assert.equal(maxDiff(logits(restored), original), 0);
});

test("modulesToSave trains a copy of the module and saves it under PEFT's key", async () => {
  manualSeed(6);
  const m = getPeftModel(
    await load("llama"),
    new LoraConfig({ r: 2, targetModules: ["q_proj"], modulesToSave: ["lm_head"] }),
  );
  const names = m
    .namedParameters()
    .filter(([, p]) => p.requiresGrad)
    .map(([n]) => n);
  assert.ok(names.includes("base_model.model.lm_head.modules_to_save.default.weight"), names.join(", "));
  assert.ok(!names.includes("base_model.model.lm_head.original_module.weight"));
  const keys = Object.keys(m.adapterStateDict());
  assert.ok(keys.includes("base_model.model.lm_head.weight"), keys.join(", "));
  const dir = await mkdtemp(join(tmpdir(), "hearth-mts-"));
  try {
    await m.savePretrained(dir);
    const again = await PeftModel.fromPretrained(await load("llama"), dir);
    assert.equal(maxDiff(logits(again), logits(m)), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("DoRA saves the magnitude vector under PEFT 0.10's key", async () => {
  const m = getPeftModel(await load("llama"), new LoraConfig({ r: 2, targetModules: ["q_proj"], useDora: true }));
  const keys = Object.keys(m.adapterStateDict());
  assert.ok(keys.includes("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"), keys.join(", "));
});

test("targets that match nothing, or a module LoRA cannot wrap, are coded errors", async () => {
  const base = (await load("gpt2")) as PreTrainedModelForCausalLM;
  assert.throws(() => getPeftModel(base, new LoraConfig({ targetModules: ["nope"] })), {
    code: ErrorCodes.TARGET_NOT_FOUND,
  });
  assert.throws(() => getPeftModel(base, new LoraConfig({ targetModules: ["ln_1"] })), {
    code: ErrorCodes.TARGET_NOT_FOUND,
  });
  assert.throws(() => new LoraConfig({ r: 0 }), { code: ErrorCodes.CONFIG_INVALID });
});

test("LoraLinear's forward and gradients equal the update product taking the base output as its residual", () => {
  // The first plain adapter's update is now the base product's residual; this is the form it
  // replaced: base(x) as the residual of each adapter's update product, in turn.
  manualSeed(11);
  const spec = { r: 3, alpha: 6, dropout: 0, useRslora: false, useDora: false, init: false as const };
  for (const base of [new Linear(37, 29), new Conv1D(29, 37)]) {
    const layer = new LoraLinear(base);
    layer.updateLayer("one", spec);
    layer.updateLayer("two", { ...spec, r: 5, alpha: 7 });
    for (const active of [["one"], ["one", "two"]]) {
      layer.activeAdapters = active;
      const x = randn([2, 9, 37], { requiresGrad: true });
      const g = randn([2, 9, 29]);
      const run = (forward: () => Tensor) => {
        const params = [x, ...layer.parameters().filter((p) => p.requiresGrad)];
        for (const p of params) p.grad = null;
        const out = forward();
        sum(mul(out, g)).backward();
        // an inactive adapter's weights get no gradient
        return [out, ...params.map((p) => p.grad)].map((t) =>
          t ? Array.from(t.contiguous().dataSync() as Float32Array) : null,
        );
      };
      const fused = run(() => layer.forward(x));
      const separate = run(() => {
        let out = layer.base_layer.forward(x);
        for (const name of active) {
          const A = layer.lora_A.module(name) as Linear;
          const B = layer.lora_B.module(name) as Linear;
          const u = mul(A.forward(x), layer.scaling.get(name) as number);
          out = matmul(u, transpose(B.weight, 0, 1), { residual: out });
        }
        return out;
      });
      const what = `${base.constructor.name} with ${active.join(", ")}`;
      if (active.length === 1) assert.deepEqual(fused, separate, what);
      else {
        // x's gradient sums three contributions, now in another order: equal up to rounding
        assert.deepEqual(fused[0], separate[0], `${what}: output`);
        assert.deepEqual(fused.slice(2), separate.slice(2), `${what}: weight gradients`);
        const [a, b] = [fused[1], separate[1]] as number[][];
        assert.ok(
          a.every((v, i) => Math.abs(v - (b[i] as number)) <= 1e-6 * Math.max(1, Math.abs(v))),
          `${what}: dx`,
        );
      }
    }
  }
});
