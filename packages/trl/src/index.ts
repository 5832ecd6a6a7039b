export { LABEL_PAD_TOKEN_ID, sequenceLogps, tokenLogps } from "./core/logps.ts";
export { MetricStore, type Objective, ObjectiveModule } from "./core/objective.ts";
export { type SampleOptions, type SamplingModel, sampleCompletions } from "./core/sampling.ts";
export {
  dpoCollator,
  type Message,
  type PairFeature,
  splitImplicitPrompt,
  type TokenizePairOptions,
  tokenizePair,
} from "./dpo/dpo-data.ts";
export {
  DPO_LOSS_TYPES,
  type DPOLossOptions,
  type DPOLossOutput,
  type DPOLossType,
  dpoLoss,
  type PairLogps,
  resolveDpoOptions,
} from "./dpo/dpo-loss.ts";
export {
  type ConcatenatedOutput,
  concatenatedForward,
  DPOConfig,
  type DPOConfigOptions,
  type DPOReference,
  type DPOStepOptions,
  type DPOStepOutput,
  DPOTrainer,
  type DPOTrainerOptions,
  dpoStep,
  referenceLogps,
} from "./dpo/dpo-trainer.ts";
export { type ErrorCode, ErrorCodes, HearthTrlError } from "./errors.ts";
export {
  GRPOConfig,
  type GRPOConfigOptions,
  GRPOTrainer,
  type GRPOTrainerOptions,
  groupAdvantages,
  type RewardFunction,
  type RewardInput,
} from "./grpo/grpo-trainer.ts";
export {
  gae,
  PPOConfig,
  type PPOConfigOptions,
  PPOTrainer,
  type PPOTrainerOptions,
  ValueHead,
} from "./ppo/ppo-trainer.ts";
export {
  bradleyTerryLoss,
  type RewardFeature,
  RewardTrainer,
  type RewardTrainerOptions,
  rewardCollator,
} from "./reward/reward-trainer.ts";
export {
  packFeatures,
  SFTConfig,
  type SFTConfigOptions,
  type SFTFeature,
  SFTTrainer,
  type SFTTrainerOptions,
  sftCollator,
  tokenizeSft,
} from "./sft/sft-trainer.ts";
