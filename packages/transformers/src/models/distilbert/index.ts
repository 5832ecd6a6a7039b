export { DistilBertConfig } from "./config.ts";
export {
  DistilBertEmbeddings,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  DistilBertModel,
  DistilBertTransformer,
  FFN,
  MultiHeadSelfAttention,
  TiedProjection,
  TransformerBlock,
} from "./modeling.ts";
export { DISTILBERT_MLM_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { DistilBertConfig } from "./config.ts";
import {
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  DistilBertModel,
} from "./modeling.ts";

/** DistilBERT's registry entry. */
export const distilbertFamily: ModelFamily = {
  modelType: "distilbert",
  config: DistilBertConfig,
  tasks: {
    model: DistilBertModel,
    maskedLM: DistilBertForMaskedLM,
    sequenceClassification: DistilBertForSequenceClassification,
    tokenClassification: DistilBertForTokenClassification,
  },
};
