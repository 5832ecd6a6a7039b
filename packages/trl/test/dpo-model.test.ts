/**
 * The full DPO batch path against trl 0.8.6 (goldens/trl-dpo.json "model_results"): hf-tiny
 * gpt2 + the gpt2-lora adapter as policy, the same model with the adapter disabled as reference
 * (no second copy), the concatenated batch, every loss type's loss, per-example values, logged
 * metrics, and the LoRA gradients of the sigmoid loss, within 1e-5.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PeftModel } from "@hearth/peft";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { type DPOLossType, dpoCollator, dpoStep, tokenizePair } from "../src/index.ts";
import { assertClose, HF_TINY, loadGolden } from "./helpers.ts";

const g = loadGolden("trl-dpo");
const pairs = g.json.pairs_prompt_chosen_rejected as number[][][];
const features = pairs.map(([p, c, r]) =>
  tokenizePair(
    {
      prompt_input_ids: p,
      chosen_input_ids: [...(p as number[]), ...(c as number[])],
      rejected_input_ids: [...(p as number[]), ...(r as number[])],
    },
    null,
  ),
);
const batch = () => dpoCollator({ padTokenId: 0 })(features as never);

async function policy(): Promise<PeftModel> {
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
  const m = await PeftModel.fromPretrained(base, `${HF_TINY}models/gpt2-lora`, { isTrainable: true });
  m.eval();
  return m;
}

test("dpoCollator builds trl's concatenated batch (chosen rows first, prompt and padding labelled −100)", () => {
  const b = batch();
  const want = g.json.concatenated_batch as Record<string, number[][]>;
  assert.deepEqual(b.inputIds.tolistSync(), want.concatenated_input_ids);
  assert.deepEqual(b.attentionMask.tolistSync(), want.concatenated_attention_mask);
  assert.deepEqual(b.labels?.tolistSync(), want.concatenated_labels);
});

interface ModelCase {
  params: { loss_type: DPOLossType; beta: number; label_smoothing: number; reference_free: boolean };
  loss: number;
  metrics: Record<string, number>;
  policy_chosen_logps: number[];
  policy_rejected_logps: number[];
  reference_chosen_logps: number[];
  reference_rejected_logps: number[];
  losses: number[];
  chosen_rewards: number[];
  rejected_rewards: number[];
  grad_params?: string[];
}

test("dpoStep on gpt2 + LoRA (reference = adapter disabled): every loss type, metrics and LoRA gradients match trl", async () => {
  const m = await policy();
  const named = new Map(m.namedParameters());
  for (const [name, c] of Object.entries(g.json.model_results as Record<string, ModelCase>)) {
    m.zeroGrad();
    const out = dpoStep(m, batch() as never, {
      lossType: c.params.loss_type,
      beta: c.params.beta,
      labelSmoothing: c.params.label_smoothing,
      referenceFree: c.params.reference_free,
      reference: "adapter-disabled",
    });
    assertClose(out.policyChosenLogps, c.policy_chosen_logps, `${name} policy chosen logps`);
    assertClose(out.policyRejectedLogps, c.policy_rejected_logps, `${name} policy rejected logps`);
    assertClose(out.referenceChosenLogps, c.reference_chosen_logps, `${name} reference chosen logps`);
    assertClose(out.referenceRejectedLogps, c.reference_rejected_logps, `${name} reference rejected logps`);
    assertClose(out.losses, c.losses, `${name} losses`);
    assertClose(out.loss.item(), c.loss, `${name} loss`);
    assertClose(out.chosenRewards, c.chosen_rewards, `${name} chosen rewards`);
    assertClose(out.rejectedRewards, c.rejected_rewards, `${name} rejected rewards`);
    assert.deepEqual(Object.keys(out.metrics).sort(), Object.keys(c.metrics).sort());
    for (const [k, v] of Object.entries(c.metrics)) assertClose(out.metrics[k] as number, v, `${name} ${k}`);
    if (!c.grad_params) continue;
    out.loss.backward();
    for (const p of c.grad_params) {
      const param = named.get(p);
      assert.ok(param?.grad, `${p} has a gradient`);
      assertClose(param.grad, g.tensor(`grad.${p}`), `grad ${p}`);
    }
    // only adapter weights are trainable: the reference pass (adapter disabled) leaves no gradient
    for (const [n, p] of named) if (!n.includes("lora_")) assert.equal(p.grad ?? null, null, `${n} has no gradient`);
  }
});
