/**
 * The DPO family of preference losses on sequence log-probabilities, as trl 0.8.6's
 * `DPOTrainer.dpo_loss` computes them (per-example losses; the trainer takes their mean).
 *
 * logits = (π_c − π_r) − (ref_c − ref_r)        (the reference part is 0 when referenceFree)
 * - sigmoid  (DPO, Rafailov et al. 2023; with label smoothing ε = cDPO):
 *            −logσ(βl)(1−ε) − logσ(−βl)ε
 * - robust   (Chowdhury et al. 2024): (−logσ(βl)(1−ε) + logσ(−βl)ε) / (1 − 2ε)
 * - hinge    (SLiC): relu(1 − βl)
 * - ipo      (Azar et al. 2023): (l − 1/(2β))², on per-token averaged log-probs
 * - kto_pair (HALOs eq. 7): the chosen half 1 − σ(β(Δ_c − KL_r)), the rejected half
 *            1 − σ(β(KL_c − Δ_r)), with KL_x = max(0, mean Δ_x) over the batch; 2B losses
 * Rewards are always β(π − ref), detached.
 */
import { cat, noGrad, relu, sigmoid, softplus, type Tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";

/** The loss types of trl's `DPOConfig.loss_type` that Hearth implements. */
export const DPO_LOSS_TYPES = ["sigmoid", "robust", "hinge", "ipo", "kto_pair"] as const;
export type DPOLossType = (typeof DPO_LOSS_TYPES)[number];

/** Options of {@link dpoLoss}. */
export interface DPOLossOptions {
  beta?: number;
  lossType?: DPOLossType;
  /** ε of cDPO / robust DPO, in [0, 0.5). */
  labelSmoothing?: number;
  /** Ignore the reference model in the logits (an implicit uniform reference). */
  referenceFree?: boolean;
}

/** Sequence log-probabilities, each `[B]`. */
export interface PairLogps {
  policyChosenLogps: Tensor;
  policyRejectedLogps: Tensor;
  referenceChosenLogps: Tensor;
  referenceRejectedLogps: Tensor;
}

/** What {@link dpoLoss} returns: per-example `losses` (2B for kto_pair) and detached rewards. */
export interface DPOLossOutput {
  losses: Tensor;
  chosenRewards: Tensor;
  rejectedRewards: Tensor;
}

/** Checks `o` and fills in trl's defaults (β 0.1, sigmoid, ε 0). */
export function resolveDpoOptions(o: DPOLossOptions = {}): Required<DPOLossOptions> {
  const beta = o.beta ?? 0.1;
  const lossType = o.lossType ?? "sigmoid";
  const labelSmoothing = o.labelSmoothing ?? 0;
  if (!(beta > 0)) throw fail(ErrorCodes.CONFIG_INVALID, `dpoLoss: 'beta' must be > 0, got ${beta}`);
  if (!DPO_LOSS_TYPES.includes(lossType)) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      `dpoLoss: 'lossType' must be one of ${DPO_LOSS_TYPES.join(", ")}, got ${JSON.stringify(lossType)}`,
    );
  }
  if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
    throw fail(ErrorCodes.CONFIG_INVALID, `dpoLoss: 'labelSmoothing' must be in [0, 0.5), got ${labelSmoothing}`);
  }
  return { beta, lossType, labelSmoothing, referenceFree: o.referenceFree ?? false };
}

/** log σ(x) = −softplus(−x), stable for large |x|. */
const logSigmoid = (x: Tensor): Tensor => softplus(x.neg()).neg();

/**
 * Per-example DPO losses and rewards.
 *
 * @example
 * const { losses, chosenRewards } = dpoLoss(logps, { beta: 0.1, lossType: "sigmoid" });
 * const loss = losses.mean();
 */
export function dpoLoss(l: PairLogps, options: DPOLossOptions = {}): DPOLossOutput {
  const { beta, lossType, labelSmoothing: ls, referenceFree } = resolveDpoOptions(options);
  const chosenRatio = l.policyChosenLogps.sub(l.referenceChosenLogps);
  const rejectedRatio = l.policyRejectedLogps.sub(l.referenceRejectedLogps);
  const piLogratios = l.policyChosenLogps.sub(l.policyRejectedLogps);
  const logits = referenceFree ? piLogratios : piLogratios.sub(l.referenceChosenLogps.sub(l.referenceRejectedLogps));
  let losses: Tensor;
  switch (lossType) {
    case "sigmoid":
      losses = logSigmoid(logits.mul(beta))
        .mul(-(1 - ls))
        .sub(logSigmoid(logits.mul(-beta)).mul(ls));
      break;
    case "robust":
      losses = logSigmoid(logits.mul(beta))
        .mul(-(1 - ls))
        .add(logSigmoid(logits.mul(-beta)).mul(ls))
        .div(1 - 2 * ls);
      break;
    case "hinge":
      losses = relu(logits.mul(-beta).add(1));
      break;
    case "ipo":
      losses = logits.sub(1 / (2 * beta)).pow(2);
      break;
    case "kto_pair": {
      // the KL estimates are batch means clamped at 0 (trl clamps, so no gradient below 0)
      const chosenKL = chosenRatio.mean().clamp(0);
      const rejectedKL = rejectedRatio.mean().clamp(0);
      losses = cat(
        [
          sigmoid(chosenRatio.sub(rejectedKL).mul(beta)).neg().add(1),
          sigmoid(chosenKL.sub(rejectedRatio).mul(beta)).neg().add(1),
        ],
        0,
      );
      break;
    }
  }
  const [chosenRewards, rejectedRewards] = noGrad(() => [chosenRatio.mul(beta), rejectedRatio.mul(beta)]) as [
    Tensor,
    Tensor,
  ];
  return { losses, chosenRewards, rejectedRewards };
}
