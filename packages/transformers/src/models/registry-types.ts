/** What one registry entry says about a model family. */
import type { ConfigClass } from "../configuration/pretrained-config.ts";
import type { ModelClass } from "../modeling/pretrained-model.ts";

/** The tasks an Auto class can ask for (`AutoModel` → "model", `AutoModelForCausalLM` → "causalLM"). */
export type TaskName =
  | "model"
  | "causalLM"
  | "maskedLM"
  | "sequenceClassification"
  | "tokenClassification"
  | "imageClassification"
  | "speechSeq2Seq";

/** A family: its `model_type`, config class and one model class per supported task. */
export interface ModelFamily {
  modelType: string;
  config: ConfigClass;
  tasks: Partial<Record<TaskName, ModelClass>>;
}
