/**
 * trl 0.8.6's DPO losses on fixed log-probs (goldens/trl-dpo.json "fixed_logps_results"):
 * every loss type's per-example losses, their mean, the rewards and the reward metrics, within 1e-5.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { type DPOLossType, dpoLoss, ErrorCodes } from "../src/index.ts";
import { assertClose, loadGolden } from "./helpers.ts";

const g = loadGolden("trl-dpo");
const inputs = g.json.fixed_logps_inputs as Record<string, number[]>;
const logps = () => ({
  policyChosenLogps: tensor(inputs.policy_chosen_logps as number[]),
  policyRejectedLogps: tensor(inputs.policy_rejected_logps as number[]),
  referenceChosenLogps: tensor(inputs.reference_chosen_logps as number[]),
  referenceRejectedLogps: tensor(inputs.reference_rejected_logps as number[]),
});

interface Case {
  params: { loss_type: DPOLossType; beta: number; label_smoothing: number; reference_free: boolean };
  losses: number[];
  loss_mean: number;
  chosen_rewards: number[];
  rejected_rewards: number[];
  reward_accuracies_mean: number;
  reward_margins_mean: number;
}

const cases = Object.entries(g.json.fixed_logps_results as Record<string, Case>);
test("the golden covers sigmoid, label smoothing, reference-free, hinge, ipo and kto_pair", () => {
  const names = cases.map(([n]) => n);
  for (const t of ["sigmoid", "hinge", "ipo", "kto_pair"])
    assert.ok(
      names.some((n) => n.startsWith(t)),
      t,
    );
  assert.ok(cases.some(([, c]) => c.params.label_smoothing > 0) && cases.some(([, c]) => c.params.reference_free));
});

for (const [name, c] of cases) {
  test(`dpoLoss ${name}: per-example losses, mean, rewards and reward metrics match trl 0.8.6 within 1e-5`, () => {
    const out = dpoLoss(logps(), {
      lossType: c.params.loss_type,
      beta: c.params.beta,
      labelSmoothing: c.params.label_smoothing,
      referenceFree: c.params.reference_free,
    });
    assertClose(out.losses, c.losses, `${name} losses`);
    assertClose(out.losses.mean().item(), c.loss_mean, `${name} mean`);
    assertClose(out.chosenRewards, c.chosen_rewards, `${name} chosen rewards`);
    assertClose(out.rejectedRewards, c.rejected_rewards, `${name} rejected rewards`);
    assertClose(out.chosenRewards.gt(out.rejectedRewards).to("float32").mean().item(), c.reward_accuracies_mean, "acc");
    assertClose(out.chosenRewards.sub(out.rejectedRewards).mean().item(), c.reward_margins_mean, "margins");
    assert.equal(out.chosenRewards.requiresGrad, false, "rewards are detached");
  });
}

test("robust DPO: ε = 0 equals sigmoid; ε > 0 is the unbiased de-noised loss", () => {
  const plain = dpoLoss(logps(), { lossType: "sigmoid" }).losses.dataSync() as Float32Array;
  assertClose(dpoLoss(logps(), { lossType: "robust" }).losses, plain, "robust ε=0");
  const eps = 0.2;
  const robust = dpoLoss(logps(), { lossType: "robust", labelSmoothing: eps }).losses.dataSync() as Float32Array;
  const flipped = dpoLoss(
    {
      policyChosenLogps: tensor(inputs.policy_rejected_logps as number[]),
      policyRejectedLogps: tensor(inputs.policy_chosen_logps as number[]),
      referenceChosenLogps: tensor(inputs.reference_rejected_logps as number[]),
      referenceRejectedLogps: tensor(inputs.reference_chosen_logps as number[]),
    },
    { lossType: "sigmoid" },
  ).losses.dataSync() as Float32Array;
  // ((1−ε)·L(y) − ε·L(flip)) / (1 − 2ε)
  const want = Array.from(plain, (l, i) => ((1 - eps) * l - eps * (flipped[i] as number)) / (1 - 2 * eps));
  assertClose(robust, want, "robust ε=0.2");
});

test("dpoLoss rejects unknown loss types, β ≤ 0 and ε ≥ 0.5 with HEARTH_TRL_CONFIG_INVALID", () => {
  for (const o of [{ lossType: "nope" as DPOLossType }, { beta: 0 }, { labelSmoothing: 0.5 }]) {
    assert.throws(() => dpoLoss(logps(), o), { code: ErrorCodes.CONFIG_INVALID });
  }
});
