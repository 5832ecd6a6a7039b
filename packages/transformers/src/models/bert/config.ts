/** `BertConfig`: the keys of a BERT `config.json`, with Python's defaults (BERT-base). */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";

/**
 * BERT's configuration. `id2label`/`label2id`/`num_labels` and `problem_type` drive the
 * classification heads.
 *
 * @example
 * const config = new BertConfig({ num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4 });
 */
export class BertConfig extends PretrainedConfig {
  static override readonly modelType: string = "bert";
  static override readonly defaults: Record<string, unknown> = {
    vocab_size: 30522,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: "absolute",
    classifier_dropout: null,
    tie_word_embeddings: true,
  };

  declare vocab_size: number;
  declare hidden_size: number;
  declare num_hidden_layers: number;
  declare num_attention_heads: number;
  declare intermediate_size: number;
  declare hidden_act: string;
  declare hidden_dropout_prob: number;
  declare attention_probs_dropout_prob: number;
  declare max_position_embeddings: number;
  declare type_vocab_size: number;
  declare initializer_range: number;
  declare layer_norm_eps: number;
  declare position_embedding_type: string;
  declare classifier_dropout: number | null;
  declare problem_type?: string | null;
  declare id2label?: Record<string, string>;
  declare label2id?: Record<string, number>;
}
