export { BertConfig } from "./config.ts";
export {
  BertAttention,
  BertEmbeddings,
  BertEncoder,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertIntermediate,
  BertLayer,
  BertLMPredictionHead,
  BertModel,
  BertOnlyMLMHead,
  BertPooler,
  BertPredictionHeadTransform,
  BertResidualOutput,
  BertSelfAttention,
  checkTextInput,
  firstToken,
} from "./modeling.ts";
export { BERT_IGNORED_KEYS, BERT_MLM_IGNORED_KEYS, BERT_MLM_TIED_WEIGHTS, BERT_POOLER_KEYS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { BertConfig } from "./config.ts";
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, BertModel } from "./modeling.ts";

/** BERT's registry entry. */
export const bertFamily: ModelFamily = {
  modelType: "bert",
  config: BertConfig,
  tasks: {
    model: BertModel,
    maskedLM: BertForMaskedLM,
    sequenceClassification: BertForSequenceClassification,
    tokenClassification: BertForTokenClassification,
  },
};
