export { ViTConfig } from "./config.ts";
export {
  ViTAttention,
  ViTDense,
  ViTEmbeddings,
  ViTEncoder,
  ViTForImageClassification,
  type ViTInput,
  ViTLayer,
  ViTModel,
  ViTPatchEmbeddings,
  ViTSelfAttention,
} from "./modeling.ts";
export { bicubicMatrix, interpolatePositions } from "./position-interpolation.ts";
export { ViTImageProcessor } from "./processor.ts";
export { VIT_CLASSIFIER_IGNORED_KEYS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { ViTConfig } from "./config.ts";
import { ViTForImageClassification, ViTModel } from "./modeling.ts";
import { ViTImageProcessor } from "./processor.ts";

/** ViT's registry entry. */
export const vitFamily: ModelFamily = {
  modelType: "vit",
  config: ViTConfig,
  tasks: { model: ViTModel, imageClassification: ViTForImageClassification },
  processors: { ViTImageProcessor },
};
