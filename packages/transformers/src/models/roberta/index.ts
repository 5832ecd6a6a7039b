export { RobertaConfig } from "./config.ts";
export {
  RobertaClassificationHead,
  RobertaEmbeddings,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  RobertaLMHead,
  RobertaModel,
  robertaPositions,
} from "./modeling.ts";
export { ROBERTA_IGNORED_KEYS, ROBERTA_MLM_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { RobertaConfig } from "./config.ts";
import {
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  RobertaModel,
} from "./modeling.ts";

/** RoBERTa's registry entry. */
export const robertaFamily: ModelFamily = {
  modelType: "roberta",
  config: RobertaConfig,
  tasks: {
    model: RobertaModel,
    maskedLM: RobertaForMaskedLM,
    sequenceClassification: RobertaForSequenceClassification,
    tokenClassification: RobertaForTokenClassification,
  },
};
