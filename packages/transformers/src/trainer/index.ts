export {
  EarlyStoppingCallback,
  ProgressCallback,
  type TrainerCallback,
  type TrainerControl,
  type TrainerState,
} from "./callbacks.ts";
export { getLastCheckpoint, listCheckpoints } from "./checkpoint.ts";
export {
  type Batch,
  type DataCollator,
  dataCollatorForLanguageModeling,
  dataCollatorWithPadding,
  type Feature,
  type PaddingOptions,
} from "./data-collator.ts";
export {
  type EvalPrediction,
  type TrainableModel,
  Trainer,
  type TrainerDataset,
  type TrainerOptions,
  type TrainOutput,
} from "./trainer.ts";
export {
  type IntervalStrategy,
  type SchedulerType,
  TrainingArguments,
  type TrainingArgumentsOptions,
} from "./training-args.ts";
